/**
 * `GET /metrics` in Prometheus' text format, for dashboards and for autoscalers such as
 * KEDA that scale worker deployments from the queue.
 *
 * Owns one prom-client registry per server (never the global one, so several masters in
 * one process — tests, benchmarks — keep separate counts). Gauges are read from the
 * master when scraped; the claim-latency histogram is fed as builds start.
 *
 *   yardmaster_build_requests_pending{builder}        requests waiting for a worker
 *   yardmaster_builds_running{builder}                builds this master runs
 *   yardmaster_workers{state}                         idle, busy, paused, disconnected
 *   yardmaster_worker_pods{latent_worker,state}       starting, idle, busy, terminating, failed
 *   yardmaster_worker_pods_max{latent_worker}         the configured maxPods
 *   yardmaster_build_request_wait_seconds{builder}    histogram: submitted → build started
 * plus prom-client's default process and Node.js metrics.
 */
import type { FastifyInstance } from 'fastify';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MasterProbes, MetricsSnapshot } from './health-routes.js';

const WAIT_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];

/** Builds the registry; exported for tests. */
export function createMetricsRegistry(probes: MasterProbes): {
  registry: Registry;
  close: () => void;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // One snapshot per scrape, shared by the gauges' collect callbacks.
  let pending: Promise<MetricsSnapshot> | null = null;
  const snapshot = (): Promise<MetricsSnapshot> => {
    pending ??= probes.metricsSnapshot().finally(() => {
      setImmediate(() => {
        pending = null;
      });
    });
    return pending;
  };

  new Gauge({
    name: 'yardmaster_build_requests_pending',
    help: 'Build requests waiting for a worker (unclaimed and incomplete), per builder.',
    labelNames: ['builder'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { builder, count } of (await snapshot()).pendingRequests)
        this.set({ builder }, count);
    },
  });
  new Gauge({
    name: 'yardmaster_builds_running',
    help: 'Builds this master is running, per builder.',
    labelNames: ['builder'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { builder, count } of (await snapshot()).runningBuilds)
        this.set({ builder }, count);
    },
  });
  new Gauge({
    name: 'yardmaster_workers',
    help: 'Workers known to this master, by state (idle, busy, paused, disconnected).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { state, count } of (await snapshot()).workers) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'yardmaster_worker_pods',
    help: 'Worker pods of each Kubernetes latent worker, by state (starting, idle, busy, terminating, failed).',
    labelNames: ['latent_worker', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { latentWorker, state, count } of (await snapshot()).pods)
        this.set({ latent_worker: latentWorker, state }, count);
    },
  });
  new Gauge({
    name: 'yardmaster_worker_pods_max',
    help: 'The configured maxPods of each Kubernetes latent worker.',
    labelNames: ['latent_worker'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { latentWorker, count } of (await snapshot()).maxPods)
        this.set({ latent_worker: latentWorker }, count);
    },
  });
  const wait = new Histogram({
    name: 'yardmaster_build_request_wait_seconds',
    help: 'Seconds from a build request being submitted to its build starting (claim latency), per builder.',
    labelNames: ['builder'],
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  const unsubscribe = probes.onBuildStarted((builder, seconds) =>
    wait.observe({ builder }, seconds),
  );
  return { registry, close: unsubscribe };
}

export function registerMetricsRoute(app: FastifyInstance, probes: MasterProbes | undefined): void {
  if (!probes) return;
  const metrics = createMetricsRegistry(probes);
  const registry = metrics.registry;
  app.addHook('onClose', (_instance, done) => {
    metrics.close();
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.code(200).header('content-type', registry.contentType).send(text);
  });
}
