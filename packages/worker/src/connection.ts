/**
 * WorkerConnection: one WebSocket connection to a master, from the upgrade request to close.
 * Owns the socket, its MsgpackPeer and the ping timer.
 *
 * States: connecting → open → closed (or connecting → closed when the upgrade fails, e.g.
 * with HTTP 401). `attached` becomes true with the first request from the master, which is
 * what buildbot masters do right after accepting a worker ('print attached' /
 * get_worker_info). Invariants: `closed` resolves exactly once, after the socket is closed
 * and the peer has rejected every pending request; no timer outlives the connection.
 */
import { MsgpackPeer, ProtocolError, type Frame } from '@yardmaster/protocol';
import WebSocket, { type RawData } from 'ws';
import type { WorkerLogger } from './logger.js';

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

export interface ConnectionOptions {
  /** ws:// URL of the master. */
  url: string;
  name: string;
  password: string;
  logger: WorkerLogger;
  /** Handles every request from the master; the result becomes the response. */
  onRequest: (frame: Frame) => unknown;
  /** Called once, on the master's first request. */
  onAttached?: () => void;
  /** WebSocket ping period; the socket is dropped after two unanswered pings. 0 disables. */
  pingIntervalMs?: number;
  handshakeTimeoutMs?: number;
}

export interface ConnectionOutcome {
  /** The socket opened (the upgrade succeeded). */
  opened: boolean;
  /** The master sent at least one request. */
  attached: boolean;
  /** HTTP status of a refused upgrade (401 for bad credentials). */
  httpStatus?: number;
  /** WebSocket close code, when the socket had opened. */
  closeCode?: number;
  /** Why, in words, for the log. */
  reason: string;
}

export const DEFAULT_PING_INTERVAL_MS = 30_000;

export class WorkerConnection {
  readonly url: string;
  readonly peer: MsgpackPeer;
  readonly closed: Promise<ConnectionOutcome>;
  readonly #socket: WebSocket;
  readonly #logger: WorkerLogger;
  readonly #onAttached: (() => void) | undefined;
  #resolveClosed: (outcome: ConnectionOutcome) => void = () => undefined;
  #opened = false;
  #attached = false;
  #httpStatus: number | undefined;
  #lastError: Error | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #terminateTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;

  constructor(options: ConnectionOptions) {
    this.url = options.url;
    this.#logger = options.logger;
    this.#onAttached = options.onAttached;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.peer = new MsgpackPeer({
      send: (data) => this.#send(data),
      onRequest: (frame) => {
        this.#markAttached();
        return options.onRequest(frame);
      },
      onError: (error) => this.#logger.warn(`protocol: ${error.message}`),
    });

    const credentials = Buffer.from(`${options.name}:${options.password}`, 'utf8').toString(
      'base64',
    );
    this.#socket = new WebSocket(options.url, {
      headers: { Authorization: `Basic ${credentials}` },
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      perMessageDeflate: false,
      followRedirects: false,
      // An all-zero masking key: the frame is sent as is, without XOR-ing every byte in
      // JavaScript (12 % of the worker's CPU when streaming logs). RFC 6455 wants an
      // unpredictable key to protect proxies from script-crafted frames in browsers; a
      // worker sends only its own msgpack frames to its master (decision 0011).
      generateMask: zeroMask,
    });
    this.#socket.binaryType = 'nodebuffer';
    this.#socket.on('unexpected-response', (request, response) => {
      this.#httpStatus = response.statusCode;
      response.resume();
      request.destroy();
      this.#socket.terminate();
    });
    this.#socket.on('open', () => {
      this.#opened = true;
      this.#logger.info(`connected to master at ${this.url}`);
      this.#startPings(options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS);
    });
    this.#socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.#socket.on('pong', () => {
      this.#awaitingPong = false;
    });
    this.#socket.on('error', (error) => {
      this.#lastError = error;
    });
    this.#socket.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
  }

  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  get attached(): boolean {
    return this.#attached;
  }

  /** Close politely (code 1000); the socket is terminated if the master does not answer in 2 s. */
  close(reason = 'worker stopping'): void {
    if (this.#socket.readyState === WebSocket.CLOSED) return;
    if (this.#socket.readyState === WebSocket.CONNECTING) {
      this.#socket.terminate();
      return;
    }
    this.#socket.close(1000, reason);
    this.#terminateTimer ??= setTimeout(() => this.#socket.terminate(), 2000);
  }

  /** Drop the connection at once. */
  terminate(): void {
    this.#socket.terminate();
  }

  #send(data: Buffer): void {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      throw new Error('the WebSocket to the master is not open');
    }
    this.#socket.send(data, { binary: true }, (error) => {
      if (error) this.#logger.debug(`send failed: ${error.message}`);
    });
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.#logger.warn('ignoring a text frame from the master (msgpack frames must be binary)');
      return;
    }
    const buffer = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    try {
      this.peer.receive(buffer);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#logger.error(
        `invalid frame from the master, dropping the connection: ${error.message}`,
      );
      this.#socket.close(1002, 'protocol error');
      this.#terminateTimer ??= setTimeout(() => this.#socket.terminate(), 2000);
    }
  }

  #markAttached(): void {
    if (this.#attached) return;
    this.#attached = true;
    this.#onAttached?.();
  }

  #startPings(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.#pingTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this.#logger.warn(
          `no answer to ping from ${this.url} in ${intervalMs} ms; dropping the connection`,
        );
        this.#socket.terminate();
        return;
      }
      this.#awaitingPong = true;
      this.#socket.ping();
    }, intervalMs);
  }

  #onClose(code: number, reasonText: string): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    if (this.#terminateTimer) clearTimeout(this.#terminateTimer);
    this.#pingTimer = this.#terminateTimer = undefined;
    let reason: string;
    if (this.#httpStatus !== undefined) {
      reason = `the master refused the connection with HTTP ${this.#httpStatus}`;
    } else if (!this.#opened) {
      reason = `cannot connect: ${this.#lastError?.message ?? 'connection failed'}`;
    } else {
      reason = `connection closed (code ${code}${reasonText ? `: ${reasonText}` : ''})`;
    }
    this.peer.close(new Error(reason));
    this.#resolveClosed({
      opened: this.#opened,
      attached: this.#attached,
      httpStatus: this.#httpStatus,
      closeCode: this.#opened ? code : undefined,
      reason,
    });
  }
}
