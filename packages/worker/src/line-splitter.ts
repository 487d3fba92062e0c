/**
 * LineSplitter: turns a stream of output text into whole-line log chunks, as buildbot-worker's
 * LineBoundaryFinder does, so the master receives `[text, newlineOffsets, timestamps]`.
 *
 * Owns the partial (unterminated) line of one stream and the time its first character arrived.
 * - `newline_re` matches are replaced by '\n' first (CRLF, a lone CR followed by more text,
 *   cursor movements, backspace runs); a CR at the very end waits for the next append.
 * - Lines longer than `maxLineLength` (counting the '\n') are cut into pieces of
 *   `maxLineLength - 1` characters plus '\n'. (Buildbot 3.7 slices these pieces wrongly after
 *   the first line and drops one character per piece; we cut them correctly.)
 * - Each line is stamped with the time its first character arrived.
 * Invariant: every returned chunk's text ends with '\n' and has one offset and one timestamp
 * per line (offsets count code points, Python string indices, not UTF-16 units), or, with
 * `lineLists: false` (the master's `send_line_lists`), both lists empty.
 */
import type { LogChunk } from '@yardmaster/protocol';

/**
 * The `newline_re`s masters send, as python-regex.ts translates them, with the characters
 * every match starts with: text without any of them has nothing to replace and skips the
 * regexp. buildbot-worker's own default `(\r\n|\r(?=.)|\x08+)` matches only at '\r' or '\b';
 * the Buildbot (and Yardmaster) master's default adds the ANSI cursor sequences, at ESC.
 */
const MATCH_STARTS = new Map<string, readonly string[]>([
  [String.raw`(\r\n|\r(?=[^\n])|\x08+)`, ['\r', '\b']],
  [
    String.raw`(\r\n|\r(?=[^\n])|\x1b\[u|\x1b\[[0-9]+;[0-9]+[Hf]|\x1b\[2J|\x08+)`,
    ['\r', '\b', '\x1b'],
  ],
]);

export class LineSplitter {
  readonly #maxLineLength: number;
  readonly #newlineRe: RegExp;
  /** For a known newline_re: the characters its matches start with (see MATCH_STARTS). */
  readonly #matchStarts: readonly string[] | undefined;
  readonly #lineLists: boolean;
  #partial = '';
  /** When the partial line's first character arrived. */
  #partialTime = 0;

  constructor(maxLineLength: number, newlineRe: RegExp, options: { lineLists?: boolean } = {}) {
    if (!Number.isInteger(maxLineLength) || maxLineLength < 2) {
      throw new RangeError(`max_line_length must be an integer ≥ 2, got ${maxLineLength}`);
    }
    this.#maxLineLength = maxLineLength;
    this.#newlineRe = newlineRe.global
      ? newlineRe
      : new RegExp(newlineRe.source, `${newlineRe.flags}g`);
    this.#matchStarts = MATCH_STARTS.get(newlineRe.source);
    this.#lineLists = options.lineLists ?? true;
  }

  /** Add text that arrived at `time` (epoch seconds); returns the lines it completed, if any. */
  append(text: string, time: number): LogChunk | null {
    const hadPartial = this.#partial !== '';
    const firstLineTime = hadPartial ? this.#partialTime : time;
    const joined = this.#partial + text;
    const starts = this.#matchStarts;
    const all =
      starts && !starts.some((char) => joined.includes(char))
        ? joined
        : joined.replace(this.#newlineRe, '\n');

    const fast = this.#appendFast(all, firstLineTime, time);
    if (fast !== undefined) return fast;

    const lines: string[] = [];
    let start = 0;
    let newline = all.indexOf('\n');
    while (newline !== -1) {
      start = this.#cutLongLine(all, start, newline, lines);
      lines.push(all.slice(start, newline + 1));
      start = newline + 1;
      newline = all.indexOf('\n', start);
    }
    start = this.#cutLongLine(all, start, all.length, lines);
    this.#partial = all.slice(start);

    if (lines.length === 0) {
      if (!hadPartial) this.#partialTime = time;
      return null;
    }
    this.#partialTime = time;
    if (!this.#lineLists) return [lines.join(''), [], []];
    // Only the first line can have started before this append.
    const times = lines.map((_, index) => (index === 0 ? firstLineTime : time));
    return toChunk(lines, times);
  }

  /**
   * The common case without a string per line: text with at least one newline, no line
   * (nor the partial rest) too long and no surrogate pair, so offsets are string indices.
   * Undefined when the text needs the general path.
   */
  #appendFast(all: string, firstLineTime: number, time: number): LogChunk | null | undefined {
    const last = all.lastIndexOf('\n');
    if (last === -1 || all.length - last - 1 >= this.#maxLineLength) return undefined;
    if (hasSurrogates(all)) return undefined;
    const lineLists = this.#lineLists;
    const offsets: number[] = [];
    let start = 0;
    for (let newline = all.indexOf('\n'); newline !== -1; newline = all.indexOf('\n', start)) {
      if (newline - start + 1 > this.#maxLineLength) return undefined;
      if (lineLists) offsets.push(newline);
      start = newline + 1;
    }
    const times = lineLists ? new Array<number>(offsets.length).fill(time) : [];
    if (lineLists) times[0] = firstLineTime;
    this.#partial = all.slice(last + 1);
    this.#partialTime = time;
    return [last === all.length - 1 ? all : all.slice(0, last + 1), offsets, times];
  }

  /** Emit the partial line (with a '\n' added), if there is one. */
  flush(): LogChunk | null {
    if (this.#partial === '') return null;
    return this.append('\n', this.#partialTime);
  }

  /** Push pieces of `maxLineLength - 1` characters while the text from `start` to `end` is too long. */
  #cutLongLine(text: string, start: number, end: number, lines: string[]): number {
    const max = this.#maxLineLength;
    while (end - start >= max) {
      let cut = start + max - 1;
      // Never split a surrogate pair.
      if (isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
      lines.push(`${text.slice(start, cut)}\n`);
      start = cut;
    }
    return start;
  }
}

function hasSurrogates(text: string): boolean {
  return /[\uD800-\uDFFF]/.test(text);
}

function toChunk(lines: string[], times: number[]): LogChunk {
  const text = lines.join('');
  const offsets: number[] = [];
  const surrogates = hasSurrogates(text);
  let position = -1;
  for (const line of lines) {
    position += surrogates ? countCodePoints(line) : line.length;
    offsets.push(position);
  }
  return [text, offsets, times];
}

function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (!isHighSurrogate(text.charCodeAt(i)) || !isLowSurrogate(text.charCodeAt(i + 1))) count++;
  }
  return count;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
