/**
 * The end-of-file leak check run by the Vitest setup file (`vitest-setup.ts`).
 *
 * Owns: nothing; it reads the shared registry and Node's list of active resources.
 *
 * A test file leaks when, after its own `afterAll` hooks have run:
 * - a process started with `spawnProcess` (or anything left in its process group) is alive;
 * - a server registered with `trackServer` is still listening;
 * - more sockets, servers, pipes, child processes, watchers or ref'ed timers keep the
 *   event loop alive than did when the file started (after a short grace, because closing
 *   is asynchronous).
 * The leaked things are stopped, closed or reported, temp dirs are removed, and the check
 * throws, which fails the test file. `YARDMASTER_LEAK_CHECK=warn` only prints the report.
 */
import { closeAllServers } from './track-server.js';
import { stopAllProcesses } from './spawn-process.js';
import { cleanupAll } from './temp-dir.js';

/** Resource types (from `process.getActiveResourcesInfo()`) that count as leaks. */
export const leakableResources: readonly string[] = [
  'TCPServerWrap',
  'TCPSocketWrap',
  'PipeServerWrap',
  'PipeWrap',
  'UDPWrap',
  'ProcessWrap',
  'FSEventWrap',
  'StatWatcher',
  'Timeout',
];

export type ResourceCounts = Record<string, number>;

/** Counts the active, event-loop-keeping resources by type. */
export function activeResources(): ResourceCounts {
  const counts: ResourceCounts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Resource types with more live instances than in `baseline`, as `type ×n` strings. */
export function resourcesAbove(baseline: ResourceCounts, now = activeResources()): string[] {
  return leakableResources.flatMap((type) => {
    const extra = (now[type] ?? 0) - (baseline[type] ?? 0);
    return extra > 0 ? [`${type} ×${extra}`] : [];
  });
}

/**
 * Stops leftover processes, closes leftover servers, runs cleanups, then waits up to
 * `graceMs` for the active resources to fall back to `baseline`. Throws a report of every
 * leak found (or prints it, with `YARDMASTER_LEAK_CHECK=warn`).
 */
export async function checkForLeaks(baseline: ResourceCounts, graceMs = 2000): Promise<void> {
  const problems: string[] = [];
  const leakedProcesses = await collect(problems, stopAllProcesses);
  if (leakedProcesses.length > 0) {
    problems.push(
      `processes still running: ${leakedProcesses.join(', ')} ` +
        '(stop each one with `await spawned.stop()` in afterAll)',
    );
  }
  const leakedServers = await collect(problems, closeAllServers);
  if (leakedServers.length > 0) {
    problems.push(`servers still listening: ${leakedServers.join(', ')} (close them in afterAll)`);
  }
  await collect(problems, async () => {
    await cleanupAll();
    return [];
  });

  const deadline = Date.now() + graceMs;
  let extra = resourcesAbove(baseline);
  while (extra.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    extra = resourcesAbove(baseline);
  }
  if (extra.length > 0) {
    problems.push(
      `handles still open ${graceMs} ms after the last test: ${extra.join(', ')} ` +
        '(close sockets and servers, clear timers and intervals, or unref() timers meant to outlive a test)',
    );
  }

  if (problems.length === 0) return;
  const report = `This test file leaked:\n  - ${problems.join('\n  - ')}`;
  if (process.env['YARDMASTER_LEAK_CHECK'] === 'warn') {
    process.stderr.write(`${report}\n(YARDMASTER_LEAK_CHECK=warn: not failing)\n`);
    return;
  }
  throw new Error(report);
}

async function collect(problems: string[], run: () => Promise<string[]>): Promise<string[]> {
  try {
    return await run();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return [];
  }
}
