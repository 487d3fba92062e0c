/**
 * Child processes for tests, each the leader of its own process group.
 *
 * Owns: every process started with `spawnProcess`, held in the shared registry
 * (`registry.ts`) from spawn until `stop()` (or `stopAllProcesses()`) has seen its whole
 * process group disappear.
 *
 * States of one process: running → exited (the leader is gone; children it left behind in
 * its group may still run) → gone (no live member of the group; zombies waiting to be
 * reaped do not count).
 *
 * Invariants:
 * - The child is spawned with `detached: true`, so its pid is also its process-group id and
 *   `kill()`/`stop()` signal the whole group: `sh -c 'a & b'` leaves nothing behind.
 *   A program that daemonizes itself (setsid) leaves the group and escapes tracking: run
 *   daemons in the foreground (`buildbot-worker start --nodaemon`, `postgres` not `pg_ctl`).
 * - stdout and stderr are always piped and captured (the newest `maxOutputChars` kept), so
 *   a test can wait for a line and a failure can show what the process said.
 * - `exited` never rejects: a process that could not start resolves it with `error` set.
 * - If the test process exits (or is ended by SIGTERM, SIGINT or SIGHUP) while groups are
 *   still alive, they get SIGKILL, so an aborted test run leaves no orphans behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

import { registry, type TrackedProcess } from './registry.js';

export interface SpawnProcessOptions {
  /** Working directory. Default: the current one. */
  cwd?: string;
  /** Variables added to (`undefined`: removed from) the test process's environment. */
  env?: Record<string, string | undefined>;
  /** Name used in messages and leak reports. Default: the command's basename. */
  name?: string;
  /** `'pipe'` to write to the child's stdin via `child.stdin`. Default `'ignore'`. */
  stdin?: 'ignore' | 'pipe';
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 5000 ms. */
  stopGraceMs?: number;
  /** Captured output kept in memory (newest characters win). Default 4 MiB of text. */
  maxOutputChars?: number;
}

export interface ProcessExit {
  /** Exit code of the group leader, or null if it was killed by a signal. */
  code: number | null;
  /** The signal that ended the group leader, if any. */
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (for example ENOENT). */
  error?: Error;
}

interface OutputWaiter {
  pattern: RegExp;
  resolve: (match: RegExpMatchArray) => void;
  reject: (error: Error) => void;
}

/** A tracked child process; create one with `spawnProcess`. */
export class SpawnedProcess implements TrackedProcess {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The underlying Node child process (stdin is piped only with `stdin: 'pipe'`). */
  readonly child: ChildProcess;
  /** Resolves when the group leader has exited and its output has been read. */
  readonly exited: Promise<ProcessExit>;

  #exit: ProcessExit | undefined;
  #combined = '';
  #stdout = '';
  #stderr = '';
  #droppedChars = 0;
  readonly #maxOutputChars: number;
  readonly #stopGraceMs: number;
  readonly #waiters = new Set<OutputWaiter>();
  #stopping: Promise<ProcessExit> | undefined;

  constructor(command: string, args: readonly string[], options: SpawnProcessOptions = {}) {
    this.command = command;
    this.args = args;
    this.name = options.name ?? basename(command);
    this.#maxOutputChars = options.maxOutputChars ?? 4 * 1024 * 1024;
    this.#stopGraceMs = options.stopGraceMs ?? 5000;

    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env,
      detached: true,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });

    const echo = process.env['YARDMASTER_TEST_ECHO'] === '1';
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.child[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (text: string) => {
        if (echo) process.stderr.write(prefixLines(`[${this.name}] `, text));
        this.#append(stream, text);
      });
    }

    this.exited = new Promise<ProcessExit>((resolve) => {
      const settle = (exit: ProcessExit): void => {
        if (this.#exit) return;
        this.#exit = exit;
        this.#rejectWaiters();
        resolve(exit);
      };
      this.child.on('error', (error) => {
        // Only a failed spawn ends the process here; a failed kill() also emits 'error'.
        if (this.child.pid === undefined) settle({ code: null, signal: null, error });
      });
      // 'close' comes after the output has been read, but never while a left-behind child
      // still holds the pipes; so after 'exit' wait for it only briefly.
      this.child.once('close', (code: number | null, signal: NodeJS.Signals | null) =>
        settle({ code, signal }),
      );
      this.child.once('exit', (code, signal) => {
        setTimeout(() => settle({ code, signal }), 200).unref();
      });
    });

    registry().processes.add(this);
    installExitGuard();
  }

  /** The leader's pid (also the process-group id); undefined if it could not start. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True until the group leader has exited. */
  get running(): boolean {
    return (
      this.#exit === undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** stdout and stderr as they arrived, interleaved. */
  output(): string {
    return this.#combined;
  }

  stdout(): string {
    return this.#stdout;
  }

  stderr(): string {
    return this.#stderr;
  }

  /** True while the leader or any other live member of its process group exists. */
  isAlive(): boolean {
    const pid = this.child.pid;
    if (pid === undefined) return false;
    if (this.running) return true;
    return processGroupAlive(pid);
  }

  /**
   * Resolves with the match once the captured output (from the start) matches `pattern`.
   * Rejects if the process exits first or `timeoutMs` passes, quoting the output's tail.
   */
  waitForOutput(pattern: RegExp | string, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const regex =
      typeof pattern === 'string'
        ? new RegExp(escapeRegExp(pattern))
        : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    const now = this.#combined.match(regex);
    if (now) return Promise.resolve(now);
    if (this.#exit) return Promise.reject(this.#exitedError(regex));
    return new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(
            `${this.name} (pid ${this.pid}) did not print ${String(regex)} within ${timeoutMs} ms; ` +
              `its output ends with:\n${this.#tail()}`,
          ),
        );
      }, timeoutMs);
      const waiter: OutputWaiter = {
        pattern: regex,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Sends `signal` to the whole process group. Returns false if nothing was there to signal. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    const pid = this.child.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return this.running ? this.child.kill(signal) : false;
    }
  }

  /**
   * Stops the whole process group: SIGTERM, then SIGKILL if anything of it is still alive
   * after the grace period. Resolves with the leader's exit once the group is gone, and
   * forgets the process. Safe to call more than once and after the process has exited.
   */
  stop(options: { graceMs?: number } = {}): Promise<ProcessExit> {
    this.#stopping ??= this.#stop(options.graceMs ?? this.#stopGraceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<ProcessExit> {
    if (this.isAlive()) {
      this.kill('SIGTERM');
      if (!(await this.#waitUntilGone(graceMs))) {
        this.kill('SIGKILL');
        if (!(await this.#waitUntilGone(5000))) {
          throw new Error(
            `${this.name} (pid ${this.pid}): its process group survived SIGKILL; ` +
              'check for processes stuck in uninterruptible sleep (ps -eo pid,pgid,stat,cmd)',
          );
        }
      }
    }
    const exit = await this.exited;
    registry().processes.delete(this);
    return exit;
  }

  async #waitUntilGone(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.isAlive()) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  #append(stream: 'stdout' | 'stderr', text: string): void {
    if (stream === 'stdout') this.#stdout = keepTail(this.#stdout + text, this.#maxOutputChars);
    else this.#stderr = keepTail(this.#stderr + text, this.#maxOutputChars);
    const combined = this.#combined + text;
    if (combined.length > this.#maxOutputChars) {
      this.#droppedChars += combined.length - this.#maxOutputChars;
      this.#combined = keepTail(combined, this.#maxOutputChars);
    } else {
      this.#combined = combined;
    }
    for (const waiter of this.#waiters) {
      const match = this.#combined.match(waiter.pattern);
      if (match) {
        this.#waiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  }

  #rejectWaiters(): void {
    for (const waiter of this.#waiters) {
      this.#waiters.delete(waiter);
      waiter.reject(this.#exitedError(waiter.pattern));
    }
  }

  #exitedError(pattern: RegExp): Error {
    const exit = this.#exit;
    const how = exit?.error
      ? `could not start (${exit.error.message})`
      : `exited (code ${exit?.code ?? 'none'}, signal ${exit?.signal ?? 'none'})`;
    return new Error(
      `${this.name} ${how} before printing ${String(pattern)}; its output ends with:\n${this.#tail()}`,
    );
  }

  #tail(lines = 30): string {
    const all = this.#combined.trimEnd().split('\n');
    const shown = all.slice(-lines).join('\n');
    const dropped = all.length > lines || this.#droppedChars > 0;
    return shown === '' ? '(no output)' : `${dropped ? '…\n' : ''}${shown}`;
  }
}

/**
 * Starts `command` with `args` in its own process group and tracks it until stopped. The
 * Vitest setup file fails a test file that leaves one running; stop it in `afterAll`.
 */
export function spawnProcess(
  command: string,
  args: readonly string[] = [],
  options: SpawnProcessOptions = {},
): SpawnedProcess {
  return new SpawnedProcess(command, args, options);
}

/**
 * Stops every tracked process group and forgets them all. Returns a description of each one
 * that was still alive (the leaks); an empty list means the tests cleaned up after
 * themselves.
 */
export async function stopAllProcesses(): Promise<string[]> {
  const processes = [...registry().processes];
  const leaked = processes
    .filter((tracked) => tracked.isAlive())
    .map((tracked) => `${tracked.name} (pid ${tracked.pid ?? '?'})`);
  const results = await Promise.allSettled(processes.map((tracked) => tracked.stop()));
  for (const tracked of processes) registry().processes.delete(tracked);
  const failures = results.flatMap((result) =>
    result.status === 'rejected'
      ? [result.reason instanceof Error ? result.reason.message : String(result.reason)]
      : [],
  );
  if (failures.length > 0) throw new Error(`testkit could not stop:\n  ${failures.join('\n  ')}`);
  return leaked;
}

/**
 * True if any live (non-zombie) process is in process group `pgid`. Reads /proc on Linux;
 * elsewhere falls back to signal 0, which also counts zombies.
 */
export function processGroupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

const exitGuardKey = Symbol.for('yardmaster.testkit.exitGuard');

/**
 * Once per process: SIGKILL every tracked group when the test process exits, or is ended by
 * SIGTERM, SIGINT or SIGHUP (then the signal is raised again, so it still ends the process
 * unless someone else handles it).
 */
function installExitGuard(): void {
  const global = globalThis as typeof globalThis & { [exitGuardKey]?: true };
  if (global[exitGuardKey]) return;
  global[exitGuardKey] = true;
  process.once('exit', killAllGroups);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllGroups();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function killAllGroups(): void {
  for (const tracked of registry().processes) {
    if (tracked.pid === undefined) continue;
    try {
      process.kill(-tracked.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function keepTail(text: string, max: number): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

function prefixLines(prefix: string, text: string): string {
  return text.replace(/^(?=.)/gm, prefix);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
