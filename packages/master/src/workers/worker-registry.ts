/**
 * The workers this master knows: their configuration, their live connection, how many
 * builds each runs and whether it is paused.
 *
 * Invariants: at most one live connection per worker name (a second one is accepted only
 * when the first no longer answers a ping); `runningBuilds` counts builds started through
 * `acquire` and not yet `release`d; a worker is offered for a build only when connected,
 * not paused, not shutting down gracefully and below its `maxBuilds`.
 *
 * Dynamic workers (Kubernetes latent worker pods) are not in the config: a
 * `DynamicWorkerSource` vouches for their credentials, and they are added on their first
 * connection, under the latent worker's name that builders list. Such a worker runs one
 * build (`retired` once acquired) and is removed by its source when its pod is gone;
 * `configure` never removes it.
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
  /** A worker started on demand (a pod): the latent worker name builders list for it. */
  latentWorker?: string;
  /** Takes no more builds (a pod runs one build, then is deleted). */
  retired?: boolean;
  /** Removed by a reload while it ran builds: no new builds, disconnected once idle. */
  removed?: boolean;
}

/** Vouches for workers that are not in the config (Kubernetes latent worker pods). */
export interface DynamicWorkerSource {
  /** The latent worker that `name` belongs to, or null when this source does not know it. */
  groupOf(name: string): string | null;
  /** True when `password` is that of the worker `name` this source started. */
  authenticate(name: string, password: string): boolean;
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
  private readonly sources: DynamicWorkerSource[] = [];

  constructor(
    private readonly data: DataApi,
    private readonly masterid: () => number,
    private readonly log: Logger,
  ) {}

  /** Applies the configured worker list; removed workers are disconnected. */
  async configure(specs: WorkerSpec[]): Promise<void> {
    const wanted = new Set(specs.map((s) => s.name));
    for (const [name, state] of this.workers) {
      if (!wanted.has(name) && state.latentWorker === undefined) {
        // A reload must not disturb running builds: their worker goes once they end.
        if (state.runningBuilds > 0 && state.connection && !state.connection.isClosed) {
          state.removed = true;
          continue;
        }
        state.connection?.close('worker removed from the configuration');
        this.workers.delete(name);
      }
    }
    for (const spec of specs) {
      const workerid = await this.data.workers.ensure(spec.name);
      const existing = this.workers.get(spec.name);
      if (existing) {
        existing.removed = false;
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
    if (state !== undefined && state.latentWorker === undefined) {
      return samePassword(state.password, password);
    }
    return this.sources.some((source) => source.authenticate(name, password));
  }

  addDynamicSource(source: DynamicWorkerSource): void {
    this.sources.push(source);
  }

  /** Forgets a dynamic worker whose pod is gone (closing its connection if any). */
  removeDynamic(name: string, reason: string): void {
    const state = this.workers.get(name);
    if (state?.latentWorker === undefined) return;
    state.connection?.close(reason);
    this.workers.delete(name);
  }

  /** The state of a dynamic worker on its first connection. */
  private async dynamicState(name: string): Promise<WorkerState | undefined> {
    const group = this.sources.map((s) => s.groupOf(name)).find((g) => g !== null);
    if (group === undefined || group === null) return undefined;
    const workerid = await this.data.workers.ensure(name);
    const existing = this.workers.get(name);
    if (existing) return existing;
    const state: WorkerState = {
      name,
      workerid,
      password: '',
      maxBuilds: 1,
      connection: null,
      runningBuilds: 0,
      paused: false,
      graceful: false,
      latentWorker: group,
      retired: false,
    };
    this.workers.set(name, state);
    return state;
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
    const dynamic = [...this.workers.values()].filter(
      (w) => w.latentWorker !== undefined && names.includes(w.latentWorker),
    );
    return [...names.map((n) => this.workers.get(n)), ...dynamic]
      .filter(
        (w): w is WorkerState =>
          w !== undefined &&
          w.retired !== true &&
          w.removed !== true &&
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
    if (worker.latentWorker !== undefined) worker.retired = true;
  }

  release(worker: WorkerState): void {
    worker.runningBuilds = Math.max(0, worker.runningBuilds - 1);
    if (worker.removed === true && worker.runningBuilds === 0) {
      worker.connection?.close('worker removed from the configuration');
      if (this.workers.get(worker.name) === worker) this.workers.delete(worker.name);
    }
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
    const state = this.workers.get(name) ?? (await this.dynamicState(name));
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
