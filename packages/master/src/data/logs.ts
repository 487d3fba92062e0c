/**
 * Logs and their chunks. A chunk is a run of whole lines, compressed when worth it,
 * appended as output arrives so a log can be read while its step runs. Lines of an
 * 's' (stdio) log start with their stream: 'o' stdout, 'e' stderr, 'h' header. A chunk of
 * one stream's lines may be stored without the letters, its `stream` naming them: readers
 * put them back (`contents`) or have nothing to strip (`raw`; decision 0021).
 * One writer per log (the build that owns it) keeps `num_lines` consistent.
 */
import { promisify } from 'node:util';
import {
  brotliCompress as brotliCallback,
  brotliCompressSync,
  brotliDecompressSync,
  constants as zlibConstants,
  gunzipSync,
} from 'node:zlib';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { isPostgres, type DataContext } from './context.js';
import type { Database } from '../db/schema.js';
import { applyFilters, applyOrderAndPage, type CollectionDef } from './query.js';
import type { ResultSpec } from './result-spec.js';

export interface LogEntity {
  logid: number;
  name: string;
  slug: string;
  stepid: number;
  complete: boolean;
  num_lines: number;
  type: string;
}

const COMPRESS_FROM_BYTES = 256;

export const LOG_COLLECTION: CollectionDef = {
  name: 'logs',
  defaultOrder: { column: 'id', descending: false },
  fields: {
    logid: { column: 'id', type: 'number' },
    name: { column: 'name', type: 'string' },
    slug: { column: 'slug', type: 'string' },
    stepid: { column: 'stepid', type: 'number' },
    complete: { column: 'complete', type: 'boolean' },
    num_lines: { column: 'num_lines', type: 'number' },
    type: { column: 'type', type: 'string' },
  },
};

/** A `logs` row, as stored (and as PostgreSQL's row_to_json gives it). */
export type LogRow = {
  id: number;
  name: string;
  slug: string;
  stepid: number;
  complete: number;
  num_lines: number;
  type: string;
};

export function toLog(row: LogRow): LogEntity {
  return {
    logid: row.id,
    name: row.name,
    slug: row.slug,
    stepid: row.stepid,
    complete: row.complete === 1,
    num_lines: row.num_lines,
    type: row.type,
  };
}

export type LogStream = 'o' | 'e' | 'h';

/** Where appended lines go and what the writer knows of them (saves reading and counting). */
export interface ChunkPlacement {
  /** Lines stored so far, from the log's one writer: where the text starts. */
  firstLine?: number;
  /** The number of lines in the text, when the writer knows it. */
  lines?: number;
  /** Stdio logs: every line is of this stream and comes without its letter in front. */
  stream?: LogStream;
}

/** What a log's writer has left to store when its step ends: stored with the step's end. */
export interface LogTail extends ChunkPlacement {
  logid: number;
  /** Whole lines not stored yet (may be empty), as text or UTF-8 bytes. */
  text: string | Buffer;
  firstLine: number;
}

export function slugify(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]+/g, '_') || 'log';
}

/**
 * `logchunks.compressed`: how `content` is stored. Buildbot 3.7 numbers raw 0, gz 1, bz2 2,
 * lz4 3; brotli takes the next code. Chunks are written raw or brotli (decision 0021);
 * gzip chunks, written before, are still read.
 */
const RAW = 0;
const GZIP = 1;
export const BROTLI = 4;

/**
 * Brotli at quality 1: on log text 2–5 times faster than gzip at level 1 with a better ratio
 * (Debian changelogs: 3.4 against 9.7 ms per MiB, ratio 5.7 against 3.7; repeated lines:
 * 0.3 against 1.6 ms), and faster to read back (decision 0021).
 */
function brotliOptions(bytes: number) {
  return {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: 1,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes,
    },
  };
}

interface EncodedChunk {
  content: Buffer;
  compressed: boolean;
  lines: number;
  stream: LogStream | null;
}

/**
 * Whole lines (a missing last newline is added), compressed from 256 bytes. `at.lines`, when
 * given, is the number of '\n' in `text` (the log writer knows it without a pass per line).
 */
function encodeChunk(text: string | Buffer, at: ChunkPlacement = {}): EncodedChunk {
  return compressInPlace(wholeLines(text, at.lines), at.stream);
}

/** Whole lines compressed on the event loop from COMPRESS_FROM_BYTES, stored as they are below. */
function compressInPlace(
  { raw, lines }: { raw: Buffer; lines: number },
  stream: LogStream | undefined,
): EncodedChunk {
  const compressed = raw.length >= COMPRESS_FROM_BYTES;
  const content = compressed ? brotliCompressSync(raw, brotliOptions(raw.length)) : raw;
  return { content, compressed, lines, stream: stream ?? null };
}

/** `text` as UTF-8 bytes ending with a newline (added if missing), and its line count. */
function wholeLines(text: string | Buffer, knownLines?: number): { raw: Buffer; lines: number } {
  let raw = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let lines = knownLines ?? countNewlines(raw);
  if (raw[raw.length - 1] !== 0x0a) {
    raw = Buffer.concat([raw, NEWLINE]);
    lines++;
  }
  return { raw, lines };
}

const brotliCompress = promisify(brotliCallback);

/**
 * From this size a chunk is compressed on libuv's thread pool, off the event loop. The log
 * writer's chunks (up to ~1 MiB) stay below it: compressing 1 MiB in place costs ~1 ms, while
 * the thread pool's stream set-up, hand-over and the GC its buffers bring cost the master
 * more CPU in all (decision 0017; decision 0016 had 64 KiB, with 256 KiB appends).
 */
const COMPRESS_OFF_THREAD_FROM_BYTES = 4 * 1024 * 1024;

/**
 * `encodeChunk` for the appends of a running log (the text may be UTF-8 bytes already): a
 * very large chunk is compressed on the thread pool, so the event loop goes on meanwhile.
 */
async function encodeChunkAsync(text: string | Buffer, at: ChunkPlacement): Promise<EncodedChunk> {
  const whole = wholeLines(text, at.lines);
  if (whole.raw.length < COMPRESS_OFF_THREAD_FROM_BYTES) return compressInPlace(whole, at.stream);
  const { raw, lines } = whole;
  const content = await brotliCompress(raw, brotliOptions(raw.length));
  return { content, compressed: true, lines, stream: at.stream ?? null };
}

const NEWLINE = Buffer.from('\n');

/** Whole lines with `stream` put in front of each (a chunk stored with its stream). */
function withStream(text: string, stream: string): string {
  if (text.length === 0) return text;
  // After every '\n' but the last, and before the first line.
  return stream + text.slice(0, -1).replaceAll('\n', `\n${stream}`) + '\n';
}

/** Below this average line length, a byte loop counts lines faster than a search per line. */
const SHORT_LINE_BYTES = 16;

/**
 * The number of '\n' in `bytes`: one native search per line (0.4 ns a byte at 80-byte
 * lines), or, once 64 lines have averaged under SHORT_LINE_BYTES, a loop over the remaining
 * bytes (1.8 ns a byte, where the searches took 16 at 2-byte lines).
 */
export function countNewlines(bytes: Buffer): number {
  let lines = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) {
    lines++;
    if ((lines & 63) === 0 && i < lines * SHORT_LINE_BYTES) {
      for (let j = i + 1; j < bytes.length; j++) if (bytes[j] === 0x0a) lines++;
      return lines;
    }
  }
  return lines;
}

function decodeBytes(content: Uint8Array, compressed: number): Buffer {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (compressed === BROTLI) return brotliDecompressSync(buf);
  if (compressed === GZIP) return gunzipSync(buf);
  return buf;
}

/** The offset just after the `lines`-th '\n' from `from` in `bytes` (or its end). */
function afterLines(bytes: Buffer, from: number, lines: number): number {
  let at = from;
  for (let n = 0; n < lines && at < bytes.length; n++) {
    const newline = bytes.indexOf(0x0a, at);
    if (newline === -1) return bytes.length;
    at = newline + 1;
  }
  return at;
}

/** `raw` yields a chunk in pieces of about this many bytes, cut after a newline. */
const RAW_PIECE_BYTES = 64 * 1024;

export class LogsData {
  constructor(private readonly ctx: DataContext) {}

  async add(stepid: number, name: string, type: 's' | 't' | 'h'): Promise<number> {
    const row = await this.ctx.db
      .insertInto('logs')
      .values({ name, slug: slugify(name), stepid, complete: 0, num_lines: 0, type })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.publish(toLog(row), 'new');
    return row.id;
  }

  /**
   * Appends whole lines (each ending in '\n', as text or UTF-8 bytes); returns the new line
   * count. The log's one writer may pass `at.firstLine` (the count it already wrote): then
   * nothing is read first, and on PostgreSQL the chunk and the count are one statement.
   */
  async append(logid: number, text: string | Buffer, at: ChunkPlacement = {}): Promise<number> {
    if (text.length === 0) return (await this.get(logid))?.num_lines ?? 0;
    const chunk = await encodeChunkAsync(text, at);
    const first =
      at.firstLine ??
      (
        await this.ctx.db
          .selectFrom('logs')
          .select('num_lines')
          .where('id', '=', logid)
          .executeTakeFirstOrThrow()
      ).num_lines;
    const row = await this.writeChunk(logid, first, chunk, false);
    // As Buildbot, the event carries the whole log entity.
    this.publish(row, 'append');
    return row.num_lines;
  }

  /**
   * Marks the log complete; with `last`, its last lines are stored in the same write (a
   * short step's whole output is then one statement on PostgreSQL).
   */
  async finish(logid: number, last?: Omit<LogTail, 'logid'>): Promise<void> {
    if (last && last.text.length > 0) {
      const chunk = encodeChunk(last.text, last);
      const row = await this.writeChunk(logid, last.firstLine, chunk, true);
      this.publish(row, 'append');
      this.publish(row, 'finished');
      return;
    }
    const row = await this.ctx.db
      .updateTable('logs')
      .set({ complete: 1 })
      .where('id', '=', logid)
      .returningAll()
      .executeTakeFirst();
    if (row) this.publish(toLog(row), 'finished');
  }

  /**
   * PostgreSQL: the writes that complete `tails` (each one's last chunk, if any, and the
   * completion) as CTEs `t0`, `t1`, … returning the logs' rows, for a statement that
   * adds its own write (a step's end) after them.
   */
  tailCtes(tails: LogTail[]): RawBuilder<unknown>[] {
    return tails.map((tail, i) => {
      const name = sql.raw(`t${i}`);
      if (tail.text.length === 0) {
        return sql`${name} as (update logs set complete = 1 where id = ${tail.logid} returning *)`;
      }
      const chunk = encodeChunk(tail.text, tail);
      const numLines = tail.firstLine + chunk.lines;
      return sql`${sql.raw(`c${i}`)} as (insert into logchunks
          (logid, first_line, last_line, content, compressed, stream)
          values (${tail.logid}, ${tail.firstLine}, ${numLines - 1}, ${chunk.content},
            ${chunk.compressed ? BROTLI : RAW}, ${chunk.stream})),
        ${name} as (update logs set num_lines = ${numLines}, complete = 1
          where id = ${tail.logid} returning *)`;
    });
  }

  /** SQLite (in the caller's transaction): the same writes as `tailCtes`, one by one. */
  async finishTailsIn(trx: Kysely<Database>, tails: LogTail[]): Promise<LogEntity[]> {
    const rows: LogEntity[] = [];
    for (const tail of tails) {
      let numLines: number | undefined;
      if (tail.text.length > 0) {
        const chunk = encodeChunk(tail.text, tail);
        numLines = tail.firstLine + chunk.lines;
        await trx
          .insertInto('logchunks')
          .values({
            logid: tail.logid,
            first_line: tail.firstLine,
            last_line: numLines - 1,
            content: chunk.content,
            compressed: chunk.compressed ? BROTLI : RAW,
            stream: chunk.stream,
          })
          .execute();
      }
      const row = await trx
        .updateTable('logs')
        .set(numLines === undefined ? { complete: 1 } : { num_lines: numLines, complete: 1 })
        .where('id', '=', tail.logid)
        .returningAll()
        .executeTakeFirst();
      if (row) rows.push(toLog(row));
    }
    return rows;
  }

  /** The events of completed tails: `append` for those that stored lines, then `finished`. */
  publishTails(tails: LogTail[], rows: LogEntity[]): void {
    for (const row of rows) {
      const tail = tails.find((t) => t.logid === row.logid);
      if (tail && tail.text.length > 0) this.publish(row, 'append');
      this.publish(row, 'finished');
    }
  }

  /** Stores one chunk from `first` and moves `num_lines` past it (and completes the log). */
  private async writeChunk(
    logid: number,
    first: number,
    chunk: EncodedChunk,
    complete: boolean,
  ): Promise<LogEntity> {
    const numLines = first + chunk.lines;
    const chunkRow = {
      logid,
      first_line: first,
      last_line: numLines - 1,
      content: chunk.content,
      compressed: chunk.compressed ? BROTLI : RAW,
      stream: chunk.stream,
    };
    const set = complete ? { num_lines: numLines, complete: 1 } : { num_lines: numLines };
    if (isPostgres(this.ctx.db)) {
      const row = await this.ctx.db
        .with('chunk', (db) => db.insertInto('logchunks').values(chunkRow))
        .updateTable('logs')
        .set(set)
        .where('id', '=', logid)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toLog(row);
    }
    const row = await this.ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('logchunks').values(chunkRow).execute();
      return trx
        .updateTable('logs')
        .set(set)
        .where('id', '=', logid)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    return toLog(row);
  }

  async get(logid: number): Promise<LogEntity | undefined> {
    const row = await this.ctx.db
      .selectFrom('logs')
      .selectAll()
      .where('id', '=', logid)
      .executeTakeFirst();
    return row ? toLog(row) : undefined;
  }

  async list(stepid: number, slug?: string): Promise<LogEntity[]> {
    let q = this.ctx.db.selectFrom('logs').selectAll().where('stepid', '=', stepid);
    if (slug !== undefined) q = q.where('slug', '=', slug);
    return (await q.orderBy('id').execute()).map(toLog);
  }

  /** Logs (Buildbot's `/logs` paths) filtered, ordered and paged in SQL. */
  async listFor(
    spec: ResultSpec,
    scope: { stepid?: number; slug?: string; logid?: number },
  ): Promise<{ items: LogEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom('logs');
    if (scope.stepid !== undefined) base = base.where('stepid', '=', scope.stepid);
    if (scope.slug !== undefined) base = base.where('slug', '=', scope.slug);
    if (scope.logid !== undefined) base = base.where('id', '=', scope.logid);
    base = applyFilters(base, LOG_COLLECTION, spec);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), LOG_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toLog), total: Number(count.n) };
  }

  /** Buildbot's event paths for a log: by id, and by step and slug. */
  private publish(log: LogEntity | undefined, event: string): void {
    if (!log) return;
    this.ctx.bus.publishAll(
      [
        ['logs', String(log.logid), event],
        ['steps', String(log.stepid), 'logs', log.slug, event],
      ],
      log,
    );
  }

  /** Lines [firstLine, lastLine] (inclusive, 0-based) as one string of whole lines. */
  async contents(
    logid: number,
    firstLine = 0,
    lastLine = Number.MAX_SAFE_INTEGER,
  ): Promise<string> {
    const chunks = await this.ctx.db
      .selectFrom('logchunks')
      .selectAll()
      .where('logid', '=', logid)
      .where('last_line', '>=', firstLine)
      .where('first_line', '<=', Math.min(lastLine, 2_147_483_647))
      .orderBy('first_line')
      .execute();
    const parts: string[] = [];
    for (const c of chunks) {
      const bytes = decodeBytes(c.content, c.compressed);
      let text: string;
      if (c.first_line >= firstLine && c.last_line <= lastLine) {
        text = bytes.toString('utf8');
      } else {
        // Part of a chunk (up to 1 MiB): only the lines asked for become a string.
        const start = afterLines(bytes, 0, Math.max(0, firstLine - c.first_line));
        const end = afterLines(bytes, start, lastLine - Math.max(firstLine, c.first_line) + 1);
        text = bytes.toString('utf8', start, end);
      }
      parts.push(c.stream ? withStream(text, c.stream) : text);
    }
    return parts.join('');
  }

  /**
   * The log's text in pieces of whole lines (up to ~64 KiB each), with stream prefixes
   * removed for stdio logs. A 1 MiB chunk is not turned into one string: stripping the
   * prefixes of a 1 MiB string of 2-byte lines took 4 times as long as of 64 KiB pieces.
   */
  async *raw(logid: number, type: string): AsyncGenerator<string> {
    const pageSize = 16;
    for (let from = 0; ;) {
      const chunks = await this.ctx.db
        .selectFrom('logchunks')
        .selectAll()
        .where('logid', '=', logid)
        .where('first_line', '>=', from)
        .orderBy('first_line')
        .limit(pageSize)
        .execute();
      for (const c of chunks) {
        const bytes = decodeBytes(c.content, c.compressed);
        for (let start = 0; start < bytes.length;) {
          const cut = start + RAW_PIECE_BYTES;
          const newline = cut >= bytes.length ? -1 : bytes.indexOf(0x0a, cut);
          const end = newline === -1 ? bytes.length : newline + 1;
          const text = bytes.toString('utf8', start, end);
          // A chunk stored with its stream has no letters to strip.
          yield type === 's' && !c.stream ? text.replace(/^./gm, '') : text;
          start = end;
        }
        from = c.last_line + 1;
      }
      if (chunks.length < pageSize) return;
    }
  }
}
