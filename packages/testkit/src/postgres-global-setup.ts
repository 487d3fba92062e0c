/**
 * Vitest global setup: one PostgreSQL server for the whole run, shared by every test file
 * through `inject('postgresUrl')` (the admin URL); each test makes its own database with
 * `createTestDatabase`. Without the binaries the tests that need PostgreSQL fail with the
 * reason (they do not skip): `.ci/run` installs Debian's postgresql.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.js';
import { cleanupAll } from './temp-dir.js';

import './postgres-inject.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const server = await startPostgres();
    project.provide('postgresUrl', server.adminUrl);
    project.provide('postgresError', '');
    return async () => {
      await server.stop();
      await cleanupAll();
    };
  } catch (error) {
    project.provide('postgresUrl', '');
    project.provide('postgresError', error instanceof Error ? error.message : String(error));
    return async () => {
      await cleanupAll();
    };
  }
}
