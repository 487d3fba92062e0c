/**
 * RunProcess: runs one child process for a command the way buildbot-worker's RunProcess does,
 * reporting through `sendUpdate`.
 *
 * Owns the child process (leader of its own process group: spawned `detached`), its stdio
 * decoders, the timers (no-output `timeout`, `maxTime`, `sigtermTime`, the 5 s kill backup)
 * and the log file watchers.
 *
 * States: created → started (headers sent, child running) → killing (after `kill()`: the
 * whole group has been signalled; pipes are dropped) → finished (rc reported, promise
 * settled). Invariants: the promise settles exactly once; when it settles every timer and
 * watcher is stopped; signals always go to the whole process group, so background children
 * (`sleep 100 &`) die with the command. While `whenWritable` says the master is behind, the
 * child's stdout and stderr are paused (`#held`) until it has caught up; a kill resumes
 * them for good (`#killed`).
 *
 * Updates, in Buildbot's order: header lines (command, ` in dir …`, ` watching logfiles`,
 * ` argv:`, ` environment:` + sorted `  K=V`, ` writing N bytes to stdin`, ` using PTY: False`),
 * stdout/stderr/log text, then on kill `\n<reason>, attempting to kill\n`, and at the end
 * `process killed by signal N\n` (when signalled), `['rc', rc]` (rc -1 when signalled or when
 * killed but exiting 0) and `elapsedTime=S.SSSSSS\n`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LogfileSpec } from '@yardmaster/protocol';
import type { RawUpdate } from './commands/base.js';
import type { WorkerLogger } from './logger.js';
import { makeDirsSync } from './make-dirs.js';
import { pythonBytesRepr, pythonRepr, shellQuote, systemErrorInfo } from './python-format.js';

/** A command word: the real text runs, the fake text is shown (obfuscated secrets). */
export interface CommandWord {
  real: string;
  fake: string;
}

export interface RunProcessOptions {
  /** A string runs under `/bin/sh -c`; a list is the argv. */
  command: string | CommandWord[];
  /** Working directory as the master gave it (shown in the header). */
  workdir: string;
  /** Base for a relative workdir and log file paths. */
  basedir: string;
  /** The environment to start from. */
  environ: Readonly<Record<string, string>>;
  /** The command's `env` arg, merged as buildbot-worker does. */
  env?: Record<string, unknown> | null;
  sendUpdate: (updates: RawUpdate[]) => void;
  /**
   * Flow control (CommandContext.whenWritable): after sending output, a promise means the
   * master is behind; stdout and stderr are not read until it resolves.
   */
  whenWritable?: () => Promise<void> | undefined;
  logger: WorkerLogger;
  sendStdout?: boolean;
  sendStderr?: boolean;
  sendRC?: boolean;
  /** Seconds without output before killing. */
  timeout?: number;
  /** Seconds of run time before killing. */
  maxTime?: number;
  /** If set: on kill, SIGTERM first and `interruptSignal` after this many seconds. */
  sigtermTime?: number;
  initialStdin?: string;
  logEnviron?: boolean;
  logfiles?: Record<string, LogfileSpec>;
  /** A PTY was asked for; we run without one and say so. */
  usePTY?: boolean;
  /** Signal name without SIG (default KILL). */
  interruptSignal?: string;
}

/** How long after the kill signal we wait for the process before giving up (Buildbot: 5 s). */
export const KILL_BACKUP_TIMEOUT_MS = 5000;
const LOGFILE_POLL_MS = 2000;

export class RunProcess {
  readonly #options: RunProcessOptions;
  readonly #sendUpdate: (updates: RawUpdate[]) => void;
  readonly #logger: WorkerLogger;
  readonly #argv: string[];
  readonly #display: string;
  readonly #fakeRepr: string;
  readonly #workdir: string;
  readonly #environ: Record<string, string>;
  readonly #interruptSignal: NodeJS.Signals;
  readonly #watchers: LogFileWatcher[];
  #child: ChildProcess | undefined;
  #startTime = 0;
  #killed = false;
  #settled = false;
  #resolve: (rc: number) => void = () => undefined;
  #reject: (error: Error) => void = () => undefined;
  #ioTimer: NodeJS.Timeout | undefined;
  #maxTimer: NodeJS.Timeout | undefined;
  #sigtermTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  /** Output reading is paused until the master has answered enough updates. */
  #held = false;

  /** Throws (before anything runs) if `env` holds a value that is not a string or list. */
  constructor(options: RunProcessOptions) {
    this.#options = options;
    this.#sendUpdate = options.sendUpdate;
    this.#logger = options.logger;
    this.#workdir = path.resolve(options.basedir, options.workdir);
    if (typeof options.command === 'string') {
      this.#argv = ['/bin/sh', '-c', options.command];
      this.#display = options.command;
      this.#fakeRepr = pythonBytesRepr(options.command);
    } else {
      this.#argv = options.command.map((word) => word.real);
      const fake = options.command.map((word) => word.fake);
      this.#display = shellQuote(fake);
      this.#fakeRepr = `[${fake.map(pythonBytesRepr).join(', ')}]`;
    }
    this.#environ = mergeEnvironment(options.environ, options.env);
    this.#environ['PWD'] = this.#workdir;
    this.#interruptSignal = signalFromName(options.interruptSignal ?? 'KILL', this.#logger);
    this.#watchers = Object.entries(options.logfiles ?? {}).map(([name, spec]) => {
      const filename = typeof spec === 'string' ? spec : spec.filename;
      const follow = typeof spec === 'object' && Boolean(spec.follow);
      return new LogFileWatcher(name, path.resolve(this.#workdir, filename), follow, (text) =>
        this.#addLogfile(name, text),
      );
    });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Start the process; resolves with its rc when it ends. Rejects if it cannot be started
   * (after sending the error on stderr) or does not die within 5 s of being killed.
   */
  start(): Promise<number> {
    const done = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    try {
      this.#startCommand();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#sendUpdate([['stderr', `error in RunProcess._startCommand (${message})\n`]]);
      this.#fail(new Error(`Got exception (${message})`));
    }
    return done;
  }

  /** Kill the process group (timeout, maxTime or interrupt), as RunProcess.kill does. */
  kill(reason: string): void {
    if (this.#settled) return;
    this.#cancelTimers();
    const message = `${reason}, attempting to kill`;
    this.#logger.info(`${message} (pid ${this.#child?.pid ?? '-'})`);
    this.#sendUpdate([['header', `\n${message}\n`]]);
    // A process being killed is read to its end whatever the master's pace, so its pipes
    // close (and `close` fires) within the kill's own timeouts; `#killed` keeps it so.
    this.#held = false;
    this.#child?.stdout?.resume();
    this.#child?.stderr?.resume();
    this.#killed = true;
    if (!this.#child) {
      // Never started (or failed to): nothing to signal.
      return;
    }
    if (this.#options.sigtermTime !== undefined) {
      this.#signalGroup('SIGTERM');
      this.#sigtermTimer = setTimeout(() => {
        this.#sigtermTimer = undefined;
        if (this.#isAlive()) this.#signalGroup(this.#interruptSignal);
        this.#cleanUp();
      }, this.#options.sigtermTime * 1000);
    } else {
      this.#signalGroup(this.#interruptSignal);
      this.#cleanUp();
    }
  }

  #startCommand(): void {
    makeDirsSync(this.#workdir);
    const updates = this.#sendUpdate;
    updates([['header', `${this.#display}\n`]]);

    let inDir = ` in dir ${this.#options.workdir}`;
    const { timeout, maxTime } = this.#options;
    if (timeout) inDir += ` (timeout ${timeout} ${timeout === 1 ? 'sec' : 'secs'})`;
    if (maxTime) inDir += ` (maxTime ${maxTime} ${maxTime === 1 ? 'sec' : 'secs'})`;
    updates([['header', `${inDir}\n`]]);
    updates([['header', ` watching logfiles ${pythonRepr(this.#options.logfiles ?? {})}\n`]]);
    updates([['header', ` argv: ${this.#fakeRepr}\n`]]);
    if (this.#options.logEnviron ?? true) {
      const names = Object.keys(this.#environ).sort(compareCodePoints);
      const lines = names.map((name) => `  ${name}=${this.#environ[name] ?? ''}\n`).join('');
      updates([['header', ` environment:\n${lines}`]]);
    }
    const stdin = this.#options.initialStdin;
    if (stdin) {
      updates([['header', ` writing ${Buffer.byteLength(stdin)} bytes to stdin\n`]]);
    }
    if (this.#options.usePTY) {
      updates([
        ['header', 'WARNING: this worker cannot run commands in a PTY; running without one\n'],
      ]);
    }
    updates([['header', ' using PTY: False\n']]);

    this.#startTime = performance.now();
    const [file, ...args] = this.#argv;
    if (file === undefined) throw new Error('the command is empty');
    const child = spawn(file, args, {
      cwd: this.#workdir,
      env: this.#environ,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#logger.debug(`started pid ${child.pid ?? '-'}: ${this.#display}`);

    const stdoutDecoder = new StringDecoder('utf8');
    const stderrDecoder = new StringDecoder('utf8');
    child.stdout?.on('data', (data: Buffer) => this.#addStdout(stdoutDecoder.write(data)));
    child.stderr?.on('data', (data: Buffer) => this.#addStderr(stderrDecoder.write(data)));
    child.stdout?.on('end', () => this.#addStdout(stdoutDecoder.end()));
    child.stderr?.on('end', () => this.#addStderr(stderrDecoder.end()));
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      // EPIPE and friends after a kill are expected; the exit status tells the story.
      stream?.on('error', (error) => this.#logger.debug(`child stdio: ${error.message}`));
    }
    child.on('error', (error) => this.#onSpawnError(error));
    child.on('close', (code, signal) => void this.#onClose(code, signal));

    if (stdin) child.stdin?.end(stdin);
    else child.stdin?.end();

    if (timeout) this.#ioTimer = setTimeout(() => this.#doTimeout(), timeout * 1000);
    if (maxTime) this.#maxTimer = setTimeout(() => this.#doMaxTimeout(), maxTime * 1000);
    for (const watcher of this.#watchers) watcher.start();
  }

  #addStdout(text: string): void {
    if (text === '') return;
    if (this.#options.sendStdout ?? true) this.#sendUpdate([['stdout', text]]);
    this.#ioTimer?.refresh();
    this.#holdWhileBehind();
  }

  #addStderr(text: string): void {
    if (text === '') return;
    if (this.#options.sendStderr ?? true) this.#sendUpdate([['stderr', text]]);
    this.#ioTimer?.refresh();
    this.#holdWhileBehind();
  }

  /**
   * Stops reading the child's output while the master is behind (the pipes fill up and the
   * child waits in write), so neither side queues more than a few update messages. The
   * no-output timeout counts from when reading resumes.
   */
  #holdWhileBehind(): void {
    if (this.#held || this.#killed) return;
    const caughtUp = this.#options.whenWritable?.();
    const child = this.#child;
    if (!caughtUp || !child) return;
    this.#held = true;
    child.stdout?.pause();
    child.stderr?.pause();
    void caughtUp.then(() => {
      if (this.#killed) return;
      this.#held = false;
      this.#ioTimer?.refresh();
      child.stdout?.resume();
      child.stderr?.resume();
    });
  }

  #addLogfile(name: string, text: string): void {
    this.#sendUpdate([['log', [name, text]]]);
    this.#ioTimer?.refresh();
  }

  #onSpawnError(error: Error): void {
    if (this.#settled) return;
    if (this.#child?.pid !== undefined) {
      // An error on a running child (e.g. a failed kill): 'close' still decides the outcome.
      this.#logger.warn(`child process error: ${error.message}`);
      return;
    }
    // Like a failed exec in Twisted's child: a message on stderr and exit status 1.
    const { strerror } = systemErrorInfo(error);
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    this.#sendUpdate([
      ['stderr', `error: cannot run ${JSON.stringify(this.#argv[0])}: ${strerror} (${code})\n`],
    ]);
    void this.#finished(null, 1);
  }

  async #onClose(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.#settled) return;
    let rc = code ?? 0;
    if (this.#killed && signal === null && rc === 0) {
      this.#logger.info('process was killed, but exited with status 0; faking a failure');
      rc = -1;
    }
    const signalNumber = signal === null ? null : (constants.signals[signal] ?? -1);
    await this.#finished(signalNumber, rc);
  }

  async #finished(signalNumber: number | null, exitCode: number): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    this.#cancelTimers();
    const elapsed = (performance.now() - this.#startTime) / 1000;
    this.#logger.info(
      `command finished with signal ${signalNumber ?? 'None'}, exit code ${signalNumber === null ? exitCode : 'None'}, elapsedTime: ${elapsed.toFixed(6)}`,
    );
    await Promise.all(this.#watchers.map((watcher) => watcher.stop()));
    const rc = signalNumber === null ? exitCode : -1;
    if (this.#options.sendRC ?? true) {
      if (signalNumber !== null) {
        this.#sendUpdate([['header', `process killed by signal ${signalNumber}\n`]]);
      }
      this.#sendUpdate([['rc', rc]]);
    }
    this.#sendUpdate([['header', `elapsedTime=${elapsed.toFixed(6)}\n`]]);
    this.#resolve(rc);
  }

  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#cancelTimers();
    for (const watcher of this.#watchers) void watcher.stop();
    this.#reject(error);
  }

  #doTimeout(): void {
    this.#ioTimer = undefined;
    this.kill(
      `command timed out: ${this.#options.timeout ?? 0} seconds without output running ${this.#fakeRepr}`,
    );
  }

  #doMaxTimeout(): void {
    this.#maxTimer = undefined;
    this.kill(
      `command timed out: ${this.#options.maxTime ?? 0} seconds elapsed running ${this.#fakeRepr}`,
    );
  }

  #isAlive(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Signal the process group; fall back to the process itself if the group is gone. */
  #signalGroup(signal: NodeJS.Signals): boolean {
    const pid = this.#child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
      this.#logger.info(`sent ${signal} to process group ${pid}`);
      return true;
    } catch (error) {
      this.#logger.debug(`cannot signal process group ${pid}: ${(error as Error).message}`);
    }
    try {
      return this.#child?.kill(signal) ?? false;
    } catch (error) {
      this.#logger.debug(`cannot signal process ${pid}: ${(error as Error).message}`);
      return false;
    }
  }

  /** Drop our ends of the pipes (a stray grandchild may hold them) and arm the backup timer. */
  #cleanUp(): void {
    const child = this.#child;
    child?.stdin?.destroy();
    child?.stdout?.destroy();
    child?.stderr?.destroy();
    if (!this.#settled) {
      this.#killTimer = setTimeout(() => this.#doBackupTimeout(), KILL_BACKUP_TIMEOUT_MS);
    }
  }

  #doBackupTimeout(): void {
    this.#killTimer = undefined;
    const name = this.#interruptSignal;
    this.#logger.warn(`we tried to kill the process, and it wouldn't die; finishing anyway`);
    this.#sendUpdate([['header', `${name} failed to kill process\n`]]);
    if (this.#options.sendRC ?? true) {
      this.#sendUpdate([
        ['header', 'using fake rc=-1\n'],
        ['rc', -1],
      ]);
    }
    this.#fail(new Error(`${name} failed to kill process`));
  }

  #cancelTimers(): void {
    for (const timer of [this.#ioTimer, this.#maxTimer, this.#sigtermTimer, this.#killTimer]) {
      if (timer) clearTimeout(timer);
    }
    this.#ioTimer = this.#maxTimer = this.#sigtermTimer = this.#killTimer = undefined;
  }
}

/**
 * The child's environment, as buildbot-worker builds it: without `env` (or with an empty one)
 * the worker's environment; otherwise list values are joined with ':', PYTHONPATH gets
 * `:${PYTHONPATH}` appended, `${NAME}` expands from the worker's environment ('' if unset),
 * and a null value removes the variable.
 */
export function mergeEnvironment(
  base: Readonly<Record<string, string>>,
  env: Record<string, unknown> | null | undefined,
): Record<string, string> {
  if (!env || Object.keys(env).length === 0) return { ...base };
  const wanted: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === null || value === undefined) wanted[key] = null;
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      wanted[key] = value.join(path.delimiter);
    } else if (typeof value === 'string') wanted[key] = value;
    else {
      throw new TypeError(`'env' values must be strings or lists; key '${key}' is incorrect`);
    }
  }
  const pythonPath = wanted['PYTHONPATH'];
  if (typeof pythonPath === 'string')
    wanted['PYTHONPATH'] = `${pythonPath}${path.delimiter}\${PYTHONPATH}`;

  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (!(key in wanted) || wanted[key] !== null) merged[key] = value;
  }
  for (const [key, value] of Object.entries(wanted)) {
    if (value === null) {
      delete merged[key];
      continue;
    }
    merged[key] = value.replace(
      /\$\{([0-9a-zA-Z_]*)\}/g,
      (_match, name: string) => base[name] ?? '',
    );
  }
  return merged;
}

function signalFromName(name: string, logger: WorkerLogger): NodeJS.Signals {
  const signal = `SIG${name.toUpperCase().replace(/^SIG/, '')}`;
  if (signal in constants.signals) return signal as NodeJS.Signals;
  logger.warn(`unknown interruptSignal ${JSON.stringify(name)}; using SIGKILL`);
  return 'SIGKILL';
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Follows one `logfiles` entry: polls every 2 s, starts reading once the file appears or
 * changes (from its end if `follow`), and sends what it reads. `stop()` reads one last time.
 */
class LogFileWatcher {
  readonly #name: string;
  readonly #file: string;
  readonly #follow: boolean;
  readonly #send: (text: string) => void;
  readonly #decoder = new StringDecoder('utf8');
  #initialStats: string | null;
  #handle: FileHandle | undefined;
  #position = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(name: string, file: string, follow: boolean, send: (text: string) => void) {
    this.#name = name;
    this.#file = file;
    this.#follow = follow;
    this.#send = send;
    this.#initialStats = statKey(file);
  }

  start(): void {
    this.#timer = setInterval(() => this.#schedulePoll(), LOGFILE_POLL_MS);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return this.#polling;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#schedulePoll(true);
    await this.#polling;
    const rest = this.#decoder.end();
    if (rest) this.#send(rest);
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
  }

  #schedulePoll(final = false): void {
    if (this.#stopped && !final) return;
    this.#polling = this.#polling.then(() => this.#poll()).catch(() => undefined);
  }

  async #poll(): Promise<void> {
    if (!this.#handle) {
      const stats = statKey(this.#file);
      if (stats === this.#initialStats) return;
      if (stats === null) {
        this.#initialStats = null;
        return;
      }
      this.#handle = await open(this.#file, 'r');
      this.#position = this.#follow ? Number(stats.split(':')[2] ?? 0) : 0;
    }
    const buffer = Buffer.alloc(10000);
    for (;;) {
      const { bytesRead } = await this.#handle.read(buffer, 0, buffer.length, this.#position);
      if (bytesRead === 0) return;
      this.#position += bytesRead;
      const text = this.#decoder.write(buffer.subarray(0, bytesRead));
      if (text) this.#send(text);
    }
  }

  toString(): string {
    return `LogFileWatcher(${this.#name})`;
  }
}

function statKey(file: string): string | null {
  try {
    const stats = statSync(file);
    return `${stats.ctimeMs}:${stats.mtimeMs}:${stats.size}`;
  } catch {
    return null;
  }
}
