/**
 * UpdateBuffer: batches a command's update entries into `update` messages, like
 * buildbot-worker's BufferManager, but flushing promptly so logs stream live.
 *
 * Owns the pending entries, their approximate size and one flush timer.
 * - Consecutive small log chunks of the same stream (or the same `log` file) are joined into
 *   one chunk of up to ~JOIN_BYTES, once, when the message is sent; larger chunks go as
 *   entries of their own in the same message (a master handles the entries of a message in
 *   order, so this is the same output), which spares copying big chunks' text and lists.
 *   Other entries are kept in order.
 * - Size is counted as Buildbot does: text length + 8 bytes per offset and per timestamp for
 *   log chunks, 20 for any other entry. When an entry would overflow `bufferSize` the buffer
 *   is sent first; a single chunk larger than `bufferSize` is sent in several messages, cut at
 *   line boundaries.
 * - The flush timer fires `min(bufferTimeoutMs, liveFlushMs)` after the first entry, so output
 *   reaches the master within tens of milliseconds even with Buildbot's 5 s buffer_timeout.
 * Invariants: the timer is armed iff entries are pending; entries leave in the order they were
 *   appended; after `close()` nothing is buffered or sent.
 */
import {
  asPlainNumberList,
  makeLogChunk,
  type LogChunk,
  type UpdateEntry,
} from '@yardmaster/protocol';

/** Default upper bound on how long output waits in the buffer. */
export const LIVE_FLUSH_MS = 25;

/** Chunks are joined into one entry until it holds this many bytes (Buildbot's measure). */
export const JOIN_BYTES = 16 * 1024;

export type SendUpdate = (entries: UpdateEntry[]) => void;

export interface UpdateBufferOptions {
  bufferSize: number;
  bufferTimeoutMs: number;
  liveFlushMs?: number;
}

type BufferedEntry = UpdateEntry;

export class UpdateBuffer {
  readonly #send: SendUpdate;
  readonly #bufferSize: number;
  readonly #delayMs: number;
  #entries: BufferedEntry[] = [];
  /** Chunks to join into the last entry (its own chunk first) when it is sent. */
  #run: LogChunk[] = [];
  #rebuildRun: ((chunk: LogChunk) => UpdateEntry) | undefined;
  #runSize = 0;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(send: SendUpdate, options: UpdateBufferOptions) {
    this.#send = send;
    this.#bufferSize = Math.max(1, options.bufferSize);
    this.#delayMs = Math.max(
      0,
      Math.min(options.bufferTimeoutMs, options.liveFlushMs ?? LIVE_FLUSH_MS),
    );
  }

  append(entry: UpdateEntry): void {
    if (this.#closed) return;
    const size = entrySize(entry);
    if (size <= this.#bufferSize - this.#size) {
      this.#push(entry, size);
      return;
    }
    this.flush();
    if (size <= this.#bufferSize) {
      this.#push(entry, size);
      return;
    }
    // Too big for one message: non-log entries go alone, log chunks are cut at lines.
    const chunkOf = logChunkOf(entry);
    if (!chunkOf) {
      this.#send([entry]);
      return;
    }
    for (const piece of splitChunk(chunkOf.chunk, this.#bufferSize)) {
      this.#send(markNumberLists([chunkOf.rebuild(piece)]));
    }
  }

  /** Send everything pending now. */
  flush(): void {
    this.#clearTimer();
    if (this.#entries.length === 0) return;
    this.#closeRun();
    const entries = this.#entries;
    this.#entries = [];
    this.#size = 0;
    this.#send(markNumberLists(entries));
  }

  /** Drop pending entries and the timer; later calls do nothing. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    this.#entries = [];
    this.#run = [];
    this.#rebuildRun = undefined;
    this.#runSize = 0;
    this.#size = 0;
  }

  get pendingEntries(): number {
    return this.#entries.length;
  }

  #push(entry: UpdateEntry, size: number): void {
    const last = this.#entries.at(-1);
    const view = logChunkOf(entry);
    if (view && last && this.#runSize < JOIN_BYTES && sameLog(last, entry)) {
      this.#run.push(view.chunk);
      this.#runSize += size;
    } else {
      this.#closeRun();
      this.#entries.push(entry);
      if (view) {
        this.#run = [view.chunk];
        this.#rebuildRun = view.rebuild;
        this.#runSize = size;
      }
    }
    this.#size += size;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#delayMs);
  }

  /** Replaces the last entry by its run of chunks joined into one. */
  #closeRun(): void {
    if (this.#run.length > 1 && this.#rebuildRun) {
      this.#entries[this.#entries.length - 1] = this.#rebuildRun(joinChunks(this.#run));
    }
    this.#run = [];
    this.#rebuildRun = undefined;
    this.#runSize = 0;
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Marks the offset and timestamp lists of the log chunks in `entries` as plain numbers for the
 * codec, which then encodes them without checking every item: offsets are string indices and
 * timestamps epoch seconds (the line splitter's clock), all within what encodes as is.
 */
function markNumberLists(entries: UpdateEntry[]): UpdateEntry[] {
  for (const entry of entries) {
    const chunk = logChunkOf(entry)?.chunk;
    if (chunk) {
      asPlainNumberList(chunk[1]);
      asPlainNumberList(chunk[2]);
    }
  }
  return entries;
}

function entrySize(entry: UpdateEntry): number {
  const chunk = logChunkOf(entry)?.chunk;
  if (!chunk) return 20;
  return chunk[0].length + 8 * (chunk[1].length + chunk[2].length);
}

interface ChunkView {
  chunk: LogChunk;
  rebuild: (chunk: LogChunk) => UpdateEntry;
}

function logChunkOf(entry: UpdateEntry): ChunkView | undefined {
  switch (entry[0]) {
    case 'stdout':
    case 'stderr':
    case 'header': {
      const key = entry[0];
      return { chunk: entry[1], rebuild: (chunk) => [key, chunk] };
    }
    case 'log': {
      const [logName, chunk] = entry[1];
      return { chunk, rebuild: (piece) => ['log', [logName, piece]] };
    }
    default:
      return undefined;
  }
}

/** Whether two log-chunk entries go into one chunk: the same stream, or the same log file. */
function sameLog(previous: UpdateEntry, next: UpdateEntry): boolean {
  if (previous[0] !== next[0]) return false;
  if (previous[0] === 'log' && next[0] === 'log') return previous[1][0] === next[1][0];
  return true;
}

/** One chunk of `chunks`' lines, in order; offsets shifted by the code points before them. */
function joinChunks(chunks: readonly LogChunk[]): LogChunk {
  let lines = 0;
  for (const chunk of chunks) lines += chunk[1].length;
  const offsets = new Array<number>(lines);
  const times = new Array<number>(lines);
  let line = 0;
  let base = 0;
  for (const [text, chunkOffsets, chunkTimes] of chunks) {
    for (let i = 0; i < chunkOffsets.length; i++, line++) {
      offsets[line] = (chunkOffsets[i] ?? 0) + base;
      times[line] = chunkTimes[i] ?? 0;
    }
    base += codePointLength(text);
  }
  return [chunks.map((chunk) => chunk[0]).join(''), offsets, times];
}

/** Cut a chunk into pieces of whole lines, each within `limit` by Buildbot's size measure. */
export function splitChunk(chunk: LogChunk, limit: number): LogChunk[] {
  if (chunk[1].length === 0 && chunk[0] !== '') {
    // A chunk without its lists (`send_line_lists` false) is cut at its lines all the same.
    return splitChunk(makeLogChunk(chunk[0], 0), limit).map(([piece]) => [piece, [], []]);
  }
  const [text, offsets, times] = chunk;
  const points = /[\uD800-\uDFFF]/.test(text) ? Array.from(text) : undefined;
  const slice = (from: number, to: number): string =>
    points ? points.slice(from, to).join('') : text.slice(from, to);
  const pieces: LogChunk[] = [];
  let first = 0; // index of the first line of the current piece
  while (first < offsets.length) {
    const startOffset = first === 0 ? 0 : (offsets[first - 1] ?? -1) + 1;
    let last = first; // inclusive
    while (last + 1 < offsets.length) {
      const size = (offsets[last + 1] ?? 0) + 1 - startOffset + 16 * (last + 2 - first);
      if (size > limit) break;
      last += 1;
    }
    const endOffset = (offsets[last] ?? 0) + 1;
    pieces.push([
      slice(startOffset, endOffset),
      offsets.slice(first, last + 1).map((offset) => offset - startOffset),
      times.slice(first, last + 1),
    ]);
    first = last + 1;
  }
  return pieces;
}

function codePointLength(text: string): number {
  if (!/[\uD800-\uDFFF]/.test(text)) return text.length;
  let count = 0;
  for (const _ of text) count++;
  return count;
}
