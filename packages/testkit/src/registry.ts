/**
 * The registry of everything testkit starts or creates in one test process: child
 * processes, servers, temporary directories and cleanup callbacks.
 *
 * Owns: nothing itself; it is the shared bookkeeping the other modules write to and the
 * Vitest setup file (`vitest-setup.ts`) reads after every test file.
 *
 * Invariants:
 * - There is exactly one registry per process. It lives on `globalThis` under a
 *   `Symbol.for` key, so the source copy of testkit (loaded by testkit's own tests and by
 *   the setup file) and the built copy in `dist/` (loaded by other packages' tests through
 *   `@yardmaster/testkit`) share the same state.
 * - An entry is added when the resource is created and removed only when it is known to be
 *   gone (process group empty, server closed, directory removed, callback run).
 */

/** What the registry needs to know about a spawned process (see `spawn-process.ts`). */
export interface TrackedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** True while the process or any member of its process group is still alive. */
  isAlive(): boolean;
  /** Stops the whole process group; resolves once it is gone. */
  stop(): Promise<unknown>;
  /** The captured stdout and stderr, interleaved. */
  output(): string;
}

/** What the registry needs to know about a server (see `track-server.ts`). */
export interface TrackedServer {
  readonly name: string;
  isListening(): boolean;
  close(): Promise<void>;
}

export interface Registry {
  readonly processes: Set<TrackedProcess>;
  readonly servers: Set<TrackedServer>;
  readonly tempDirs: Set<string>;
  /** Cleanup callbacks, run last-in first-out by `cleanupAll()`. */
  readonly cleanups: Array<{ name: string; run: () => unknown }>;
}

const registryKey = Symbol.for('yardmaster.testkit.registry');

type GlobalWithRegistry = typeof globalThis & { [registryKey]?: Registry };

/** The process-wide registry, created on first use. */
export function registry(): Registry {
  const global = globalThis as GlobalWithRegistry;
  global[registryKey] ??= {
    processes: new Set(),
    servers: new Set(),
    tempDirs: new Set(),
    cleanups: [],
  };
  return global[registryKey];
}
