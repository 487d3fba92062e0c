/**
 * Collects one log's output and appends it to the database in batches: whenever
 * `flushBytes` are waiting or `flushMs` has passed since the first waiting line, so a
 * log is readable while its step runs without a write per line.
 *
 * Invariants: appends happen one at a time and in order, each starting at the line count
 * this writer tracked (it is the log's only writer, so no read is needed); `finish()`
 * writes what is left, including a last line without a newline, together with marking
 * the log complete, and `drain()` hands it to the step's end to store instead (a short
 * step's logs and its end are then one write); with a `redactor` that knows secrets,
 * every line passes through it before it is stored.
 *
 * Output goes in as UTF-8 bytes (a master gets log chunks from the worker as bytes, and
 * strings are encoded once). A stdio log's lines read with their stream in front ('o', 'e',
 * 'h'); while the pending lines all come from one stream they are copied as they are and
 * stored with that stream as the chunk's (the reader puts the letters back), so a fast
 * log costs a copy and a newline count, not a pass per line. Lines of a second stream make
 * the pending lines prefixed, line by line, until the next append (decision 0021).
 *
 * Memory: whole lines are written straight into one pending buffer (no Buffer per chunk, no
 * concatenation). A buffer handed to an append comes back for reuse once that append is
 * stored, so a fast log cycles through two or three buffers instead of allocating (and
 * page-faulting in) a fresh one per flush; a log that stays small never gets a big one.
 */
import type { DataApi } from '../data/data-api.js';
import { countNewlines, type LogStream, type LogTail } from '../data/logs.js';

type Stream = LogStream;

/** What the writer needs of the build's secret redaction (`SecretRedactor`). */
export interface Redactor {
  /** True while no secret is known: lines are then stored as they come. */
  readonly isEmpty: boolean;
  redact(text: string): string;
}

const NEWLINE = 0x0a;
const DEFAULT_FLUSH_MS = 100;
/**
 * 1 MiB: a fast log is stored in 1 MiB chunks (a chunk per 10 ms at 100 MB/s; slower output
 * still goes out within `flushMs`). Each append costs a compression, a transaction and an
 * event: at 256 KiB those were ~70 ms of CPU per 100 MB more (decision 0017).
 */
const DEFAULT_FLUSH_BYTES = 1024 * 1024;
/** The first pending buffer of a log; it grows (doubling) until a flush by size happens. */
const FIRST_BUFFER_BYTES = 16 * 1024;
/** Room beyond `flushBytes` in a full-size buffer, so a 64 KiB read rarely flushes early. */
const BUFFER_SLACK_BYTES = 64 * 1024;
/** Spare full-size buffers a writer keeps for reuse. */
const SPARE_BUFFERS = 2;

export class LogWriter {
  /** Whole lines as stored (UTF-8): `buffer[0, used)`. */
  private buffer: Buffer | null = null;
  private used = 0;
  /** Lines in `buffer[0, used)` (they all end with '\n'). */
  private pendingLines = 0;
  /**
   * Stdio logs: the stream of every pending line, stored without prefixes; 'mixed' when the
   * pending lines carry their prefixes; null when nothing is pending (or for other logs).
   */
  private pendingStream: Stream | 'mixed' | null = null;
  /** Full-size buffers whose appends are stored: reused for the next pending lines. */
  private spares: Buffer[] = [];
  /** Set once the lines reached `flushBytes`: from then on, buffers are full size. */
  private fullSize = false;
  /** Each stream's text after its last newline (a copy), until the rest of the line comes. */
  private readonly partial = new Map<Stream, Buffer>();
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
      redactor?: Redactor;
    } = {},
  ) {}

  /**
   * Adds output of one stream, as text or as its UTF-8 bytes (which may be a view of a
   * frame: they are copied before this returns); only whole lines are stored until `finish`.
   */
  addText(stream: Stream, text: string | Buffer): void {
    if (this.finished || text.length === 0) return;
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    const partial = this.partial.get(stream);
    const lastNewline = bytes.lastIndexOf(NEWLINE);
    if (lastNewline < 0) {
      this.partial.set(stream, partial ? Buffer.concat([partial, bytes]) : Buffer.from(bytes));
      return;
    }
    const whole = bytes.subarray(0, lastNewline + 1);
    if (lastNewline + 1 < bytes.length) {
      this.partial.set(stream, Buffer.from(bytes.subarray(lastNewline + 1)));
    } else {
      this.partial.delete(stream);
    }
    this.pushLines(stream, partial ? Buffer.concat([partial, whole]) : whole);
  }

  addStdout(text: string | Buffer): void {
    this.addText('o', text);
  }

  addStderr(text: string | Buffer): void {
    this.addText('e', text);
  }

  addHeader(text: string): void {
    this.addText('h', text.endsWith('\n') ? text : text + '\n');
  }

  /** `whole`: lines that all end with '\n'. */
  private pushLines(stream: Stream, whole: Buffer): void {
    let bytes = whole;
    const redactor = this.options.redactor;
    if (redactor && !redactor.isEmpty) {
      let text = redactor.redact(whole.toString('utf8'));
      if (!text.endsWith('\n')) text += '\n';
      bytes = Buffer.from(text, 'utf8');
    }
    const lines = countNewlines(bytes);
    // Room for the lines prefixed (the most they can take); a flush may happen first.
    let buffer = this.reserve(bytes.length + lines);
    if (this.type === 's') {
      this.pendingStream ??= stream;
      if (this.pendingStream === stream) {
        this.used += bytes.copy(buffer, this.used);
      } else {
        if (this.pendingStream !== 'mixed') buffer = this.prefixPending(bytes.length + lines);
        this.used += writePrefixed(buffer, this.used, stream, bytes);
      }
    } else {
      this.used += bytes.copy(buffer, this.used);
    }
    this.pendingLines += lines;
    if (this.used >= this.flushBytes) {
      this.fullSize = true;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs ?? DEFAULT_FLUSH_MS);
    }
  }

  /**
   * Rewrites the pending lines (all of one stream, unprefixed) with their prefixes, into a
   * buffer with room for `more` bytes after them; the pending lines are 'mixed' from then on.
   */
  private prefixPending(more: number): Buffer {
    const current = this.buffer as Buffer;
    const stream = this.pendingStream as Stream;
    const prefixed = Buffer.allocUnsafe(
      Math.max(current.length, this.used + this.pendingLines + more),
    );
    this.used = writePrefixed(prefixed, 0, stream, current.subarray(0, this.used));
    this.buffer = prefixed;
    this.pendingStream = 'mixed';
    if (current.length === this.fullBufferBytes && this.spares.length < SPARE_BUFFERS) {
      this.spares.push(current);
    }
    return prefixed;
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

  /**
   * Hands over the pending lines (a view of the pending buffer; empty when none) with their
   * count and, when they are of one stream, that stream; the writer starts a new buffer.
   */
  private takePending(): { text: Buffer; lines: number; stream?: Stream } {
    const pendingStream = this.pendingStream;
    const taken = {
      text: this.buffer ? this.buffer.subarray(0, this.used) : EMPTY,
      lines: this.pendingLines,
      stream: pendingStream === null || pendingStream === 'mixed' ? undefined : pendingStream,
    };
    this.buffer = null;
    this.used = 0;
    this.pendingLines = 0;
    this.pendingStream = null;
    return taken;
  }

  /** Starts writing what is waiting; resolves when it (and everything before) is stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const buffer = this.buffer;
    if (buffer && this.used > 0) {
      const { text, lines, stream } = this.takePending();
      this.chain = this.chain.then(async () => {
        if (this.failure) return;
        try {
          // This writer is the log's only one: it knows where the chunk starts.
          this.numLines = await this.data.logs.append(this.logid, text, {
            firstLine: this.numLines,
            lines,
            stream,
          });
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
      const rest = this.partial.get(stream);
      if (rest) this.pushLines(stream, Buffer.concat([rest, NEWLINE_BYTES]));
    }
    this.partial.clear();
    this.finished = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const { text, lines, stream } = this.takePending();
    this.spares = [];
    await this.chain;
    if (this.failure) throw this.failure;
    const tail: LogTail = { logid: this.logid, text, firstLine: this.numLines, lines, stream };
    this.numLines += lines;
    return tail;
  }
}

const NEWLINE_BYTES = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);

/**
 * Writes `lines` (each ending with '\n') into `target` from `at`, each with `stream` in
 * front; returns the bytes written (`lines.length` and the line count).
 */
function writePrefixed(target: Buffer, at: number, stream: Stream, lines: Buffer): number {
  const letter = stream.charCodeAt(0);
  let out = at;
  for (let from = 0; from < lines.length;) {
    const newline = lines.indexOf(NEWLINE, from);
    const end = newline === -1 ? lines.length : newline + 1;
    target[out++] = letter;
    out += lines.copy(target, out, from, end);
    from = end;
  }
  return out - at;
}
