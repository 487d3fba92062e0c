/**
 * MsgpackPeer: the request/response bookkeeping of one msgpack_experimental_v7 connection,
 * identical on the master and the worker side. It owns no socket: the caller feeds it every
 * binary frame with `receive` and gives it a `send` function.
 *
 * State:
 * - `nextSeq`: the seq_number of our next request (starts at 0, +1 per request);
 * - `pending`: our requests awaiting a response, by seq_number, each with its timeout timer;
 * - `closed`: after `close()`, new requests reject at once, incoming frames are ignored and
 *   responses to the peer's requests still being handled are dropped.
 * Invariants: every pending entry is settled exactly once (response, send failure, timeout
 * or close) and removed with its timer cleared; every request from the peer gets exactly one
 * response while the peer is open.
 */
import { decodeFrame, encodeFrame, type Frame } from './codec.js';
import { decodeUpdateFrame } from './update-decoder.js';
import {
  ConnectionClosedError,
  ProtocolError,
  RemoteError,
  RequestTimeoutError,
} from './errors.js';

export interface MsgpackPeerOptions {
  /** Write one binary WebSocket frame. May throw if the socket is gone. */
  send: (data: Buffer) => void;
  /**
   * Handle any frame whose op is not 'response'. Its return value (or promise) becomes the
   * response result; a throw (or rejection) becomes `is_exception: true` with the error
   * message as result.
   */
  onRequest: (frame: Frame) => unknown;
  /** Reject a request with RequestTimeoutError if no response comes in time. Default: none. */
  requestTimeoutMs?: number;
  /**
   * Told about problems that have no caller to throw to: a response to an unknown
   * seq_number, a response that could not be encoded or sent. Default: ignore.
   */
  onError?: (error: Error) => void;
  /**
   * Decode `update` frames' log chunks as `[UTF-8 bytes, [], []]`: without their
   * newline-offset and timestamp lists, and with the text as a view of the frame's bytes
   * (`decodeUpdateFrame`; `logChunkText` makes it a string). For a master, which reads only
   * a chunk's text and stores it as bytes; saves decoding 2 numbers per log line and the
   * text. Default: false.
   */
  rawLogChunks?: boolean;
}

interface PendingRequest {
  op: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class MsgpackPeer {
  readonly #send: (data: Buffer) => void;
  readonly #onRequest: (frame: Frame) => unknown;
  readonly #requestTimeoutMs: number | undefined;
  readonly #onError: (error: Error) => void;
  readonly #rawLogChunks: boolean;
  readonly #pending = new Map<number, PendingRequest>();
  /** seq_numbers that timed out, so a late response is not reported as unknown. */
  readonly #timedOut = new Set<number>();
  #nextSeq = 0;
  #closed = false;
  #closeReason: Error | undefined;

  constructor(options: MsgpackPeerOptions) {
    this.#send = options.send;
    this.#onRequest = options.onRequest;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#onError = options.onError ?? (() => undefined);
    this.#rawLogChunks = options.rawLogChunks ?? false;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Decode one binary frame and dispatch it. Throws ProtocolError for a frame that is not a
   * msgpack map with string `op` and integer `seq_number` (the caller should drop the
   * connection). Requests are handled asynchronously; their response is sent when ready.
   */
  receive(data: Buffer): void {
    const frame = (this.#rawLogChunks && decodeUpdateFrame(data)) || decodeFrame(data);
    if (this.#closed) return;
    if (frame.op === 'response') {
      this.#settle(frame);
      return;
    }
    void this.#answer(frame);
  }

  /** Send a request with the next seq_number and wait for its response's result. */
  request(op: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(this.#closedError(`cannot send "${op}"`));
    }
    const seqNumber = this.#nextSeq++;
    // Buildbot puts op first and seq_number last; keep that order on the wire.
    const frame: Frame = { op, ...withoutKeys(fields, 'op', 'seq_number'), seq_number: seqNumber };
    let data: Buffer;
    try {
      data = encodeFrame(frame);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return new Promise<unknown>((resolve, reject) => {
      const entry: PendingRequest = { op, resolve, reject, timer: undefined };
      if (this.#requestTimeoutMs !== undefined) {
        const timeoutMs = this.#requestTimeoutMs;
        entry.timer = setTimeout(() => {
          this.#pending.delete(seqNumber);
          this.#timedOut.add(seqNumber);
          reject(
            new RequestTimeoutError(
              `no response to "${op}" (seq_number ${seqNumber}) within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
      }
      this.#pending.set(seqNumber, entry);
      try {
        this.#send(data);
      } catch (error) {
        this.#pending.delete(seqNumber);
        clearTimeout(entry.timer);
        reject(
          new ConnectionClosedError(`cannot send "${op}": ${asError(error).message}`, {
            cause: error,
          }),
        );
      }
    });
  }

  /** Reject every pending request with ConnectionClosedError and refuse new ones. */
  close(reason?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#timedOut.clear();
    for (const entry of pending) {
      clearTimeout(entry.timer);
      entry.reject(this.#closedError(`no response to "${entry.op}"`));
    }
  }

  #closedError(what: string): ConnectionClosedError {
    const reason = this.#closeReason;
    const suffix = reason ? `: ${reason.message}` : '';
    return new ConnectionClosedError(`${what}: the connection is closed${suffix}`, {
      cause: reason,
    });
  }

  #settle(frame: Frame): void {
    const entry = this.#pending.get(frame.seq_number);
    if (!entry) {
      if (this.#timedOut.delete(frame.seq_number)) return;
      this.#onError(
        new ProtocolError(`response to unknown seq_number ${frame.seq_number} ignored`),
      );
      return;
    }
    this.#pending.delete(frame.seq_number);
    clearTimeout(entry.timer);
    if ('is_exception' in frame && frame.is_exception !== false) {
      entry.reject(new RemoteError(resultText(frame.result)));
    } else {
      entry.resolve(frame.result ?? null);
    }
  }

  async #answer(frame: Frame): Promise<void> {
    let response: Frame;
    try {
      const result = await this.#onRequest(frame);
      response = { op: 'response', seq_number: frame.seq_number, result: result ?? null };
    } catch (error) {
      response = exceptionResponse(frame.seq_number, error);
    }
    if (this.#closed) return;
    let data: Buffer;
    try {
      data = encodeFrame(response);
    } catch (error) {
      this.#onError(
        new ProtocolError(
          `cannot encode the result of "${frame.op}" (seq_number ${frame.seq_number}): ` +
            asError(error).message,
        ),
      );
      data = encodeFrame(exceptionResponse(frame.seq_number, error));
    }
    try {
      this.#send(data);
    } catch (error) {
      this.#onError(
        new ConnectionClosedError(
          `cannot answer "${frame.op}" (seq_number ${frame.seq_number}): ${asError(error).message}`,
          { cause: error },
        ),
      );
    }
  }
}

function exceptionResponse(seqNumber: number, error: unknown): Frame {
  return { op: 'response', seq_number: seqNumber, result: errorText(error), is_exception: true };
}

/** The text Buildbot would send for an exception: `str(e)`, i.e. the bare message. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function resultText(result: unknown): string {
  if (typeof result === 'string') return result;
  if (Buffer.isBuffer(result)) return result.toString('utf8');
  try {
    return JSON.stringify(result) ?? String(result);
  } catch {
    return String(result);
  }
}

function withoutKeys(fields: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!keys.includes(key)) out[key] = value;
  }
  return out;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
