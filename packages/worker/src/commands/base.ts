/**
 * The contract between a remote command and the session that runs it, and the base class
 * every command extends (buildbot-worker's `Command`).
 *
 * A command's lifecycle: created (args validated: a bad request is refused before anything
 * runs) → `run()` (running: `sendStatus` passes updates on) → finished (`elapsed` sent unless
 * interrupted) . `doInterrupt()` clears `running` first, so a command that was interrupted
 * sends no more status of its own (processes it started still report their rc, as in
 * Buildbot), then asks the command to stop as fast as it can.
 */
import type { StatTuple, WorkerToMasterOp } from '@yardmaster/protocol';
import type { WorkerLogger } from '../logger.js';

/** An update before line splitting: log text is a plain string here. */
export type RawUpdate =
  | ['stdout' | 'stderr' | 'header', string]
  | ['log', [logName: string, text: string]]
  | ['rc', number]
  | ['elapsed', number]
  | ['stat', StatTuple]
  | ['files', string[]];

export interface CommandContext {
  readonly commandId: string;
  readonly commandName: string;
  /** The worker's base directory: relative paths in args are relative to it. */
  readonly basedir: string;
  /** The environment commands start from (the worker's, minus its own secrets). */
  readonly environ: Readonly<Record<string, string>>;
  readonly logger: WorkerLogger;
  /** Queue updates for the master (line-split and batched); dropped once the command completed. */
  sendUpdate(updates: RawUpdate[]): void;
  /**
   * Flow control: undefined while updates may flow; while too many update messages wait for
   * the master's answer, a promise that resolves once it has caught up. A command reading a
   * fast producer (a process's output) stops reading until then.
   */
  whenWritable?(): Promise<void> | undefined;
  /** Send a worker → master request for this command (command_id is added) and await its result. */
  request(op: WorkerToMasterOp, fields?: Record<string, unknown>): Promise<unknown>;
}

export abstract class WorkerCommand {
  protected readonly context: CommandContext;
  /** True while the command may send status (cleared when it ends or is interrupted). */
  protected running = false;
  protected interrupted = false;

  constructor(context: CommandContext) {
    this.context = context;
  }

  /** Do the work; resolve when done (also after an interrupt), reject on an internal failure. */
  protected abstract start(): Promise<void>;

  /** Stop as soon as possible. Called at most once per interrupt request; may be repeated. */
  protected interrupt(): void {
    // Commands that finish quickly have nothing to stop.
  }

  /** Run the command and report `elapsed` (Buildbot's Command.doStart). */
  async run(): Promise<void> {
    this.running = true;
    const startedAt = performance.now();
    try {
      await this.start();
    } finally {
      this.sendStatus([['elapsed', (performance.now() - startedAt) / 1000]]);
      this.running = false;
    }
  }

  /** Interrupt: no more status from this command, then stop it. */
  doInterrupt(): void {
    this.running = false;
    this.interrupt();
  }

  protected sendStatus(updates: RawUpdate[]): void {
    if (!this.running) return;
    this.context.sendUpdate(updates);
  }
}

/** A start_command whose args do not fit the command; answered as an exception. */
export class CommandArgsError extends Error {
  readonly code = 'COMMAND_ARGS';
  override name = 'CommandArgsError';
}

/** Reads and checks `start_command` args, collecting every problem before throwing. */
export class ArgsReader {
  readonly #args: Record<string, unknown>;
  readonly #commandName: string;
  readonly #missing: string[] = [];
  readonly #invalid: string[] = [];

  constructor(commandName: string, args: unknown) {
    this.#commandName = commandName;
    this.#args =
      typeof args === 'object' && args !== null && !Array.isArray(args)
        ? (args as Record<string, unknown>)
        : {};
    if (this.#args !== args) this.#invalid.push('args must be a map');
  }

  has(key: string): boolean {
    return this.#args[key] !== undefined && this.#args[key] !== null;
  }

  raw(key: string): unknown {
    return this.#args[key];
  }

  requiredString(key: string): string {
    const value = this.#args[key];
    if (value === undefined) this.#missing.push(key);
    else if (typeof value !== 'string') this.#invalid.push(`${key} must be a string`);
    return typeof value === 'string' ? value : '';
  }

  requiredStringList(key: string): string[] {
    const value = this.#args[key];
    if (value === undefined) {
      this.#missing.push(key);
      return [];
    }
    if (typeof value === 'string') return [value];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      this.#invalid.push(`${key} must be a list of strings`);
      return [];
    }
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.#args[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.#invalid.push(`${key} must be a string`);
      return undefined;
    }
    return value;
  }

  /** A non-negative number of seconds, or undefined for null/0/absent (Buildbot: falsy = off). */
  optionalSeconds(key: string): number | undefined {
    const value = this.#args[key];
    if (value === undefined || value === null || value === false) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.#invalid.push(`${key} must be a number of seconds`);
      return undefined;
    }
    return value === 0 ? undefined : value;
  }

  optionalNumber(key: string): number | undefined {
    const value = this.#args[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.#invalid.push(`${key} must be a number`);
      return undefined;
    }
    return value;
  }

  /** A positive integer that must be present (e.g. blocksize). */
  requiredPositiveInteger(key: string): number {
    const value = this.#args[key];
    if (value === undefined) this.#missing.push(key);
    else if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      this.#invalid.push(`${key} must be a positive integer`);
    }
    return typeof value === 'number' ? value : 1;
  }

  /** Truthiness as Python sees it (1/0 and true/false both appear on the wire). */
  flag(key: string, fallback: boolean): boolean {
    const value = this.#args[key];
    if (value === undefined || value === null) return fallback;
    return Boolean(value);
  }

  /** Throw CommandArgsError listing every problem found so far. */
  check(): void {
    const problems: string[] = [];
    if (this.#missing.length > 0) problems.push(`is missing args: ${this.#missing.join(', ')}`);
    problems.push(...this.#invalid);
    if (problems.length > 0) {
      throw new CommandArgsError(`${this.#commandName} command ${problems.join('; ')}`);
    }
  }
}
