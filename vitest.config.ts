// One Vitest config for the whole repository; see docs/decisions/0001-build-and-test-tooling.md.
//
//   unit         packages/*/src/**/*.test.ts (not .int. / .e2e.)   fast, no real services
//   integration  **/*.int.test.ts                                   real processes, DBs, git
//   e2e          **/*.e2e.test.ts and test/**/*.test.ts              the built CLI end to end
//
// The projects run one after another (sequence.groupOrder), each with its own parallelism.
// Every test file loads packages/testkit/src/vitest-setup.ts, which fails the file if it
// leaves a process, server, socket or timer behind.
import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

const cpus = availableParallelism();
const excludeAlways = ['**/node_modules/**', '**/dist/**', '**/.yardmaster/**', '**/coverage/**'];

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    globals: false,
    setupFiles: ['packages/testkit/src/vitest-setup.ts'],
    exclude: excludeAlways,
    restoreMocks: true,
    unstubEnvs: true,
    unstubGlobals: true,
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          exclude: [...excludeAlways, '**/*.int.test.ts', '**/*.e2e.test.ts'],
          testTimeout: 10_000,
          hookTimeout: 30_000,
          maxWorkers: cpus,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          // One PostgreSQL server for the project's files: inject('postgresUrl').
          globalSetup: ['packages/testkit/src/postgres-global-setup.ts'],
          exclude: excludeAlways,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration tests start real processes (buildbot-worker, PostgreSQL): keep the
          // machine (2 cores in CI) from being oversubscribed.
          maxWorkers: Math.min(2, cpus),
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts', 'test/**/*.test.ts'],
          globalSetup: ['packages/testkit/src/postgres-global-setup.ts'],
          exclude: [...excludeAlways, '**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // End-to-end files start whole masters and workers on fixed resources: one at a time.
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
