/**
 * `GET /metrics` in Prometheus' text format, for dashboards and for autoscalers such as
 * KEDA that scale worker deployments from the queue.
 *
 * Owns one prom-client registry per server (never the global one, so several masters in
 * one process — tests, benchmarks — keep separate counts). Gauges are read from the
 * master when scraped; the claim-latency histogram is fed as builds start.
 *
 * prom-client (and with it its default metrics' event-loop monitor and GC observer) is
 * loaded when `/metrics` is first scraped, not when the master starts: an idle master that
 * nobody scrapes does not carry it (docs/decisions/0018). The claim-latency histogram
 * counts from the start all the same: it is kept by `WaitHistogram` (wait-histogram.ts)
 * and appended to prom-client's text. The default metrics' counters (CPU, GC) are the
 * process's own totals; only the event-loop lag figures start at the first scrape.
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
import type { Registry } from 'prom-client';
import type { MasterProbes, MetricsSnapshot } from './health-routes.js';
import { WaitHistogram } from './wait-histogram.js';

/** Builds the registry of the gauges and default metrics; exported for tests. */
export async function createMetricsRegistry(probes: MasterProbes): Promise<Registry> {
  const { Gauge, Registry, collectDefaultMetrics } = await import('prom-client');
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
  return registry;
}

export function registerMetricsRoute(app: FastifyInstance, probes: MasterProbes | undefined): void {
  if (!probes) return;
  const waits = new WaitHistogram();
  const unsubscribe = probes.onBuildStarted((builder, seconds) => waits.observe(builder, seconds));
  let registry: Promise<Registry> | undefined;
  app.addHook('onClose', (_instance, done) => {
    unsubscribe();
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    registry ??= createMetricsRegistry(probes).catch((error: unknown) => {
      registry = undefined; // try again on the next scrape
      throw error;
    });
    const loaded = await registry;
    // prom-client's text ends with a newline and separates metrics with a blank line.
    const text = `${await loaded.metrics()}\n${waits.render()}\n`;
    return reply.code(200).header('content-type', loaded.contentType).send(text);
  });
}
