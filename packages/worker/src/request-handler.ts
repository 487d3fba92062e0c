/**
 * RequestHandler: answers the master's requests on one connection (buildbot-worker's bot +
 * BuildbotWebSocketClientProtocol.call_*), and owns that connection's command sessions.
 *
 * Invariants: a command_id names at most one live session; sessions leave the map when they
 * are done; after `abandonAll()` no new command starts and every running one is halted
 * without sending anything more (the connection is gone or the worker is stopping).
 */
import type { Frame, WorkerToMasterOp } from '@yardmaster/protocol';
import { CommandSession } from './command-session.js';
import type { WorkerLogger } from './logger.js';
import { collectWorkerInfo } from './worker-info.js';
import type { WorkerSettingsState } from './worker-settings.js';

export interface RequestHandlerOptions {
  basedir: string;
  environ: Readonly<Record<string, string>>;
  settings: WorkerSettingsState;
  logger: WorkerLogger;
  /** Send a worker → master request on this connection. */
  request: (op: WorkerToMasterOp, fields: Record<string, unknown>) => Promise<unknown>;
  /** The master sent `shutdown`: called after the response has been queued. */
  onShutdown: () => void;
  deleteLeftoverDirs?: boolean;
  liveFlushMs?: number;
}

export class RequestHandler {
  readonly #options: RequestHandlerOptions;
  readonly #logger: WorkerLogger;
  readonly #sessions = new Map<string, CommandSession>();
  #abandoned = false;

  constructor(options: RequestHandlerOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  get activeCommands(): number {
    return this.#sessions.size;
  }

  /** Handle one request; the return value is the response result, a throw its exception. */
  async handle(frame: Frame): Promise<unknown> {
    switch (frame.op) {
      case 'print':
        requireKeys(frame, 'message');
        this.#logger.info(`message from master: ${String(frame['message'])}`);
        return null;
      case 'keepalive':
        this.#logger.debug('connection keepalive confirmed');
        return null;
      case 'get_worker_info':
        return collectWorkerInfo({
          basedir: this.#options.basedir,
          environ: this.#options.environ,
          deleteLeftoverDirs: this.#options.deleteLeftoverDirs,
        });
      case 'set_worker_settings':
        requireKeys(frame, 'args');
        this.#options.settings.update(frame['args']);
        return null;
      case 'start_command':
        requireKeys(frame, 'command_id', 'command_name', 'args');
        this.#startCommand(frame);
        return null;
      case 'interrupt_command': {
        requireKeys(frame, 'command_id', 'why');
        const session = this.#sessions.get(String(frame['command_id']));
        if (!session) {
          this.#logger.info(
            `asked to interrupt command ${String(frame['command_id'])}, but none was running`,
          );
          return null;
        }
        session.interrupt(String(frame['why']));
        return null;
      }
      case 'shutdown':
        this.#logger.info('worker shutting down on command from master');
        setImmediate(this.#options.onShutdown);
        return null;
      default:
        throw new Error(`Command ${frame.op} does not exist.`);
    }
  }

  /** Halt every command without reporting (connection lost / stopping); refuse new ones. */
  abandonAll(): void {
    this.#abandoned = true;
    for (const session of this.#sessions.values()) session.abandon();
  }

  /** Resolves when every session of this connection is done. */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((session) => session.done));
  }

  #startCommand(frame: Frame): void {
    if (this.#abandoned) throw new Error('the worker is stopping; no new commands');
    const commandId = frame['command_id'];
    const commandName = frame['command_name'];
    if (typeof commandId !== 'string' || commandId === '') {
      throw new Error('"command_id" must be a non-empty string');
    }
    if (typeof commandName !== 'string') throw new Error('"command_name" must be a string');
    if (this.#sessions.has(commandId)) {
      throw new Error(`command_id ${commandId} is already running; use a new command_id`);
    }
    const session = new CommandSession({
      commandId,
      commandName,
      args: frame['args'],
      basedir: this.#options.basedir,
      environ: this.#options.environ,
      settings: this.#options.settings.active,
      request: this.#options.request,
      logger: this.#logger,
      liveFlushMs: this.#options.liveFlushMs,
    });
    this.#sessions.set(commandId, session);
    void session.done.then(() => {
      if (this.#sessions.get(commandId) === session) this.#sessions.delete(commandId);
    });
    session.start();
  }
}

/** buildbot-worker's contains_msg_key: the same message for a missing key. */
function requireKeys(frame: Frame, ...keys: string[]): void {
  for (const key of keys) {
    if (!(key in frame)) throw new Error(`message did not contain obligatory "${key}" key`);
  }
}
