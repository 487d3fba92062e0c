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
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';
import type { Dialect } from './migrations/column-types.js';
import { YardmasterError } from '../errors.js';

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

export async function openDatabase(url: string, basedir: string): Promise<DatabaseHandle> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new YardmasterError(
      'db_unsupported',
      `PostgreSQL (${url.replace(/\/\/[^@]*@/, '//***@')}) is not supported by this build yet; use a sqlite:// URL`,
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const handle: DatabaseHandle = {
    db,
    dialect: 'sqlite',
    description: file,
    close: () => db.destroy(),
  };
  await migrateToLatest(handle);
  return handle;
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
