/**
 * UpdateBuffer: batches a command's update entries into `update` messages, like
 * buildbot-worker's BufferManager, but flushing promptly so logs stream live.
 *
 * Owns the pending entries, their approximate size and one flush timer.
 * - Consecutive log chunks of the same stream (or the same `log` file) are joined into one
 *   chunk; other entries are kept in order.
 * - Size is counted as Buildbot does: text length + 8 bytes per offset and per timestamp for
 *   log chunks, 20 for any other entry. When an entry would overflow `bufferSize` the buffer
 *   is sent first; a single chunk larger than `bufferSize` is sent in several messages, cut at
 *   line boundaries.
 * - The flush timer fires `min(bufferTimeoutMs, liveFlushMs)` after the first entry, so output
 *   reaches the master within tens of milliseconds even with Buildbot's 5 s buffer_timeout.
 * Invariants: the timer is armed iff entries are pending; entries leave in the order they were
 *   appended; after `close()` nothing is buffered or sent.
 */
import type { LogChunk, UpdateEntry } from '@yardmaster/protocol';

/** Default upper bound on how long output waits in the buffer. */
export const LIVE_FLUSH_MS = 25;

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
      this.#send([chunkOf.rebuild(piece)]);
    }
  }

  /** Send everything pending now. */
  flush(): void {
    this.#clearTimer();
    if (this.#entries.length === 0) return;
    const entries = this.#entries;
    this.#entries = [];
    this.#size = 0;
    this.#send(entries);
  }

  /** Drop pending entries and the timer; later calls do nothing. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    this.#entries = [];
    this.#size = 0;
  }

  get pendingEntries(): number {
    return this.#entries.length;
  }

  #push(entry: UpdateEntry, size: number): void {
    const last = this.#entries.at(-1);
    const joined = last ? joinEntries(last, entry) : undefined;
    if (joined) this.#entries[this.#entries.length - 1] = joined;
    else this.#entries.push(entry);
    this.#size += size;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#delayMs);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
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

function joinEntries(previous: UpdateEntry, next: UpdateEntry): UpdateEntry | undefined {
  if (previous[0] !== next[0]) return undefined;
  const before = logChunkOf(previous);
  const after = logChunkOf(next);
  if (!before || !after) return undefined;
  if (previous[0] === 'log' && next[0] === 'log' && previous[1][0] !== next[1][0]) return undefined;
  return before.rebuild(joinChunks(before.chunk, after.chunk));
}

function joinChunks(first: LogChunk, second: LogChunk): LogChunk {
  const base = codePointLength(first[0]);
  return [
    first[0] + second[0],
    [...first[1], ...second[1].map((offset) => offset + base)],
    [...first[2], ...second[2]],
  ];
}

/** Cut a chunk into pieces of whole lines, each within `limit` by Buildbot's size measure. */
export function splitChunk(chunk: LogChunk, limit: number): LogChunk[] {
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
