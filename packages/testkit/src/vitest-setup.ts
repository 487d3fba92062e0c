/**
 * Vitest setup file, run in every test file of every project (see vitest.config.ts).
 *
 * Owns: the resource baseline of the current test file, taken when this file is loaded
 * (before the test file is imported). After the test file's own hooks, `afterAll` runs
 * `checkForLeaks`, which stops and cleans up whatever testkit tracked and fails the file if
 * a process, server or handle was left behind.
 */
import { afterAll } from 'vitest';

import { activeResources, checkForLeaks } from './leak-check.js';

const baseline = activeResources();

// Registered first, so with Vitest's default `sequence.hooks: 'stack'` it runs last.
afterAll(async () => {
  await checkForLeaks(baseline);
}, 30_000);
