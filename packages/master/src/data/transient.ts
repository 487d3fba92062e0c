/** Classifies database errors for the layers above, which must not import db/. */
import { isUnavailable } from '../db/connect.js';

/**
 * True for an error that says the database was briefly unreachable (restart, failover,
 * network): the work should be retried, not reported as a bug.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  return isUnavailable(error);
}

/** True for a unique-constraint violation (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
