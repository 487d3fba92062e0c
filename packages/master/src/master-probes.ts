/**
 * The master's side of the Kubernetes probes and `/metrics` (`api/health-routes.ts`,
 * `api/metrics.ts`): readiness from the master's life cycle, liveness from a database
 * ping, and a snapshot of the queue, builds, workers and worker pods.
 *
 * Owns the listeners of build starts (for the queue-wait histogram). States of the master
 * as seen here: starting → ready → draining (stop requested) → stopped; only `ready`
 * answers /readyz with 200.
 */
import type { MasterProbes, MetricsSnapshot } from './api/health-routes.js';
import type { DataApi } from './data/data-api.js';
import { pendingRequestCounts, pingDatabase, requestSubmittedAt } from './data/queue-stats.js';
import type { Logger } from './logger.js';
import type { Build } from './process/build.js';
import { requestSubmittedMs, type BuildRequestEntity } from './data/buildsets.js';
import type { WorkerRegistry } from './workers/worker-registry.js';

export type MasterLifecycle = 'starting' | 'ready' | 'draining' | 'stopped';

export interface PodCounts {
  latentWorker: string;
  maxPods: number;
  byState: Record<string, number>;
}

export interface MasterProbeDeps {
  data(): DataApi;
  registry(): WorkerRegistry | null;
  runningBuilds(): Build[];
  builderNames(): Map<number, string>;
  podCounts(): PodCounts[];
  lifecycle(): MasterLifecycle;
  now(): number;
  log: Logger;
}

export class MasterProbesImpl implements MasterProbes {
  private readonly listeners = new Set<(builder: string, seconds: number) => void>();

  constructor(private readonly deps: MasterProbeDeps) {}

  notReadyReason(): string | null {
    switch (this.deps.lifecycle()) {
      case 'ready':
        return null;
      case 'starting':
        return 'the master is starting';
      case 'draining':
        return 'the master is stopping: it finishes its running builds and takes no new ones';
      case 'stopped':
        return 'the master is stopped';
    }
  }

  pingDatabase(): Promise<void> {
    return pingDatabase(this.deps.data());
  }

  onBuildStarted(listener: (builder: string, queuedSeconds: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called by the distributor's observer: measures the request's wait in the queue. */
  buildStarted(build: Build, request: BuildRequestEntity): void {
    if (this.listeners.size === 0) return;
    const started = this.deps.now();
    const report = (at: number) => {
      const seconds = Math.max(0, (started - at) / 1000);
      for (const listener of this.listeners) listener(build.builder.name, seconds);
    };
    // The claim returned the request's row: no read unless the entity came from elsewhere.
    const known = requestSubmittedMs(request);
    if (known !== undefined) {
      report(known);
      return;
    }
    requestSubmittedAt(this.deps.data(), [request.buildrequestid]).then(
      (submitted) => {
        const at = submitted.get(request.buildrequestid);
        if (at !== undefined) report(at);
      },
      (error: unknown) => this.deps.log.warn({ err: error }, 'measuring a queue wait failed'),
    );
  }

  async metricsSnapshot(): Promise<MetricsSnapshot> {
    const names = this.deps.builderNames();
    const pending = await pendingRequestCounts(this.deps.data());
    const running = new Map<string, number>();
    for (const build of this.deps.runningBuilds()) {
      running.set(build.builder.name, (running.get(build.builder.name) ?? 0) + 1);
    }
    const workers = new Map<string, number>([
      ['idle', 0],
      ['busy', 0],
      ['paused', 0],
      ['disconnected', 0],
    ]);
    for (const worker of this.deps.registry()?.all() ?? []) {
      const state =
        worker.connection === null || worker.connection.isClosed
          ? 'disconnected'
          : worker.paused
            ? 'paused'
            : worker.runningBuilds > 0
              ? 'busy'
              : 'idle';
      workers.set(state, (workers.get(state) ?? 0) + 1);
    }
    const pods = this.deps.podCounts();
    return {
      pendingRequests: [...names].map(([builderid, builder]) => ({
        builder,
        count: pending.get(builderid) ?? 0,
      })),
      runningBuilds: [...names.values()].map((builder) => ({
        builder,
        count: running.get(builder) ?? 0,
      })),
      workers: [...workers].map(([state, count]) => ({ state, count })),
      pods: pods.flatMap((p) =>
        Object.entries(p.byState).map(([state, count]) => ({
          latentWorker: p.latentWorker,
          state,
          count,
        })),
      ),
      maxPods: pods.map((p) => ({ latentWorker: p.latentWorker, count: p.maxPods })),
    };
  }
}
