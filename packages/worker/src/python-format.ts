/**
 * Python-compatible text helpers, so headers and messages read exactly like
 * buildbot-worker's: `repr()` of str/bytes/lists/dicts, `shlex.quote` (pipes.quote), and
 * glibc's `strerror` texts for Node's error codes.
 */
import { constants } from 'node:os';

/** Python `repr()` of a str. */
export function pythonStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code >= 0x80 && code < 0xa0) out += `\\x${hex(code, 2)}`;
    else out += char;
  }
  return out + quote;
}

/** Python `repr()` of the UTF-8 encoding of `text` as bytes: b'…'. */
export function pythonBytesRepr(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${hex(byte, 2)}`;
    else out += char;
  }
  return out + quote;
}

/** A value shaped like Python's repr of plain data: str, bool, None, numbers, lists, dicts. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pythonStrRepr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'nan';
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (Buffer.isBuffer(value)) return pythonBytesRepr(value.toString('latin1'));
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([key, item]) => `${pythonStrRepr(key)}: ${pythonRepr(item)}`).join(', ')}}`;
  }
  return typeof value === 'bigint' ? String(value) : pythonStrRepr(typeof value);
}

/**
 * buildbot-worker's `shell_quote` for displaying an argv: each word through pipes.quote
 * (unchanged if made of `[A-Za-z0-9_@%+=:,./-]`, else single-quoted), '' shown as "".
 */
export function shellQuote(argv: readonly string[]): string {
  return argv
    .map((word) => {
      if (word === '') return '""';
      if (/^[\w@%+=:,./-]+$/.test(word)) return word;
      return `'${word.replace(/'/g, `'"'"'`)}'`;
    })
    .join(' ');
}

/** glibc's strerror() texts for the codes a worker command meets, as Python shows them. */
const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  EDQUOT: 'Disk quota exceeded',
};

export interface SystemErrorInfo {
  /** Positive errno (Python's e.errno), or 1 if unknown. */
  errno: number;
  /** Python's e.strerror. */
  strerror: string;
}

/** errno and strerror of a Node system error, as Python's OSError would carry them. */
export function systemErrorInfo(error: unknown): SystemErrorInfo {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const errno = (constants.errno as Record<string, number | undefined>)[code] ?? 1;
    const strerror = STRERROR[code] ?? libuvDescription(error) ?? code;
    return { errno, strerror };
  }
  return { errno: 1, strerror: error instanceof Error ? error.message : String(error) };
}

function libuvDescription(error: unknown): string | undefined {
  // Node messages look like "EACCES: permission denied, mkdir '/x'".
  const message = error instanceof Error ? error.message : '';
  const match = /^[A-Z0-9_]+: ([^,]+)/.exec(message);
  const text = match?.[1];
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : undefined;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}
