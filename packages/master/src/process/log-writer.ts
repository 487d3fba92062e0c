/**
 * Collects one log's output and appends it to the database in batches: whenever
 * `flushBytes` are waiting or `flushMs` has passed since the first waiting line, so a
 * log is readable while its step runs without a write per line.
 *
 * Invariants: appends happen one at a time and in order, each starting at the line count
 * this writer tracked (it is the log's only writer, so no read is needed); `finish()`
 * writes what is left, including a last line without a newline, together with marking
 * the log complete, and `drain()` hands it to the step's end to store instead (a short
 * step's logs and its end are then one write); with a
 * `redact` option, every line passes through it before it is stored (secrets).
 *
 * Memory: whole lines are written as UTF-8 straight into one pending buffer (no Buffer per
 * chunk, no concatenation). A buffer handed to an append comes back for reuse once that
 * append is stored, so a fast log cycles through two or three buffers instead of allocating
 * (and page-faulting in) a fresh one per flush; a log that stays small never gets a big one.
 */
import type { DataApi } from '../data/data-api.js';
import type { LogTail } from '../data/logs.js';

export type Stream = 'o' | 'e' | 'h';

const DEFAULT_FLUSH_MS = 100;
/**
 * 1 MiB: a fast log is stored in 1 MiB chunks (a chunk per 10 ms at 100 MB/s; slower output
 * still goes out within `flushMs`). Each append costs a gzip stream set up on the thread
 * pool, a transaction and an event: at 256 KiB those were ~70 ms of CPU per 100 MB more
 * (decision 0017).
 */
const DEFAULT_FLUSH_BYTES = 1024 * 1024;
/** The first pending buffer of a log; it grows (doubling) until a flush by size happens. */
const FIRST_BUFFER_BYTES = 16 * 1024;
/** Room beyond `flushBytes` in a full-size buffer, so a 64 KiB read rarely flushes early. */
const BUFFER_SLACK_BYTES = 64 * 1024;
/** Spare full-size buffers a writer keeps for reuse. */
const SPARE_BUFFERS = 2;

export class LogWriter {
  /** Whole lines as stored (UTF-8, stream-prefixed for stdio logs): `buffer[0, used)`. */
  private buffer: Buffer | null = null;
  private used = 0;
  /** Lines in `buffer[0, used)` (they all end with '\n'). */
  private pendingLines = 0;
  /** Full-size buffers whose appends are stored: reused for the next pending lines. */
  private spares: Buffer[] = [];
  /** Set once the lines reached `flushBytes`: from then on, buffers are full size. */
  private fullSize = false;
  private partial: Partial<Record<Stream, string>> = {};
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private finished = false;
  numLines = 0;

  constructor(
    private readonly data: DataApi,
    readonly logid: number,
    readonly name: string,
    private readonly type: 's' | 't' = 's',
    private readonly options: {
      flushMs?: number;
      flushBytes?: number;
      /** Applied to whole lines before they are stored (the build's secret redaction). */
      redact?: (text: string) => string;
    } = {},
  ) {}

  /** Adds text from one stream; only whole lines are stored until `finish`. */
  addText(stream: Stream, text: string): void {
    if (this.finished || text.length === 0) return;
    const partial = this.partial[stream];
    const joined = partial ? partial + text : text;
    const lastNewline = joined.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.partial[stream] = joined;
      return;
    }
    this.partial[stream] = joined.slice(lastNewline + 1);
    this.pushLines(stream, joined.slice(0, lastNewline + 1));
  }

  addStdout(text: string): void {
    this.addText('o', text);
  }

  addStderr(text: string): void {
    this.addText('e', text);
  }

  addHeader(text: string): void {
    this.addText('h', text.endsWith('\n') ? text : text + '\n');
  }

  private pushLines(stream: Stream, whole: string): void {
    let text = this.options.redact ? this.options.redact(whole) : whole;
    if (!text.endsWith('\n')) text += '\n';
    if (this.type === 's') {
      // `text` ends with '\n': every line gets its stream in front. replaceAll puts the
      // stream after every '\n' in one native pass (no string per line; the length added is
      // the line count). Written one byte further on, after the first line's stream, its
      // trailing stream byte is dropped (the next write starts on it).
      const shifted = text.replaceAll('\n', `\n${stream}`);
      // The first line's stream byte, then `shifted`.
      const buffer = this.reserve(1 + Buffer.byteLength(shifted, 'utf8'));
      buffer[this.used] = stream.charCodeAt(0);
      this.used += buffer.write(shifted, this.used + 1, 'utf8');
      this.pendingLines += shifted.length - text.length;
    } else {
      const buffer = this.reserve(Buffer.byteLength(text, 'utf8'));
      this.used += buffer.write(text, this.used, 'utf8');
      this.pendingLines += lineCount(text);
    }
    if (this.used >= this.flushBytes) {
      this.fullSize = true;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs ?? DEFAULT_FLUSH_MS);
    }
  }

  private get flushBytes(): number {
    return this.options.flushBytes ?? DEFAULT_FLUSH_BYTES;
  }

  /** The size of a full-size buffer: `flushBytes` and the slack. */
  private get fullBufferBytes(): number {
    return this.flushBytes + BUFFER_SLACK_BYTES;
  }

  /**
   * The pending buffer, with room for `bytes` more after `used`: the pending lines are
   * flushed first when they reach `flushBytes` with it, and a small first buffer grows.
   */
  private reserve(bytes: number): Buffer {
    const current = this.buffer;
    if (current && this.used + bytes <= current.length) return current;
    const flushBytes = this.flushBytes;
    const fullSize = this.fullBufferBytes;
    if (current && this.used + bytes < flushBytes) {
      // Still filling a small buffer: move to one twice as big (at most full size).
      const grown = Buffer.allocUnsafe(
        Math.max(this.used + bytes, Math.min(current.length * 2, fullSize)),
      );
      current.copy(grown, 0, 0, this.used);
      this.buffer = grown;
      return grown;
    }
    if (current && this.used > 0) {
      this.fullSize = true;
      void this.flush();
    }
    let next: Buffer | undefined;
    if (!this.fullSize) {
      next = Buffer.allocUnsafe(Math.max(bytes, FIRST_BUFFER_BYTES));
    } else {
      next = bytes <= fullSize ? this.spares.pop() : undefined;
      next ??= Buffer.allocUnsafeSlow(Math.max(bytes, fullSize));
    }
    this.buffer = next;
    this.used = 0;
    return next;
  }

  /** Starts writing what is waiting; resolves when it (and everything before) is stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const buffer = this.buffer;
    if (buffer && this.used > 0) {
      const text = buffer.subarray(0, this.used);
      const lines = this.pendingLines;
      this.buffer = null;
      this.used = 0;
      this.pendingLines = 0;
      this.chain = this.chain.then(async () => {
        if (this.failure) return;
        try {
          // This writer is the log's only one: it knows where the chunk starts.
          this.numLines = await this.data.logs.append(this.logid, text, this.numLines, lines);
          // Stored: the buffer is free again (the append keeps no reference to it).
          if (
            !this.finished &&
            buffer.length === this.fullBufferBytes &&
            this.spares.length < SPARE_BUFFERS
          ) {
            this.spares.push(buffer);
          }
        } catch (error) {
          this.failure = error instanceof Error ? error : new Error(String(error));
        }
      });
    }
    return this.chain;
  }

  /** Stores what is left (with the completion, in one write) and marks the log complete. */
  async finish(): Promise<void> {
    const tail = await this.drain();
    if (tail === null) return;
    await this.data.logs.finish(this.logid, tail.text.length > 0 ? tail : undefined);
  }

  /**
   * Ends the writer without completing the log: waits for the appends in flight and
   * returns what is left to store, for the step's end to store with it (`steps.finish`).
   * Null when the writer was already finished. Throws the error of a failed append (the
   * log must then still be completed, with no text).
   */
  async drain(): Promise<LogTail | null> {
    if (this.finished) {
      await this.chain;
      return null;
    }
    for (const stream of ['h', 'o', 'e'] as const) {
      const rest = this.partial[stream];
      if (rest) this.pushLines(stream, rest + '\n');
    }
    this.partial = {};
    this.finished = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const text = this.buffer ? this.buffer.toString('utf8', 0, this.used) : '';
    const lines = this.pendingLines;
    this.buffer = null;
    this.used = 0;
    this.pendingLines = 0;
    this.spares = [];
    await this.chain;
    if (this.failure) throw this.failure;
    const tail = { logid: this.logid, text, firstLine: this.numLines, lines };
    this.numLines += lines;
    return tail;
  }
}

function lineCount(text: string): number {
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
}
