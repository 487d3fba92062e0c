/**
 * Opens the database named by a URL and migrates it to the latest schema.
 *
 * `sqlite:///state.sqlite` (relative to the basedir), `sqlite:////abs/path.sqlite`,
 * `sqlite://` (in memory, for tests). PostgreSQL (`postgresql://…`) comes with the
 * several-masters work; callers never see which dialect they run on.
 */
import path from 'node:path';
import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type MigrationProvider,
  type PostgresPool,
} from 'kysely';
import type pg from 'pg';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';
import type { Dialect } from './migrations/column-types.js';
import { YardmasterError } from '../errors.js';
import { sqlStatsFromEnv } from './sql-stats.js';
import { preparingPool } from './prepared-statements.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where it lives, for messages (no password). */
  description: string;
  close(): Promise<void>;
}

/**
 * SQLAlchemy's (so Buildbot's) SQLite URLs: `sqlite:///state.sqlite` is relative to the
 * basedir, `sqlite:////abs/path.sqlite` is absolute; `sqlite://` alone is in memory.
 */
export function sqlitePathFromUrl(url: string, basedir: string): string {
  if (url === 'sqlite://' || url === 'sqlite::memory:' || url === 'sqlite:///:memory:')
    return ':memory:';
  const match = /^sqlite:\/\/\/?(.+)$/.exec(url);
  if (!match?.[1]) {
    throw new YardmasterError(
      'db_url_invalid',
      `database URL "${url}" is not a SQLite URL; use sqlite:///state.sqlite (relative to the basedir) or sqlite:////absolute/path.sqlite`,
    );
  }
  const file = match[1];
  return path.isAbsolute(file) ? file : path.resolve(basedir, file);
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export interface OpenOptions {
  /** Size of the PostgreSQL connection pool (default 10). */
  poolSize?: number;
  /** Run migrations (default true). */
  migrate?: boolean;
}

/** `pg`, imported on first use: a master on SQLite never loads it (idle RSS). */
async function loadPg(): Promise<typeof pg> {
  const { default: library } = await import('pg');
  // int8 (count(*), bigint timestamps) as JS numbers: our values stay far below 2^53.
  library.types.setTypeParser(library.types.builtins.INT8, (value) => Number(value));
  return library;
}

/**
 * `YARDMASTER_DB_POOL_SIZE`: the PostgreSQL pool's size when the caller gives none. Fewer
 * connections can be faster: each one is a server process competing for the same cores.
 */
function poolSizeFromEnv(): number | undefined {
  const text = process.env.YARDMASTER_DB_POOL_SIZE;
  if (text === undefined || text === '') return undefined;
  const size = Number(text);
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    throw new YardmasterError(
      'db_pool_size_invalid',
      `YARDMASTER_DB_POOL_SIZE must be a whole number from 1 to 1000, got "${text}"`,
    );
  }
  return size;
}

async function openPostgres(url: string, options: OpenOptions): Promise<DatabaseHandle> {
  const { Pool } = await loadPg();
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? poolSizeFromEnv() ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection (server restart) must not crash the master.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new YardmasterError(
      'db_open_failed',
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${error instanceof Error ? error.message : String(error)}; check the URL, that the server runs and accepts this user`,
      { cause: error },
    );
  }
  const stats = sqlStatsFromEnv();
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: preparingPool(patientPool(pool)) }),
    ...(stats ? { log: stats.log } : {}),
  });
  const handle: DatabaseHandle = {
    db,
    dialect: 'postgres',
    description: redactUrl(url),
    close: () => {
      stats?.close();
      return db.destroy();
    },
  };
  if (options.migrate !== false) await migrateToLatest(handle);
  return handle;
}

/** Errors that mean "the server is not there right now", worth waiting out. */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      '57P01',
      '57P02',
      '57P03',
      '53300',
    ].includes(code) ||
    code.startsWith('08') ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(
      String((error as Error | null)?.message),
    )
  );
}

const RECONNECT_FOR_MS = 60_000;

/**
 * The pool as Kysely sees it, waiting out a database that is restarting: getting a
 * connection is retried with backoff for up to a minute, so a PostgreSQL restart delays
 * queries instead of failing them. Only *getting* a connection is retried, never a
 * statement that was sent, so nothing can be applied twice.
 */
function patientPool(pool: pg.Pool): PostgresPool {
  return {
    async connect() {
      const deadline = Date.now() + RECONNECT_FOR_MS;
      for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
        try {
          return await pool.connect();
        } catch (error) {
          if (!isUnavailable(error) || Date.now() + delay > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    },
    end: () => pool.end(),
  };
}

export async function openDatabase(
  url: string,
  basedir: string,
  options: OpenOptions = {},
): Promise<DatabaseHandle> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options);
  if (!url.startsWith('sqlite:')) {
    throw new YardmasterError(
      'db_url_invalid',
      `database URL "${redactUrl(url)}" is neither sqlite:// nor postgresql://; see docs/config.md (db.url)`,
    );
  }
  const file = sqlitePathFromUrl(url, basedir);
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(file);
  } catch (error) {
    throw new YardmasterError(
      'db_open_failed',
      `cannot open SQLite database ${file}: ${(error as Error).message}; check the path and its permissions`,
      { cause: error },
    );
  }
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = OFF');
  const stats = sqlStatsFromEnv();
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    ...(stats ? { log: stats.log } : {}),
  });
  const handle: DatabaseHandle = {
    db,
    dialect: 'sqlite',
    description: file,
    close: () => {
      stats?.close();
      return db.destroy();
    },
  };
  if (options.migrate !== false) await migrateToLatest(handle);
  return handle;
}

/** Prepared statements kept per SQLite connection (the SQL texts the master uses, and more). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The connection as Kysely's SQLite driver sees it, with prepared statements reused by SQL
 * text: Kysely prepares every query afresh, and compiling the SQL was a tenth of the
 * master's CPU per build. A statement that is busy (an open `iterate()`) is never handed
 * out twice; SQLite re-prepares cached statements itself after a schema change.
 */
function withStatementCache(sqlite: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string): BetterSqlite3.Statement => {
      const cached = cache.get(text);
      if (cached !== undefined && !cached.busy) return cached;
      const statement = sqlite.prepare(text);
      if (cached === undefined) {
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

export async function migrateToLatest(handle: DatabaseHandle): Promise<void> {
  const provider: MigrationProvider = {
    getMigrations: () => Promise.resolve(migrations(handle.dialect)),
  };
  const migrator = new Migrator({
    db: handle.db,
    provider,
    migrationTableName: 'yardmaster_migrations',
    migrationLockTableName: 'yardmaster_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new YardmasterError(
      'db_migration_failed',
      `migrating the database ${handle.description} failed at ${failed}: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      { cause: error },
    );
  }
}
