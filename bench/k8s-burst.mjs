#!/usr/bin/env node
// Kubernetes burst: 1,000 build requests at once on a kubernetesLatentWorker, against
// testkit's fake Kubernetes API (the master talks to it through @kubernetes/client-node),
// each pod taking a start latency drawn uniformly from 1–10 s before its worker runs.
//
// Workers run in this process (one WorkerAgent per pod, a real msgpack connection to the
// master's worker port, real `sleep` commands): 1,000 worker processes would measure
// Node's start-up on 2 cores, not the scheduling. The master, its database (SQLite), the
// pod manager and the API traffic are the real ones.
//
// Figures: queue → build start p50/p95 (submission to the build's row), peak pods, idle
// pod-seconds (pods running but not building: connect time, warm-up, idle before delete),
// builds killed (anything but SUCCESS; must be 0), pods created, wall time.
//
//   npm run build && node bench/k8s-burst.mjs [--requests 1000] [--max-pods 100]
//     [--build-seconds 1] [--seed 1] [--write]
// With --write the "Kubernetes burst" section of bench/RESULTS.md is replaced (or added).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { FakeKubernetes, cleanupAll, freePort, makeTempDir, waitFor } from '@yardmaster/testkit';
import { WorkerAgent, silentLogger } from '@yardmaster/worker';
import {
  Master,
  buildFactory,
  builder,
  forceScheduler,
  kubernetesLatentWorker,
  shellCommand,
  validateConfig,
} from '@yardmaster/master';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    'max-pods': { type: 'string', default: '100' },
    'build-seconds': { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    write: { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(values.requests);
const MAX_PODS = Number(values['max-pods']);
const BUILD_SECONDS = Number(values['build-seconds']);

function random(seed) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(Number(values.seed));

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const log = (text) => process.stderr.write(`[k8s-burst] ${text}\n`);

const podsRoot = await makeTempDir('k8s-burst-pods');
/** One in-process worker per pod. */
const runner = (pod, env) => {
  const agent = new WorkerAgent({
    masters: [env.YARDMASTER_MASTER],
    name: env.YARDMASTER_WORKER_NAME,
    password: env.YARDMASTER_WORKER_PASSWORD,
    basedir: path.join(podsRoot, pod.metadata.name),
    logger: silentLogger,
    environ: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: podsRoot },
  });
  agent.start();
  return {
    exited: agent.finished.then(() => 0),
    busy: () => false,
    stop: async () => {
      await agent.stop();
    },
  };
};

const fake = await new FakeKubernetes({
  runner,
  behaviour: () => ({ startDelayMs: Math.round(1000 + next() * 9000) }),
  historySize: 100_000,
}).start();
const basedir = await makeTempDir('k8s-burst');
const workerPort = await freePort();
const config = validateConfig(
  {
    workers: [
      kubernetesLatentWorker('k8s', {
        image: 'yardmaster/worker:bench',
        masterAddress: `127.0.0.1:${workerPort}`,
        maxPods: MAX_PODS,
        idleTimeout: 30,
        kubeconfig: fake.kubeconfigPath,
      }),
    ],
    builders: [
      builder({
        name: 'burst',
        workerNames: ['k8s'],
        collapseRequests: false,
        factory: buildFactory([
          shellCommand({ command: `sleep ${BUILD_SECONDS}`, logEnviron: false }),
        ]),
      }),
    ],
    schedulers: [forceScheduler({ name: 'force', builderNames: ['burst'] })],
    collapseRequests: false,
  },
  'k8s-burst',
);
const master = new Master({
  config,
  basedir,
  webPort: 0,
  webHost: '127.0.0.1',
  workerPort,
  workerHost: '127.0.0.1',
  dbUrl: `sqlite:///${path.join(basedir, 'state.sqlite')}`,
  masterName: 'bench-master',
  logger: pino({ level: process.env.YARDMASTER_BENCH_LOG ?? 'silent' }),
});
await master.start();

log(
  `forcing ${REQUESTS} requests (maxPods ${MAX_PODS}, pod start 1–10 s, builds ${BUILD_SECONDS} s)`,
);
const started = Date.now();
const ids = [];
for (let i = 0; i < REQUESTS; i++) {
  const result = await master.force('force', { builderNames: ['burst'] }, null);
  ids.push(...Object.values(result.buildrequestids));
}
const db = master.data.ctx.db;
let lastReport = 0;
await waitFor(
  async () => {
    const row = await db
      .selectFrom('buildrequests')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('complete', '=', 1)
      .executeTakeFirstOrThrow();
    const done = Number(row.n);
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      log(
        `${done}/${REQUESTS} done, ${fake.listPods().length} pods, ${Math.round((Date.now() - started) / 1000)} s`,
      );
    }
    return done === REQUESTS;
  },
  { timeoutMs: 30 * 60_000, intervalMs: 500, message: 'every request completed' },
);
const wallSeconds = (Date.now() - started) / 1000;
await waitFor(() => fake.listPods().length === 0, {
  timeoutMs: 120_000,
  message: 'every pod deleted',
});

const requests = await db.selectFrom('buildrequests').select(['id', 'submitted_at']).execute();
const submitted = new Map(requests.map((r) => [r.id, Number(r.submitted_at)]));
const builds = await db
  .selectFrom('builds')
  .leftJoin('workers', 'workers.id', 'builds.workerid')
  .select([
    'builds.buildrequestid',
    'builds.started_at',
    'builds.complete_at',
    'builds.results',
    'workers.name',
  ])
  .execute();
const waits = builds
  .map((b) => Number(b.started_at) - (submitted.get(b.buildrequestid) ?? NaN))
  .filter((ms) => Number.isFinite(ms))
  .sort((a, b) => a - b);
const killed = builds.filter((b) => b.results !== 0).length;
// Pod names are slots, used again by later pods: a build belongs to the pod of its worker's
// name that existed when it started.
const pods = [...fake.history.values()];
const podOf = (b) =>
  b.name
    ? pods.find(
        (p) =>
          p.name === b.name &&
          p.created <= Number(b.started_at) &&
          (p.deleted ?? Infinity) >= Number(b.started_at),
      )
    : undefined;
const busyMs = new Map();
for (const b of builds) {
  const pod = podOf(b);
  if (pod) busyMs.set(pod, (busyMs.get(pod) ?? 0) + (Number(b.complete_at) - Number(b.started_at)));
}
let idleMs = 0;
for (const entry of pods) {
  if (entry.running === undefined) continue;
  const end = entry.deleted ?? Date.now();
  idleMs += Math.max(0, end - entry.running - (busyMs.get(entry) ?? 0));
}
// Where the idle time goes: container running → its build starts; build ends → pod gone.
const toStart = [];
const toDelete = [];
for (const b of builds) {
  const entry = podOf(b);
  if (entry?.running === undefined) continue;
  toStart.push(Number(b.started_at) - entry.running);
  if (entry.deleted !== undefined) toDelete.push(entry.deleted - Number(b.complete_at));
}
toStart.sort((a, b) => a - b);
toDelete.sort((a, b) => a - b);
const results = {
  requests: REQUESTS,
  maxPods: MAX_PODS,
  buildSeconds: BUILD_SECONDS,
  p50: Math.round(percentile(waits, 50)),
  p95: Math.round(percentile(waits, 95)),
  max: Math.round(waits.at(-1) ?? NaN),
  peakPods: fake.peakPods,
  podsCreated: fake.history.size,
  idlePodSeconds: Math.round(idleMs / 1000),
  idlePerPodSeconds: (idleMs / 1000 / Math.max(1, fake.history.size)).toFixed(2),
  runningToBuildP50: Math.round(percentile(toStart, 50)),
  runningToBuildP95: Math.round(percentile(toStart, 95)),
  buildEndToGoneP50: Math.round(percentile(toDelete, 50)),
  buildEndToGoneP95: Math.round(percentile(toDelete, 95)),
  killed,
  deletedWhileBusy: fake.deletedWhileBusy.length,
  wallSeconds: Math.round(wallSeconds),
  loadAverage: os.loadavg()[0].toFixed(1),
  buildsPerSecond: (REQUESTS / wallSeconds).toFixed(1),
};
console.log(JSON.stringify(results, null, 2));

await master.stop();
await fake.stop();
await cleanupAll();

if (values.write) {
  const section = `<!-- k8s-burst:start -->
## Kubernetes burst

\`node bench/k8s-burst.mjs --write\` (${new Date().toISOString().slice(0, 10)}, 2 cores): ${results.requests}
build requests forced at once on one \`kubernetesLatentWorker\` (maxPods ${results.maxPods}), against
testkit's fake Kubernetes API through @kubernetes/client-node; each pod's start latency is drawn
uniformly from 1–10 s; one build (\`sleep ${results.buildSeconds}\`) per pod; workers in-process
(WorkerAgent over the real worker port), master, SQLite and pod manager real. Load average
at the end of the run: ${results.loadAverage} (other work shares the machine's 2 cores).

| figure | value |
| --- | --- |
| queue → build start p50 / p95 / max | ${(results.p50 / 1000).toFixed(1)} / ${(results.p95 / 1000).toFixed(1)} / ${(results.max / 1000).toFixed(1)} s |
| peak pods (maxPods ${results.maxPods}) | ${results.peakPods} |
| pods created (one per build) | ${results.podsCreated} |
| idle pod-seconds (running, not building) | ${results.idlePodSeconds} s in all, ${results.idlePerPodSeconds} s per pod |
| pod running → its build starts, p50 / p95 | ${results.runningToBuildP50} / ${results.runningToBuildP95} ms |
| build ends → pod gone, p50 / p95 | ${results.buildEndToGoneP50} / ${results.buildEndToGoneP95} ms |
| builds killed (must be 0) | ${results.killed} (pods deleted while busy: ${results.deletedWhileBusy}) |
| wall time / throughput | ${results.wallSeconds} s / ${results.buildsPerSecond} builds/s |

With every pod taking 5.5 s on average to start and one build per pod, throughput is bounded by
maxPods / (start + build + delete); the queue wait of the last requests is the backlog divided by
that rate. Idle pod-seconds are the time from a container running to its deletion minus its
build: worker connection, the distribution pass, and the graceful delete.
<!-- k8s-burst:end -->`;
  const file = path.join(ROOT, 'bench/RESULTS.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
  const pattern = /<!-- k8s-burst:start -->[\s\S]*<!-- k8s-burst:end -->/;
  const updated = pattern.test(text)
    ? text.replace(pattern, section)
    : `${text.replace(/\s*$/, '\n')}\n${section}\n`;
  fs.writeFileSync(file, updated);
  log(`wrote the "Kubernetes burst" section of ${path.relative(ROOT, file)}`);
}
process.exit(0);
