/**
 * `update` args: a list of `[key, value]` pairs the worker sends while a command runs.
 *
 * Log output (`stdout`, `stderr`, `header`, and `log` for extra log files) is already split
 * into whole lines by the worker: a chunk is `[text, newlineOffsets, timestamps]` where
 * `text` ends with '\n', `newlineOffsets[i]` is the index in `text` of the '\n' ending line i
 * and `timestamps[i]` the epoch seconds (float) when line i's first character arrived.
 * Offsets count Unicode code points, as Python does (they differ from JS string indices only
 * when the text holds characters outside the BMP); use `logChunkLines` to split safely.
 */
import { ProtocolError } from './errors.js';

export type LogChunk = [text: string, newlineOffsets: number[], timestamps: number[]];
export type LogStream = 'stdout' | 'stderr' | 'header';
/** `os.stat()` as a tuple: mode, ino, dev, nlink, uid, gid, size, atime, mtime, ctime. */
export type StatTuple = [
  mode: number,
  ino: number,
  dev: number,
  nlink: number,
  uid: number,
  gid: number,
  size: number,
  atime: number,
  mtime: number,
  ctime: number,
];

export type UpdateEntry =
  | [LogStream, LogChunk]
  | ['log', [logName: string, chunk: LogChunk]]
  | ['rc', number]
  | ['elapsed', number]
  | ['stat', StatTuple]
  | ['files', string[]];

/** Keys a worker may send; anything else is kept as-is by `parseUpdateArgs` (as Buildbot does). */
export type UpdateKey = UpdateEntry[0];

/** An update pair with a key this package does not know. */
export type UnknownUpdateEntry = [key: string, value: unknown];

/** Build a chunk from text made of whole lines ('\n'-terminated), all stamped `time`. */
export function makeLogChunk(text: string, time: number): LogChunk {
  if (text !== '' && !text.endsWith('\n')) {
    throw new RangeError('a log chunk must end with a newline');
  }
  const offsets: number[] = [];
  let codePoint = 0;
  for (const char of text) {
    if (char === '\n') offsets.push(codePoint);
    codePoint += 1;
  }
  return [text, offsets, offsets.map(() => time)];
}

/** The lines of a chunk (without their '\n'), using its offsets (code points, as on the wire). */
export function logChunkLines(chunk: LogChunk): string[] {
  const [text, offsets] = chunk;
  const points = hasSurrogates(text) ? Array.from(text) : null;
  const lines: string[] = [];
  let start = 0;
  for (const offset of offsets) {
    lines.push(points ? points.slice(start, offset).join('') : text.slice(start, offset));
    start = offset + 1;
  }
  return lines;
}

export function stdoutUpdate(chunk: LogChunk): UpdateEntry {
  return ['stdout', chunk];
}
export function stderrUpdate(chunk: LogChunk): UpdateEntry {
  return ['stderr', chunk];
}
export function headerUpdate(chunk: LogChunk): UpdateEntry {
  return ['header', chunk];
}
export function rcUpdate(rc: number): UpdateEntry {
  return ['rc', rc];
}
export function elapsedUpdate(seconds: number): UpdateEntry {
  return ['elapsed', seconds];
}

/**
 * Validate `update` args as received: a list of `[key, value]` pairs whose known keys have the
 * documented shapes. Unknown keys are returned unchanged. Throws ProtocolError otherwise.
 */
export function parseUpdateArgs(args: unknown): (UpdateEntry | UnknownUpdateEntry)[] {
  if (!Array.isArray(args)) {
    throw new ProtocolError('update args must be a list of [key, value] pairs');
  }
  return args.map((pair: unknown, index): UpdateEntry | UnknownUpdateEntry => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
      throw new ProtocolError(`update args[${index}] is not a [key, value] pair`);
    }
    const key: string = pair[0];
    const value: unknown = pair[1];
    const where = `update args[${index}] (${key})`;
    switch (key) {
      case 'stdout':
      case 'stderr':
      case 'header':
        return [key, parseLogChunk(value, where)];
      case 'log': {
        if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string') {
          throw new ProtocolError(`${where} must be [logName, chunk]`);
        }
        return ['log', [value[0], parseLogChunk(value[1], where)]];
      }
      case 'rc':
      case 'elapsed':
        if (typeof value !== 'number') throw new ProtocolError(`${where} must be a number`);
        return [key, value];
      case 'files':
        if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
          throw new ProtocolError(`${where} must be a list of strings`);
        }
        {
          const files: UpdateEntry = ['files', value];
          return files;
        }
      case 'stat':
        if (
          !Array.isArray(value) ||
          value.length !== 10 ||
          !value.every((item) => typeof item === 'number')
        ) {
          throw new ProtocolError(`${where} must be a list of 10 numbers`);
        }
        {
          const stat: UpdateEntry = ['stat', value as StatTuple];
          return stat;
        }
      default:
        return [key, value];
    }
  });
}

/** Validate one `[text, offsets, timestamps]` chunk. */
export function parseLogChunk(value: unknown, where = 'log chunk'): LogChunk {
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    typeof value[0] !== 'string' ||
    !isNumberList(value[1]) ||
    !isNumberList(value[2])
  ) {
    throw new ProtocolError(`${where} must be [text, [newline offsets], [timestamps]]`);
  }
  return [value[0], value[1], value[2]];
}

function isNumberList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

function hasSurrogates(text: string): boolean {
  return /[\uD800-\uDFFF]/.test(text);
}

/**
 * The text of a log chunk as an update carries it: `[text, offsets, timestamps]`, or a bare
 * text; the text as a string or as UTF-8 bytes (a master's `rawLogChunks`). '' for anything
 * else.
 */
export function logChunkText(value: unknown): string {
  const text = Array.isArray(value) ? (value[0] as unknown) : value;
  if (typeof text === 'string') return text;
  if (Buffer.isBuffer(text)) return text.toString('utf8');
  return '';
}

/**
 * A log chunk's text as it came: its UTF-8 bytes when it came as bytes (a master's
 * `rawLogChunks`), else the text as `logChunkText` gives it.
 */
export function logChunkContent(value: unknown): string | Buffer {
  const text = Array.isArray(value) ? (value[0] as unknown) : value;
  return Buffer.isBuffer(text) ? text : logChunkText(value);
}
