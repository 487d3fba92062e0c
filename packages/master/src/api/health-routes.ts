/**
 * Kubernetes probes on the web port.
 *
 * - `GET /healthz` (liveness): the event loop answers in time (99th percentile of its
 *   delay since the previous probe under `maxEventLoopLagMs`) and the database answers a
 *   `select 1` within `dbTimeoutMs`. 200 `{"status":"ok"}` or 503 with the failed checks.
 *   It does not depend on readiness: a draining master is alive.
 * - `GET /readyz` (readiness): the master says it is ready (config loaded, both ports
 *   listening, database migrated, not draining). 200 or 503 with the reason.
 *
 * Owns one event-loop delay histogram per server, enabled while the server is open.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';

/** What the probes and `/metrics` need from the running master. */
export interface MasterProbes {
  /** `null` when ready; otherwise why not (for example "draining"). */
  notReadyReason(): string | null;
  /** Resolves when the database answers; rejects otherwise. */
  pingDatabase(): Promise<void>;
  /** The queue, builds, workers and pods, read when `/metrics` is scraped. */
  metricsSnapshot(): Promise<MetricsSnapshot>;
  /** Called with the seconds from a request's submission to its build's start. */
  onBuildStarted(listener: (builder: string, queuedSeconds: number) => void): () => void;
  /** Liveness thresholds (defaults: 2000 ms lag, 3000 ms database). */
  readonly livenessLimits?: { maxEventLoopLagMs?: number; dbTimeoutMs?: number };
}

export interface MetricsSnapshot {
  pendingRequests: { builder: string; count: number }[];
  runningBuilds: { builder: string; count: number }[];
  /** Workers known to this master by state: idle, busy, paused, disconnected. */
  workers: { state: string; count: number }[];
  /** Worker pods of each latent worker by state: starting, idle, busy, terminating, failed. */
  pods: { latentWorker: string; state: string; count: number }[];
  /** Configured maximum pods per latent worker. */
  maxPods: { latentWorker: string; count: number }[];
}

const DEFAULT_MAX_LAG_MS = 2_000;
const DEFAULT_DB_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export function registerHealthRoutes(app: FastifyInstance, probes: MasterProbes | undefined): void {
  if (!probes) return;
  const maxLagMs = probes.livenessLimits?.maxEventLoopLagMs ?? DEFAULT_MAX_LAG_MS;
  const dbTimeoutMs = probes.livenessLimits?.dbTimeoutMs ?? DEFAULT_DB_TIMEOUT_MS;
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  app.addHook('onClose', (_instance, done) => {
    delay.disable();
    done();
  });

  app.get('/healthz', async (_request, reply) => {
    // percentile() is NaN before the first sample; the histogram is in nanoseconds.
    const lagMs = delay.count > 0 ? delay.percentile(99) / 1e6 : 0;
    delay.reset();
    const checks: Record<string, string> = {};
    let healthy = true;
    if (lagMs > maxLagMs) {
      healthy = false;
      checks.eventLoop = `lagging: p99 ${Math.round(lagMs)} ms > ${maxLagMs} ms`;
    } else {
      checks.eventLoop = `ok (p99 ${Math.round(lagMs)} ms)`;
    }
    try {
      await withTimeout(probes.pingDatabase(), dbTimeoutMs, 'the database');
      checks.database = 'ok';
    } catch (error) {
      healthy = false;
      checks.database = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
    }
    return reply
      .code(healthy ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: healthy ? 'ok' : 'failing', checks });
  });

  app.get('/readyz', async (_request, reply) => {
    const reason = probes.notReadyReason();
    return reply
      .code(reason === null ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(reason === null ? { status: 'ready' } : { status: 'not ready', reason });
  });
}
