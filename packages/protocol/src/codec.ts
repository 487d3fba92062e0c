/**
 * The msgpack codec for worker-protocol frames, byte-compatible with Python msgpack 1.0
 * (`msgpack.packb(obj, use_bin_type=True)` / `msgpack.unpackb(data, raw=False)`):
 * - strings are msgpack `str`, Buffers/Uint8Arrays are `bin` (decoded back to Buffer);
 * - maps are plain objects (fixmap/map16/map32 chosen by size, like Python);
 * - integers use the smallest int encoding; integers outside the 32-bit range are written
 *   as 64-bit ints (msgpackr would otherwise write them as float64), so Python sees `int`;
 * - non-integral numbers are float64 (never float32), like Python floats;
 * - `undefined` object properties are dropped and `undefined` array items become nil, since
 *   msgpack has no undefined (msgpackr would emit an extension Python cannot use).
 * A number that is integral is always encoded as an int: a Python float such as `5.0` that
 * we relay comes back as `5`, which Python code treats the same.
 */
import { Packr } from 'msgpackr';
import { ProtocolError } from './errors.js';

/** One protocol message: a msgpack map with a string `op` and an integer `seq_number`. */
export type Frame = { op: string; seq_number: number; [key: string]: unknown };

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  int64AsType: 'number',
  moreTypes: false,
});

/** Encode one frame as a msgpack map. Throws ProtocolError for values msgpack cannot carry. */
export function encodeFrame(frame: Frame): Buffer {
  return encodeValue(frame);
}

/** Encode any msgpack-compatible value (exported for fixtures and tests). */
export function encodeValue(value: unknown): Buffer {
  return packr.pack(normalizeForEncoding(value, '$'));
}

/**
 * Decode one frame. Throws ProtocolError unless `data` holds exactly one msgpack map with a
 * string `op` and an integer `seq_number`, made only of msgpack's standard types.
 */
export function decodeFrame(data: Buffer | Uint8Array): Frame {
  let value: unknown;
  try {
    value = packr.unpack(data);
  } catch (error) {
    throw new ProtocolError(
      `cannot decode a ${data.length}-byte frame as msgpack: ${errorMessage(error)}`,
    );
  }
  if (!isPlainObject(value)) {
    throw new ProtocolError(`frame is not a msgpack map (got ${describe(value)})`);
  }
  checkDecodedValue(value, '$');
  const { op, seq_number: seqNumber } = value;
  if (typeof op !== 'string') {
    throw new ProtocolError(`frame has no string "op" (got ${describe(op)})`);
  }
  if (typeof seqNumber !== 'number' || !Number.isSafeInteger(seqNumber)) {
    throw new ProtocolError(
      `frame "${op}" has no integer "seq_number" (got ${describe(seqNumber)})`,
    );
  }
  return value as Frame;
}

const INT32_MIN = -0x8000_0000;
const UINT32_MAX = 0xffff_ffff;

function normalizeNumber(value: number): number | bigint {
  if (Number.isInteger(value) && (value < INT32_MIN || value > UINT32_MAX)) {
    if (!Number.isSafeInteger(value)) {
      // Beyond 2^53 the number is not exact anyway: keep it a float like JSON would.
      return value;
    }
    return BigInt(value);
  }
  return value;
}

/**
 * Lists of numbers the caller vouches for: every item is a non-integral number or an integer
 * within the 32-bit range, so normalizing would change nothing (the worker's line offsets
 * and timestamps, ~2.5 million numbers per 100 MB of 80-byte lines). Encoded as they are.
 */
const plainNumberLists = new WeakSet<readonly number[]>();

/**
 * Marks `list` (and returns it) as holding only numbers that encode as they are: non-integral
 * ones and integers from -2^31 to 2^32 - 1. The caller must not break that afterwards.
 */
export function asPlainNumberList<T extends readonly number[]>(list: T): T {
  plainNumberLists.add(list);
  return list;
}

function normalizeForEncoding(value: unknown, path: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return normalizeNumber(value);
    case 'bigint':
      return value;
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      throw new ProtocolError(`cannot encode ${typeof value} at ${path} as msgpack`);
  }
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  if (Array.isArray(value)) {
    if (plainNumberLists.has(value)) return value;
    // Hot path (update frames carry long lists of line offsets and timestamps): primitives
    // are handled inline, so a path string is only built for nested values.
    // The array is copied only from its first changed item: lists of small numbers and
    // strings (almost every list) go to msgpackr as they are.
    const items: unknown[] = value;
    let out: unknown[] | undefined;
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      let normal: unknown;
      if (typeof item === 'number') normal = normalizeNumber(item);
      else if (typeof item === 'string' || typeof item === 'boolean') normal = item;
      else normal = normalizeForEncoding(item, `${path}[${index}]`);
      if (out) out[index] = normal;
      else if (normal !== item) {
        out = items.slice(0, index);
        out[index] = normal;
      }
    }
    return out ?? items;
  }
  if (!isPlainObject(value)) {
    throw new ProtocolError(
      `cannot encode ${describe(value)} at ${path} as msgpack: only plain objects, arrays, ` +
        'strings, numbers, booleans, null and Buffers are allowed',
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    out[key] = normalizeForEncoding(item, `${path}.${key}`);
  }
  return out;
}

function checkDecodedValue(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
      return;
    case 'object':
      break;
    default:
      throw new ProtocolError(`frame holds a non-msgpack value at ${path} (${describe(value)})`);
  }
  if (value === null || Buffer.isBuffer(value)) return;
  if (Array.isArray(value)) {
    // Hot path: primitives are checked inline, so a path string is only built for nested values.
    const items: unknown[] = value;
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      const type = typeof item;
      if (type === 'string' || type === 'number' || type === 'boolean' || item === null) continue;
      checkDecodedValue(item, `${path}[${index}]`);
    }
    return;
  }
  if (!isPlainObject(value)) {
    throw new ProtocolError(
      `frame holds an unsupported msgpack type at ${path} (${describe(value)})`,
    );
  }
  for (const [key, item] of Object.entries(value)) checkDecodedValue(item, `${path}.${key}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'nil';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'bytes';
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === 'string' ? `a ${ctor.name}` : 'an object';
  }
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${value}`;
  }
  return typeof value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
