/**
 * The workers this master knows: their configuration, their live connection, how many
 * builds each runs and whether it is paused.
 *
 * Invariants: at most one live connection per worker name (a second one is accepted only
 * when the first no longer answers a ping); `runningBuilds` counts builds started through
 * `acquire` and not yet `release`d; a worker is offered for a build only when connected,
 * not paused, not shutting down gracefully and below its `maxBuilds`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { DataApi } from '../data/data-api.js';
import type { Logger } from '../logger.js';
import { WorkerConnection } from './worker-connection.js';

export interface WorkerSpec {
  name: string;
  password: string;
  maxBuilds: number | null;
}

export interface WorkerState {
  readonly name: string;
  workerid: number;
  password: string;
  maxBuilds: number | null;
  connection: WorkerConnection | null;
  runningBuilds: number;
  paused: boolean;
  graceful: boolean;
}

const OLD_CONNECTION_PING_MS = 5_000;

function samePassword(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class WorkerRegistry {
  private readonly workers = new Map<string, WorkerState>();
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly data: DataApi,
    private readonly masterid: () => number,
    private readonly log: Logger,
  ) {}

  /** Applies the configured worker list; removed workers are disconnected. */
  async configure(specs: WorkerSpec[]): Promise<void> {
    const wanted = new Set(specs.map((s) => s.name));
    for (const [name, state] of this.workers) {
      if (!wanted.has(name)) {
        state.connection?.close('worker removed from the configuration');
        this.workers.delete(name);
      }
    }
    for (const spec of specs) {
      const workerid = await this.data.workers.ensure(spec.name);
      const existing = this.workers.get(spec.name);
      if (existing) {
        existing.password = spec.password;
        existing.maxBuilds = spec.maxBuilds;
        existing.workerid = workerid;
      } else {
        const row = await this.data.workers.get(workerid);
        this.workers.set(spec.name, {
          name: spec.name,
          workerid,
          password: spec.password,
          maxBuilds: spec.maxBuilds,
          connection: null,
          runningBuilds: 0,
          paused: row?.paused ?? false,
          graceful: false,
        });
      }
    }
  }

  onAvailable(listener: () => void): void {
    this.listeners.push(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  authenticate(name: string, password: string): boolean {
    const state = this.workers.get(name);
    return state !== undefined && samePassword(state.password, password);
  }

  get(name: string): WorkerState | undefined {
    return this.workers.get(name);
  }

  byId(workerid: number): WorkerState | undefined {
    return [...this.workers.values()].find((w) => w.workerid === workerid);
  }

  all(): WorkerState[] {
    return [...this.workers.values()];
  }

  /** Workers among `names` that can take a build now, least busy first. */
  available(names: readonly string[]): WorkerState[] {
    return names
      .map((n) => this.workers.get(n))
      .filter(
        (w): w is WorkerState =>
          w !== undefined &&
          w.connection !== null &&
          !w.connection.isClosed &&
          !w.paused &&
          !w.graceful &&
          (w.maxBuilds === null || w.runningBuilds < w.maxBuilds),
      )
      .sort((a, b) => a.runningBuilds - b.runningBuilds);
  }

  acquire(worker: WorkerState): void {
    worker.runningBuilds++;
  }

  release(worker: WorkerState): void {
    worker.runningBuilds = Math.max(0, worker.runningBuilds - 1);
    this.notify();
  }

  /** Another master changed a worker's state in the database: follow it. */
  syncState(workerid: number, paused: boolean): void {
    const worker = this.byId(workerid);
    if (!worker || worker.paused === paused) return;
    worker.paused = paused;
    if (!paused) this.notify();
  }

  async setPaused(worker: WorkerState, paused: boolean): Promise<void> {
    worker.paused = paused;
    await this.data.workers.setState(worker.workerid, { paused });
    if (!paused) this.notify();
  }

  /** A new authenticated socket for `name`. */
  async attach(name: string, socket: WebSocket, remote: string): Promise<void> {
    const state = this.workers.get(name);
    if (!state) {
      socket.close(1008, 'unknown worker');
      return;
    }
    const old = state.connection;
    if (old && !old.isClosed) {
      const alive = await Promise.race([
        old.ping().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) =>
          setTimeout(() => resolve(false), OLD_CONNECTION_PING_MS).unref(),
        ),
      ]);
      if (alive) {
        this.log.warn(
          { worker: name, remote },
          `worker ${name} is already connected from ${old.remoteAddress}; refusing the new connection`,
        );
        socket.close(1008, 'this worker is already connected');
        return;
      }
      old.fail('was replaced by a new connection');
    }
    const connection = new WorkerConnection(socket, name, remote, this.log);
    state.connection = connection;
    connection.onClose((reason) => {
      if (state.connection === connection) state.connection = null;
      this.log.info({ worker: name, reason }, `worker ${name} disconnected: ${reason}`);
      this.data.workers.disconnected(state.workerid, this.masterid()).catch((error: unknown) => {
        this.log.error({ err: error }, 'recording a worker disconnect failed');
      });
    });
    try {
      const info = await connection.attach();
      if (connection.isClosed) return;
      await this.data.workers.connected(state.workerid, this.masterid(), info);
      this.log.info({ worker: name, remote, version: info.version }, `worker ${name} attached`);
      this.notify();
    } catch (error) {
      this.log.warn({ worker: name, err: String(error) }, `worker ${name} failed to attach`);
      connection.fail(`failed to attach: ${String(error)}`);
    }
  }

  closeAll(reason: string): void {
    for (const w of this.workers.values()) w.connection?.close(reason);
  }
}
