/**
 * WorkerAgent: keeps the worker connected to one of its masters and runs what they ask.
 * Owns the current WorkerConnection and its RequestHandler, the worker settings (kept across
 * connections, as buildbot-worker's bot does) and the reconnect timer.
 *
 * States: idle → running (connecting / connected / waiting to reconnect) → stopping →
 * stopped. After any disconnect it reconnects with exponential backoff (0.5 s doubling to
 * `maxBackoffMs`, ±20 % jitter); the backoff restarts once a master has attached us. A
 * connection that never attached moves on to the next master in the list; one that did is
 * retried first. HTTP 401 is logged as a credentials problem and retried (or gives up after
 * `maxAuthFailures` in a row). Commands die with their connection: the master cannot follow
 * them on a new one.
 * Invariants: at most one connection at a time; `finished` resolves once, after every
 * command was halted and the socket closed; nothing keeps running after `stop()` resolves.
 */
import type { Frame, WorkerToMasterOp } from '@yardmaster/protocol';
import { backoffDelayMs, DEFAULT_MAX_BACKOFF_MS } from './backoff.js';
import { WorkerConnection, type ConnectionOutcome } from './connection.js';
import { createStderrLogger, type WorkerLogger } from './logger.js';
import { RequestHandler } from './request-handler.js';
import { WorkerSettingsState } from './worker-settings.js';

export interface WorkerOptions {
  /** Masters as host:port (or ws:// URLs), tried in turn. */
  masters: string[];
  name: string;
  password: string;
  basedir: string;
  logger?: WorkerLogger;
  maxBackoffMs?: number;
  /** First reconnect delay (default 500 ms). */
  initialBackoffMs?: number;
  /** Give up after this many HTTP 401 answers in a row (default: never). */
  maxAuthFailures?: number;
  /** Environment for commands and worker info (default: process.env without our password). */
  environ?: Record<string, string>;
  /** Reported in worker info; Buildbot masters then remove unknown builder directories. */
  deleteLeftoverDirs?: boolean;
  /** WebSocket ping period (default 30 s, 0 disables). */
  pingIntervalMs?: number;
}

export type WorkerStopReason = 'stopped' | 'shutdown' | 'gave-up';

/** Environment variables of ours that commands must never see. */
export const SECRET_ENV_VARIABLES = ['YARDMASTER_WORKER_PASSWORD'];

export class WorkerAgent {
  readonly finished: Promise<WorkerStopReason>;
  readonly #options: WorkerOptions;
  readonly #logger: WorkerLogger;
  readonly #environ: Record<string, string>;
  readonly #settings = new WorkerSettingsState();
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #connection: WorkerConnection | undefined;
  #handler: RequestHandler | undefined;
  #masterIndex = 0;
  #attempt = 0;
  #authFailures = 0;
  #sleepTimer: NodeJS.Timeout | undefined;
  #wakeUp: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  #stopReason: WorkerStopReason = 'stopped';
  #resolveFinished: (reason: WorkerStopReason) => void = () => undefined;

  constructor(options: WorkerOptions) {
    if (options.masters.length === 0) throw new Error('WorkerAgent needs at least one master');
    this.#options = options;
    this.#logger = options.logger ?? createStderrLogger();
    this.#environ = options.environ ?? workerEnvironment(process.env);
    this.finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  get connected(): boolean {
    return this.#connection?.open ?? false;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#logger.info(
      `starting worker ${this.#options.name} (basedir ${this.#options.basedir}, masters ${this.#options.masters.join(', ')})`,
    );
    this.#loop = this.#run().catch((error: unknown) => {
      this.#logger.error(
        `worker loop failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    });
  }

  /** Halt running commands (killing their processes), close the connection and stop. */
  async stop(): Promise<void> {
    await this.#stop('stopped');
  }

  async #stop(reason: WorkerStopReason): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'stopped';
      this.#resolveFinished(reason);
      return;
    }
    if (this.#state === 'running') {
      this.#state = 'stopping';
      this.#stopReason = reason;
      this.#logger.info(`stopping worker (${reason})`);
      this.#handler?.abandonAll();
      this.#cancelSleep();
      this.#connection?.close(
        reason === 'shutdown' ? 'shutdown requested by master' : 'worker stopping',
      );
    }
    await this.#loop;
    await this.finished;
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      const master = this.#options.masters[this.#masterIndex % this.#options.masters.length] ?? '';
      const outcome = await this.#connectOnce(master);
      if (this.#state !== 'running') break;

      if (outcome.httpStatus === 401) {
        this.#authFailures += 1;
        this.#logger.error(
          `master ${master} refused worker "${this.#options.name}" (HTTP 401 Unauthorized): ` +
            'check the worker name and password (YARDMASTER_WORKER_NAME / YARDMASTER_WORKER_PASSWORD) ' +
            'against the master config',
        );
        const limit = this.#options.maxAuthFailures;
        if (limit !== undefined && this.#authFailures >= limit) {
          this.#logger.error(`giving up after ${this.#authFailures} refused logins`);
          this.#state = 'stopping';
          this.#stopReason = 'gave-up';
          break;
        }
      } else {
        if (outcome.opened) this.#authFailures = 0;
        this.#logger.warn(`lost master ${master}: ${outcome.reason}`);
      }
      if (!outcome.attached) this.#masterIndex += 1;
      const delay = backoffDelayMs(this.#attempt, {
        initialMs: this.#options.initialBackoffMs,
        maxMs: this.#options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      });
      this.#attempt += 1;
      const next = this.#options.masters[this.#masterIndex % this.#options.masters.length] ?? '';
      this.#logger.info(`reconnecting to ${next} in ${(delay / 1000).toFixed(1)} s`);
      await this.#sleep(delay);
    }
    this.#state = 'stopped';
    this.#logger.info(`worker stopped (${this.#stopReason})`);
    this.#resolveFinished(this.#stopReason);
  }

  async #connectOnce(master: string): Promise<ConnectionOutcome> {
    const url = masterUrl(master);
    this.#logger.info(`connecting to ${url}`);
    const current: { connection?: WorkerConnection } = {};
    const request = (op: WorkerToMasterOp, fields: Record<string, unknown>): Promise<unknown> => {
      if (!current.connection) return Promise.reject(new Error('not connected'));
      return current.connection.peer.request(op, fields);
    };
    const handler = new RequestHandler({
      basedir: this.#options.basedir,
      environ: this.#environ,
      settings: this.#settings,
      logger: this.#logger,
      request,
      onShutdown: () => void this.#stop('shutdown'),
      deleteLeftoverDirs: this.#options.deleteLeftoverDirs,
    });
    const connection = new WorkerConnection({
      url,
      name: this.#options.name,
      password: this.#options.password,
      logger: this.#logger,
      onRequest: (frame: Frame) => handler.handle(frame),
      onAttached: () => {
        this.#attempt = 0;
        this.#authFailures = 0;
        this.#logger.info(`attached to master ${master}`);
      },
      pingIntervalMs: this.#options.pingIntervalMs,
    });
    current.connection = connection;
    this.#connection = connection;
    this.#handler = handler;
    try {
      return await connection.closed;
    } finally {
      handler.abandonAll();
      await handler.whenIdle();
      if (this.#connection === connection) this.#connection = undefined;
      if (this.#handler === handler) this.#handler = undefined;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeUp = resolve;
      this.#sleepTimer = setTimeout(() => {
        this.#sleepTimer = undefined;
        this.#wakeUp = undefined;
        resolve();
      }, ms);
    });
  }

  #cancelSleep(): void {
    if (this.#sleepTimer) clearTimeout(this.#sleepTimer);
    this.#sleepTimer = undefined;
    const wake = this.#wakeUp;
    this.#wakeUp = undefined;
    wake?.();
  }
}

/** `host:port` → `ws://host:port`; full ws:// or wss:// URLs pass through. */
export function masterUrl(master: string): string {
  return /^wss?:\/\//i.test(master) ? master : `ws://${master}`;
}

/** The environment commands get: ours, without undefined entries and our secrets. */
export function workerEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !SECRET_ENV_VARIABLES.includes(key)) out[key] = value;
  }
  return out;
}
