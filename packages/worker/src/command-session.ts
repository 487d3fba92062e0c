/**
 * CommandSession: one remote command on one connection (buildbot-worker's
 * ProtocolCommandMsgpack). Owns the command object, a LineSplitter per output stream and log
 * file, and the UpdateBuffer that batches `update` messages.
 *
 * States: created (command built, args checked) → running → completed (`complete` sent) or
 * abandoned (connection lost / worker stopping: the command is interrupted and nothing more
 * is sent, as buildbot-worker does when its bot stops).
 * Invariants: updates leave in the order the command produced them and all of them before
 * `complete`; `complete` is sent at most once and never after `abandon()`; `done` resolves
 * (never rejects) once the command has ended and, unless abandoned, `complete` was answered.
 * Flow control: `#unanswered` sums the log text of the `update` messages awaiting the
 * master's answer; from MAX_UNANSWERED_TEXT on, `whenWritable` hands the command a promise
 * that resolves once answers (or failures, or `abandon()`) bring it back under that.
 */
import { errorText, type UpdateEntry, type WorkerToMasterOp } from '@yardmaster/protocol';
import type { CommandContext, RawUpdate, WorkerCommand } from './commands/base.js';
import { createCommand } from './commands/registry.js';
import { LineSplitter } from './line-splitter.js';
import type { WorkerLogger } from './logger.js';
import { UpdateBuffer } from './update-buffer.js';

/** The worker settings in effect, ready to use. */
export interface ActiveSettings {
  newlineRe: RegExp;
  maxLineLength: number;
  bufferSize: number;
  bufferTimeoutMs: number;
  /** Whether log chunks carry their offset and timestamp lists (`send_line_lists`). */
  lineLists: boolean;
}

export interface CommandSessionOptions {
  commandId: string;
  commandName: string;
  args: unknown;
  basedir: string;
  environ: Readonly<Record<string, string>>;
  settings: ActiveSettings;
  /** Send a worker → master request on this connection. */
  request: (op: WorkerToMasterOp, fields: Record<string, unknown>) => Promise<unknown>;
  logger: WorkerLogger;
  /** Epoch seconds for line timestamps (default: Date.now() / 1000). */
  clock?: () => number;
  /** Upper bound on how long output is buffered (default 25 ms). */
  liveFlushMs?: number;
}

type SessionState = 'created' | 'running' | 'completed' | 'abandoned';

/**
 * Flow control without changing the protocol: while the `update` messages of a command that
 * wait for the master's answer hold this much log text (UTF-16 units), its process's output
 * is not read (decision 0017). 1 Mi keeps a fast master busy (4 messages of 256 KiB at
 * 80-byte lines, ~36 at 2-byte lines, whose line lists fill Buildbot's size measure) and
 * bounds what queues on both sides.
 */
export const MAX_UNANSWERED_TEXT = 1024 * 1024;

export class CommandSession {
  readonly commandId: string;
  readonly commandName: string;
  readonly done: Promise<void>;
  readonly #options: CommandSessionOptions;
  readonly #logger: WorkerLogger;
  readonly #clock: () => number;
  readonly #command: WorkerCommand;
  readonly #buffer: UpdateBuffer;
  readonly #streamSplitters = new Map<'stdout' | 'stderr' | 'header', LineSplitter>();
  readonly #logSplitters = new Map<string, LineSplitter>();
  #state: SessionState = 'created';
  /** Log text (plus 1 per other entry) in `update` messages sent and not answered yet. */
  #unanswered = 0;
  /** Called once the unanswered text falls below MAX_UNANSWERED_TEXT (or on abandon). */
  #caughtUp: (() => void)[] = [];
  #resolveDone: () => void = () => undefined;

  /** Throws (UnknownCommandError, args errors) if the command cannot be created. */
  constructor(options: CommandSessionOptions) {
    this.commandId = options.commandId;
    this.commandName = options.commandName;
    this.#options = options;
    this.#logger = options.logger;
    this.#clock = options.clock ?? (() => Date.now() / 1000);
    this.done = new Promise<void>((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#buffer = new UpdateBuffer((entries) => this.#sendUpdateMessage(entries), {
      bufferSize: options.settings.bufferSize,
      bufferTimeoutMs: options.settings.bufferTimeoutMs,
      liveFlushMs: options.liveFlushMs,
    });
    const context: CommandContext = {
      commandId: options.commandId,
      commandName: options.commandName,
      basedir: options.basedir,
      environ: options.environ,
      logger: options.logger,
      sendUpdate: (updates) => this.#sendUpdate(updates),
      whenWritable: () => this.#whenWritable(),
      request: (op, fields = {}) =>
        options.request(op, { ...fields, command_id: options.commandId }),
    };
    this.#command = createCommand(options.commandName, context, options.args);
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Run the command in the background; `done` tells when it is over. */
  start(): void {
    if (this.#state !== 'created') return;
    this.#state = 'running';
    this.#logger.info(`startCommand: ${this.commandName} [id ${this.commandId}]`);
    void this.#command.run().then(
      () => this.#complete(null),
      (error: unknown) => {
        this.#logger.warn(
          `command ${this.commandName} [id ${this.commandId}] failed: ${describeFailure(error)}`,
        );
        return this.#complete(describeFailure(error));
      },
    );
  }

  /** interrupt_command: send what is buffered (partial lines too), then stop the command. */
  interrupt(why: string): void {
    if (this.#state !== 'running') return;
    this.#logger.info(
      `asked to interrupt command ${this.commandName} [id ${this.commandId}]: ${why}`,
    );
    this.#flushOutput();
    this.#command.doInterrupt();
  }

  /** The connection is gone or the worker is stopping: stop the command, send nothing more. */
  abandon(): void {
    if (this.#state === 'completed' || this.#state === 'abandoned') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'abandoned';
    this.#buffer.close();
    this.#releaseWaiters();
    if (wasRunning) {
      this.#logger.info(`halting command ${this.commandName} [id ${this.commandId}]`);
      this.#command.doInterrupt();
    } else {
      this.#resolveDone();
    }
  }

  #sendUpdate(updates: RawUpdate[]): void {
    if (this.#state !== 'running') return;
    const time = this.#clock();
    for (const update of updates) {
      switch (update[0]) {
        case 'stdout':
        case 'stderr':
        case 'header': {
          const chunk = this.#splitter(this.#streamSplitters, update[0]).append(update[1], time);
          if (chunk) this.#buffer.append([update[0], chunk]);
          break;
        }
        case 'log': {
          const [logName, text] = update[1];
          const chunk = this.#splitter(this.#logSplitters, logName).append(text, time);
          if (chunk) this.#buffer.append(['log', [logName, chunk]]);
          break;
        }
        default:
          this.#buffer.append(update);
      }
    }
  }

  #splitter<K>(map: Map<K, LineSplitter>, key: K): LineSplitter {
    let splitter = map.get(key);
    if (!splitter) {
      const { maxLineLength, newlineRe, lineLists } = this.#options.settings;
      splitter = new LineSplitter(maxLineLength, newlineRe, { lineLists });
      map.set(key, splitter);
    }
    return splitter;
  }

  /** Flush partial lines (streams in sorted order, then log files) and the buffer. */
  #flushOutput(): void {
    for (const key of [...this.#streamSplitters.keys()].sort()) {
      const chunk = this.#streamSplitters.get(key)?.flush();
      if (chunk) this.#buffer.append([key, chunk]);
    }
    for (const logName of [...this.#logSplitters.keys()].sort()) {
      const chunk = this.#logSplitters.get(logName)?.flush();
      if (chunk) this.#buffer.append(['log', [logName, chunk]]);
    }
    this.#buffer.flush();
  }

  #sendUpdateMessage(entries: UpdateEntry[]): void {
    const size = textSize(entries);
    this.#unanswered += size;
    this.#options
      .request('update', { args: entries, command_id: this.commandId })
      .catch((error: unknown) =>
        this.#logger.debug(
          `update for command ${this.commandId} not acknowledged: ${errorText(error)}`,
        ),
      )
      .finally(() => {
        this.#unanswered -= size;
        if (this.#unanswered < MAX_UNANSWERED_TEXT) this.#releaseWaiters();
      });
  }

  /** See CommandContext.whenWritable: bounded unanswered log text. */
  #whenWritable(): Promise<void> | undefined {
    if (this.#unanswered < MAX_UNANSWERED_TEXT || this.#state !== 'running') return undefined;
    return new Promise<void>((resolve) => this.#caughtUp.push(resolve));
  }

  #releaseWaiters(): void {
    const waiters = this.#caughtUp;
    this.#caughtUp = [];
    for (const resolve of waiters) resolve();
  }

  async #complete(failure: string | null): Promise<void> {
    if (this.#state !== 'running') {
      this.#resolveDone();
      return;
    }
    this.#flushOutput();
    this.#state = 'completed';
    this.#buffer.close();
    try {
      await this.#options.request('complete', { args: failure, command_id: this.commandId });
    } catch (error) {
      this.#logger.warn(
        `complete for command ${this.commandId} not acknowledged: ${errorText(error)}`,
      );
    } finally {
      this.#logger.info(`command ${this.commandName} [id ${this.commandId}] complete`);
      this.#resolveDone();
    }
  }
}

/** The log text in `entries`, plus 1 for each other entry. */
function textSize(entries: UpdateEntry[]): number {
  let size = 0;
  for (const entry of entries) {
    if (entry[0] === 'log') size += entry[1][1][0].length;
    else if (entry[0] === 'stdout' || entry[0] === 'stderr' || entry[0] === 'header') {
      size += entry[1][0].length;
    } else size += 1;
  }
  return size;
}

/** The text for `complete`'s args: "<ErrorName>: <message>". */
function describeFailure(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
