/**
 * Temporary directories and cleanup callbacks for tests.
 *
 * Owns: the directories made by `makeTempDir` and the callbacks given to `onCleanup`, both
 * held in the shared registry (`registry.ts`). `cleanupAll()` runs the callbacks last-in
 * first-out, then removes the directories; the Vitest setup file calls it after every test
 * file, after it has stopped leftover processes.
 *
 * Set `YARDMASTER_KEEP_TEMP=1` to keep the directories for a post-mortem; their paths are
 * printed instead.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { registry } from './registry.js';

/**
 * Creates a fresh directory under the system temp dir, named `yardmaster-<prefix>-XXXXXX`,
 * and returns its real path (symlinks resolved). It is removed by `cleanupAll()`.
 */
export async function makeTempDir(prefix = 'test'): Promise<string> {
  const safePrefix = prefix.replace(/[^A-Za-z0-9._-]+/g, '-');
  const dir = await realpath(await mkdtemp(join(tmpdir(), `yardmaster-${safePrefix}-`)));
  registry().tempDirs.add(dir);
  return dir;
}

/** Registers a callback for `cleanupAll()`; callbacks run last-in first-out. */
export function onCleanup(name: string, run: () => unknown): void {
  registry().cleanups.push({ name, run });
}

/**
 * Runs every registered cleanup callback (newest first), then removes every temp dir.
 * Runs them all even if some fail, then throws one error listing the failures.
 */
export async function cleanupAll(): Promise<void> {
  const state = registry();
  const failures: string[] = [];
  for (let entry = state.cleanups.pop(); entry; entry = state.cleanups.pop()) {
    try {
      await entry.run();
    } catch (error) {
      failures.push(
        `cleanup "${entry.name}": ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const keep = process.env['YARDMASTER_KEEP_TEMP'] === '1';
  for (const dir of [...state.tempDirs]) {
    state.tempDirs.delete(dir);
    if (keep) {
      process.stderr.write(`testkit: keeping temp dir ${dir} (YARDMASTER_KEEP_TEMP=1)\n`);
      continue;
    }
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      failures.push(`removing ${dir}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) {
    throw new Error(
      `testkit cleanup had ${failures.length} failure(s):\n  ${failures.join('\n  ')}`,
    );
  }
}
