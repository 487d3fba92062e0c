/** What every data-layer module shares: the database, the bus and the clock. */
import { PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Bus } from '../mq/bus.js';

export interface DataContext {
  db: Kysely<Database>;
  bus: Bus;
  /** Epoch milliseconds; injected so tests can control time. */
  now(): number;
}

/** Epoch milliseconds → Buildbot's integer epoch seconds (null stays null). */
export function toSeconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(Number(ms) / 1000);
}

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * True on PostgreSQL: hot paths there fold several writes into one statement (data-
 * modifying CTEs, one round trip) where SQLite, in process, runs them in a transaction.
 */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
