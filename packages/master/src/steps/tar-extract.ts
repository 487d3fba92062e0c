/**
 * Unpacks the tar archive a worker sends for `directoryUpload` (Buildbot's
 * `DirectoryWriter.remote_unpack`): ustar headers, PAX extended headers (`path`,
 * `linkpath`, `size`), GNU long names (`L`, `K`), regular files, directories and symbolic
 * links; other member types are skipped. Gzip'd archives are inflated first.
 *
 * Safety: a member whose name is absolute or climbs out of the destination with `..` is
 * refused (the whole unpack fails), and so is a symbolic link pointing out of it; the empty
 * and `/` root entries Python's tarfile writes are skipped. Reads the archive from disk in
 * blocks, so a large upload never sits in memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;
const COPY_CHUNK = 64 * 1024;

export class TarError extends Error {}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

/** An octal number field, or GNU's base-256 form (high bit set) for large values. */
function numberField(block: Buffer, start: number, length: number): number {
  const first = block[start] ?? 0;
  if ((first & 0x80) !== 0) {
    let value = first & 0x7f;
    for (let index = start + 1; index < start + length; index++) {
      value = value * 256 + (block[index] ?? 0);
    }
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits === '' ? 0 : parseInt(digits, 8);
}

/** PAX records: "<length> <key>=<value>\n" … */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = parseInt(data.subarray(offset, space).toString('utf8'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

/** `name` inside `root`, or an error for names that would leave it; null for the root. */
function safeTarget(root: string, name: string): string | null {
  const cleaned = name.replace(/\\/g, '/');
  if (cleaned === '' || cleaned === '/' || cleaned === '.' || cleaned === './') return null;
  if (path.posix.isAbsolute(cleaned)) throw new TarError(`refusing absolute member "${name}"`);
  const normalized = path.posix.normalize(cleaned);
  if (normalized === '..' || normalized.startsWith('../')) {
    throw new TarError(`refusing member "${name}" outside the destination`);
  }
  return path.join(root, normalized);
}

/** Reads `length` bytes at `position`; fewer only at the end of the file. */
function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const read = fs.readSync(fd, buffer, done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return buffer.subarray(0, done);
}

/** Unpacks the (uncompressed) tar file `archive` into `destination`; returns the members written. */
export function extractTarFile(archive: string, destination: string): number {
  const root = path.resolve(destination);
  fs.mkdirSync(root, { recursive: true });
  const fd = fs.openSync(archive, 'r');
  let members = 0;
  try {
    let position = 0;
    let pax: Record<string, string> = {};
    let longName: string | null = null;
    let longLink: string | null = null;
    for (;;) {
      const header = readAt(fd, BLOCK, position);
      if (header.length < BLOCK || header.every((byte) => byte === 0)) break;
      position += BLOCK;
      const type = String.fromCharCode(header[156] ?? 0);
      const magic = text(header, 257, 6);
      let name = text(header, 0, 100);
      if (magic.startsWith('ustar')) {
        const prefix = text(header, 345, 155);
        if (prefix !== '') name = `${prefix}/${name}`;
      }
      let size = numberField(header, 124, 12);
      const mode = numberField(header, 100, 8) & 0o7777;
      let linkName = text(header, 157, 100);
      if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
        const data = readAt(fd, size, position);
        position += Math.ceil(size / BLOCK) * BLOCK;
        if (type === 'x') pax = paxRecords(data);
        else if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
        else if (type === 'K') longLink = data.toString('utf8').replace(/\0+$/, '');
        continue;
      }
      if (pax.path !== undefined) name = pax.path;
      else if (longName !== null) name = longName;
      if (pax.linkpath !== undefined) linkName = pax.linkpath;
      else if (longLink !== null) linkName = longLink;
      if (pax.size !== undefined) size = Number(pax.size);
      pax = {};
      longName = null;
      longLink = null;
      const dataStart = position;
      position += Math.ceil(size / BLOCK) * BLOCK;
      const target = safeTarget(root, name);
      if (target === null) continue;
      if (type === '5') {
        fs.mkdirSync(target, { recursive: true });
        members += 1;
      } else if (type === '0' || type === '\0' || type === '7') {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.rmSync(target, { force: true });
        const out = fs.openSync(target, 'w', mode || 0o644);
        try {
          for (let offset = 0; offset < size; offset += COPY_CHUNK) {
            const chunk = readAt(fd, Math.min(COPY_CHUNK, size - offset), dataStart + offset);
            if (chunk.length === 0) throw new TarError(`archive ends inside "${name}"`);
            fs.writeSync(out, chunk);
          }
        } finally {
          fs.closeSync(out);
        }
        if (mode) fs.chmodSync(target, mode);
        members += 1;
      } else if (type === '2') {
        const resolved = path.resolve(path.dirname(target), linkName);
        if (resolved !== root && !resolved.startsWith(root + path.sep)) {
          throw new TarError(
            `refusing symbolic link "${name}" -> "${linkName}" outside the destination`,
          );
        }
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.rmSync(target, { force: true });
        fs.symlinkSync(linkName, target);
        members += 1;
      }
      // Hard links, devices and FIFOs are skipped.
    }
  } finally {
    fs.closeSync(fd);
  }
  return members;
}

/** Unpacks `archive` (compressed as `compress`) into `destination`. */
export async function extractArchive(
  archive: string,
  destination: string,
  compress: 'gz' | null,
): Promise<number> {
  if (compress !== 'gz') return extractTarFile(archive, destination);
  const inflated = `${archive}.tar`;
  try {
    await pipeline(fs.createReadStream(archive), createGunzip(), fs.createWriteStream(inflated));
    return extractTarFile(inflated, destination);
  } finally {
    fs.rmSync(inflated, { force: true });
  }
}
