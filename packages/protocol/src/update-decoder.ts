/**
 * A fast path for the frames a master receives most: `update` frames full of log chunks.
 *
 * `decodeUpdateFrame` reads an `update` frame without building the chunks' newline-offset and
 * timestamp lists (their items are checked to be numbers and skipped; the chunk gets empty
 * lists). A master does not read those lists — Buildbot's master takes `value[0]` of a
 * chunk as Yardmaster's does — and at 80-byte lines they are 2.5 million numbers per 100 MB,
 * half of what msgpack decoding allocates. A chunk's text is not decoded either: it arrives
 * as its UTF-8 bytes, a view of `data` (not a copy), which the master's log writer copies
 * into the lines it stores; `logChunkText` turns it into a string where one is needed
 * (decision 0021). Everything else in the frame is decoded as
 * `decodeFrame` would (strings, numbers, nil, booleans, bin as Buffer, arrays, maps with
 * string keys). A frame this reader does not fully understand — another op, `op` not the
 * first key, an extension type, a map key that is not a string, trailing bytes, a short
 * frame — yields `undefined`, and the caller decodes it with `decodeFrame` (which reports
 * what is wrong with it). Stateless: safe to call from anywhere.
 */
import type { Frame } from './codec.js';

/** Thrown inside the reader when the frame leaves the fast path; never escapes. */
class NotFast extends Error {}
const NOT_FAST = new NotFast();

const LOG_KEYS = new Set(['stdout', 'stderr', 'header']);
const EMPTY: readonly number[] = Object.freeze([]);

/**
 * The frame decoded with its log chunks' offset and timestamp lists left empty, or
 * `undefined` when `data` is not an `update` frame this fast path reads (decode it with
 * `decodeFrame` then).
 */
export function decodeUpdateFrame(data: Buffer): Frame | undefined {
  const reader = new Reader(data);
  try {
    const frame = reader.updateFrame();
    if (reader.pos !== data.length) return undefined;
    return frame;
  } catch (error) {
    if (error === NOT_FAST || error instanceof RangeError) return undefined;
    throw error;
  }
}

class Reader {
  pos = 0;
  constructor(private readonly data: Buffer) {}

  updateFrame(): Frame | undefined {
    const size = this.mapSize();
    if (size === 0 || this.str() !== 'op' || this.value() !== 'update') return undefined;
    const frame: Record<string, unknown> = { op: 'update' };
    for (let i = 1; i < size; i++) {
      const key = this.str();
      frame[key] = key === 'args' ? this.updateArgs() : this.value();
    }
    const seq = frame.seq_number;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return undefined;
    return frame as Frame;
  }

  /** `[[key, value], …]`, log chunks read without their lists. */
  private updateArgs(): unknown[] {
    const count = this.arraySize();
    const args = new Array<unknown>(count);
    for (let i = 0; i < count; i++) {
      const start = this.pos;
      if (this.byte() !== 0x92) {
        // Not a 2-item fixarray: decode the item as it is.
        this.pos = start;
        args[i] = this.value();
        continue;
      }
      const key = this.value();
      if (typeof key === 'string' && LOG_KEYS.has(key)) {
        args[i] = [key, this.logChunk()];
      } else if (key === 'log' && this.data[this.pos] === 0x92) {
        this.pos++;
        args[i] = [key, [this.value(), this.logChunk()]];
      } else {
        args[i] = [key, this.value()];
      }
    }
    return args;
  }

  /**
   * `[text, offsets, timestamps]` as `[UTF-8 bytes of text, [], []]`; anything else as it is
   * (decoded as `value` does).
   */
  private logChunk(): unknown {
    const start = this.pos;
    if (this.byte() !== 0x93) {
      this.pos = start;
      return this.value();
    }
    const textAt = this.pos;
    const text = this.strBytes();
    if (text === undefined || !this.skipNumbers() || !this.skipNumbers()) {
      this.pos = textAt;
      return [this.value(), this.value(), this.value()];
    }
    return [text, EMPTY as number[], EMPTY as number[]];
  }

  /** The bytes of a str (a view of the frame), or undefined when the next value is no str. */
  private strBytes(): Buffer | undefined {
    const type = this.byte();
    let length: number;
    if (type >= 0xa0 && type <= 0xbf) length = type & 0x1f;
    else if (type === 0xd9) length = this.uint(1);
    else if (type === 0xda) length = this.uint(2);
    else if (type === 0xdb) length = this.uint(4);
    else return undefined;
    const end = this.pos + length;
    if (end > this.data.length) throw NOT_FAST;
    const bytes = this.data.subarray(this.pos, end);
    this.pos = end;
    return bytes;
  }

  /** Skips an array made only of numbers; false (position undefined) for anything else. */
  private skipNumbers(): boolean {
    const count = this.arraySize();
    const data = this.data;
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      const type = data[pos++];
      if (type === undefined) throw NOT_FAST;
      if (type < 0x80 || type >= 0xe0) continue; // fixints
      switch (type) {
        case 0xcc:
        case 0xd0:
          pos += 1;
          break;
        case 0xcd:
        case 0xd1:
          pos += 2;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          pos += 4;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          pos += 8;
          break;
        default:
          return false;
      }
    }
    if (pos > data.length) throw NOT_FAST;
    this.pos = pos;
    return true;
  }

  private byte(): number {
    const value = this.data[this.pos++];
    if (value === undefined) throw NOT_FAST;
    return value;
  }

  private mapSize(): number {
    return this.containerSize(0x80, 0xde);
  }

  private arraySize(): number {
    return this.containerSize(0x90, 0xdc);
  }

  /** A map's or array's size: its fix form (`fix` … `fix + 15`), then its 16- and 32-bit forms. */
  private containerSize(fix: number, sized16: number): number {
    const type = this.byte();
    if (type >= fix && type <= fix + 0x0f) return type & 0x0f;
    if (type === sized16) return this.uint(2);
    if (type === sized16 + 1) return this.uint(4);
    throw NOT_FAST;
  }

  private str(): string {
    const value = this.value();
    if (typeof value !== 'string') throw NOT_FAST;
    return value;
  }

  private uint(bytes: 1 | 2 | 4): number {
    const pos = this.pos;
    this.pos += bytes;
    if (bytes === 1) return this.data.readUInt8(pos);
    if (bytes === 2) return this.data.readUInt16BE(pos);
    return this.data.readUInt32BE(pos);
  }

  private text(length: number): string {
    const start = this.pos;
    const end = start + length;
    if (end > this.data.length) throw NOT_FAST;
    this.pos = end;
    return this.data.toString('utf8', start, end);
  }

  private bytes(length: number): Buffer {
    const start = this.pos;
    const end = start + length;
    if (end > this.data.length) throw NOT_FAST;
    this.pos = end;
    // A copy, as msgpackr gives: the frame's buffer may be reused by the socket.
    return Buffer.from(this.data.subarray(start, end));
  }

  /** Any msgpack value but extensions (those leave the fast path). */
  private value(): unknown {
    const type = this.byte();
    if (type < 0x80) return type;
    if (type >= 0xe0) return type - 0x100;
    if (type <= 0x8f) return this.map(type & 0x0f);
    if (type <= 0x9f) return this.array(type & 0x0f);
    if (type <= 0xbf) return this.text(type & 0x1f);
    const data = this.data;
    const pos = this.pos;
    switch (type) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bytes(this.uint(1));
      case 0xc5:
        return this.bytes(this.uint(2));
      case 0xc6:
        return this.bytes(this.uint(4));
      case 0xca:
        this.pos += 4;
        return data.readFloatBE(pos);
      case 0xcb:
        this.pos += 8;
        return data.readDoubleBE(pos);
      case 0xcc:
        return this.uint(1);
      case 0xcd:
        return this.uint(2);
      case 0xce:
        return this.uint(4);
      case 0xcf:
        this.pos += 8;
        return Number(data.readBigUInt64BE(pos));
      case 0xd0:
        this.pos += 1;
        return data.readInt8(pos);
      case 0xd1:
        this.pos += 2;
        return data.readInt16BE(pos);
      case 0xd2:
        this.pos += 4;
        return data.readInt32BE(pos);
      case 0xd3:
        this.pos += 8;
        return Number(data.readBigInt64BE(pos));
      case 0xd9:
        return this.text(this.uint(1));
      case 0xda:
        return this.text(this.uint(2));
      case 0xdb:
        return this.text(this.uint(4));
      case 0xdc:
        return this.array(this.uint(2));
      case 0xdd:
        return this.array(this.uint(4));
      case 0xde:
        return this.map(this.uint(2));
      case 0xdf:
        return this.map(this.uint(4));
      default:
        // 0xc1 (never used) and the extension types.
        throw NOT_FAST;
    }
  }

  private array(count: number): unknown[] {
    const items = new Array<unknown>(count);
    for (let i = 0; i < count; i++) items[i] = this.value();
    return items;
  }

  private map(count: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const key = this.str();
      if (key === '__proto__') throw NOT_FAST;
      out[key] = this.value();
    }
    return out;
  }
}
