/**
 * The PostgreSQL server of the test run (started by postgres-global-setup.ts), as seen
 * from a test file. A missing server is an error with the reason, never a skip.
 */
import { inject } from 'vitest';
import { createTestDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    postgresError: string;
  }
}

export function postgresAdminUrl(): string {
  const url = inject('postgresUrl');
  if (!url)
    throw new Error(
      `no PostgreSQL server for the tests: ${inject('postgresError') || 'the global setup did not run'}`,
    );
  return url;
}

/** A fresh, empty database on the run's server; dropped when the test file ends. */
export async function freshPostgresDatabase(): Promise<string> {
  return createTestDatabase(postgresAdminUrl());
}
