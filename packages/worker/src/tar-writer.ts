/**
 * Writes a directory tree as a POSIX tar archive (ustar headers, PAX extended headers for
 * long names, long link targets and huge sizes), optionally gzip- or bzip2-compressed, for
 * `upload_directory`. Like Python's `tarfile.add(path, '')` used by buildbot-worker, member
 * names are relative to the directory ('a.txt', 'sub/', 'sub/b.txt'), in sorted order;
 * unlike it, no entry is written for the directory itself (Python writes one named '/').
 * Regular files, directories and symbolic links are archived; sockets, FIFOs and devices are
 * skipped. A file that changes size while being read is padded or cut to its size at lstat.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export type TarCompression = 'gz' | 'bz2' | null;

const BLOCK = 512;
const RECORD = 20 * BLOCK;
const MAX_OCTAL_SIZE = 0o77777777777;

/** Archive the contents of `sourceDir` into `destFile`. Rejects if `sourceDir` is not a directory. */
export async function writeTarArchive(
  sourceDir: string,
  destFile: string,
  compression: TarCompression,
): Promise<void> {
  const stats = await lstat(sourceDir);
  if (!stats.isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, '${sourceDir}'`), { code: 'ENOTDIR' });
  }
  const source = Readable.from(tarStream(sourceDir));
  const output = createWriteStream(destFile);
  if (compression === 'gz') {
    await pipeline(source, createGzip(), output);
  } else if (compression === 'bz2') {
    await pipeThroughProgram(source, ['bzip2', '-c'], output);
  } else {
    await pipeline(source, output);
  }
}

async function* tarStream(root: string): AsyncGenerator<Buffer> {
  let written = 0;
  for await (const block of walk(root, '')) {
    written += block.length;
    yield block;
  }
  // End of archive: two zero blocks, then pad to a full record as tar(1) and tarfile do.
  const end = 2 * BLOCK;
  const total = Math.ceil((written + end) / RECORD) * RECORD;
  yield Buffer.alloc(total - written);
}

async function* walk(directory: string, prefix: string): AsyncGenerator<Buffer> {
  const names = (await readdir(directory)).sort();
  for (const name of names) {
    const file = path.join(directory, name);
    const member = prefix + name;
    const stats = await lstat(file);
    const common = {
      mode: stats.mode & 0o7777,
      uid: stats.uid,
      gid: stats.gid,
      mtime: Math.floor(stats.mtimeMs / 1000),
    };
    if (stats.isDirectory()) {
      yield* headerBlocks({ ...common, name: `${member}/`, type: '5', size: 0, linkname: '' });
      yield* walk(file, `${member}/`);
    } else if (stats.isSymbolicLink()) {
      const linkname = await readlink(file);
      yield* headerBlocks({ ...common, name: member, type: '2', size: 0, linkname });
    } else if (stats.isFile()) {
      yield* headerBlocks({ ...common, name: member, type: '0', size: stats.size, linkname: '' });
      yield* fileBlocks(file, stats.size);
    }
  }
}

async function* fileBlocks(file: string, size: number): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    let remaining = size;
    while (remaining > 0) {
      const buffer = Buffer.alloc(Math.min(remaining, 256 * 1024));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break; // shrank: pad with zeros below
      remaining -= bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    if (remaining > 0) yield Buffer.alloc(remaining);
  } finally {
    await handle.close();
  }
  const padding = (BLOCK - (size % BLOCK)) % BLOCK;
  if (padding > 0) yield Buffer.alloc(padding);
}

interface HeaderFields {
  name: string;
  type: '0' | '2' | '5';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
}

function* headerBlocks(fields: HeaderFields): Generator<Buffer> {
  const pax: [string, string][] = [];
  if (Buffer.byteLength(fields.name) > 100) pax.push(['path', fields.name]);
  if (Buffer.byteLength(fields.linkname) > 100) pax.push(['linkpath', fields.linkname]);
  if (fields.size > MAX_OCTAL_SIZE) pax.push(['size', String(fields.size)]);
  if (pax.length > 0) {
    const body = Buffer.from(pax.map(([key, value]) => paxRecord(key, value)).join(''));
    yield ustarHeader({
      ...fields,
      name: `PaxHeader/${truncateBytes(path.posix.basename(fields.name), 90)}`,
      type: 'x',
      size: body.length,
      linkname: '',
    });
    yield body;
    const padding = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield ustarHeader(fields);
}

function ustarHeader(fields: Omit<HeaderFields, 'type'> & { type: string }): Buffer {
  const header = Buffer.alloc(BLOCK);
  writeString(header, 0, 100, truncateBytes(fields.name, 100));
  writeOctal(header, 100, 8, fields.mode);
  writeOctal(header, 108, 8, fields.uid);
  writeOctal(header, 116, 8, fields.gid);
  writeOctal(header, 124, 12, fields.size > MAX_OCTAL_SIZE ? 0 : fields.size);
  writeOctal(header, 136, 12, Math.max(0, fields.mtime));
  header.fill(0x20, 148, 156); // checksum field counts as spaces
  writeString(header, 156, 1, fields.type);
  writeString(header, 157, 100, truncateBytes(fields.linkname, 100));
  writeString(header, 257, 6, 'ustar\0');
  writeString(header, 263, 2, '00');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  writeString(header, 148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

function paxRecord(key: string, value: string): string {
  // "<length> <key>=<value>\n" where length counts the whole record, itself included.
  const rest = ` ${key}=${value}\n`;
  const restLength = Buffer.byteLength(rest);
  let length = restLength + 1;
  while (String(length).length + restLength !== length) length = String(length).length + restLength;
  return `${length}${rest}`;
}

function writeString(buffer: Buffer, offset: number, size: number, text: string): void {
  buffer.write(text, offset, size, 'utf8');
}

function writeOctal(buffer: Buffer, offset: number, size: number, value: number): void {
  const digits = Math.min(value, 8 ** (size - 1) - 1)
    .toString(8)
    .padStart(size - 1, '0');
  writeString(buffer, offset, size, `${digits}\0`);
}

function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(out + char) > maxBytes) break;
    out += char;
  }
  return out;
}

/** source → program's stdin; program's stdout → output. Rejects if the program fails. */
async function pipeThroughProgram(
  source: Readable,
  argv: [string, ...string[]],
  output: Writable,
): Promise<void> {
  const [file, ...args] = argv;
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(
        new Error(`cannot run ${file} to compress the archive: ${error.message}`, { cause: error }),
      ),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`${file} failed (exit code ${code ?? 'none'}, signal ${signal ?? 'none'})`),
        );
    });
  });
  const results = await Promise.allSettled([
    pipeline(source, child.stdin),
    pipeline(child.stdout, output),
    exited,
  ]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    // Prefer the program's own error (e.g. ENOENT) over the broken pipe it caused.
    const exitFailure = results[2];
    throw exitFailure.status === 'rejected' ? exitFailure.reason : failed.reason;
  }
}
