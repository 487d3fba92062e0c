#!/usr/bin/env node
// Several masters on one PostgreSQL: claims per second with 1 and 3 masters and 20 fast
// workers, force → build start latency with 10 and with 10,000 requests pending, and the
// time from SIGKILL of a master to its build being handed back to the queue.
// Run after `npm run build`:  node bench/multi-master/bench.mjs [--requests 2000] [--write]
//   [--only claims1,claims3,claims3pool3,latency,requeue,ceiling]
// Figures go to stdout; with --write also to the "Several masters" section of bench/RESULTS.md
// (added at the end when its markers are missing). Each master counts its statements
// (YARDMASTER_SQL_STATS): the claims figures include statements and transactions per build,
// BENCH_SQL_SHAPES=1 prints them by statement shape; BENCH_PROFILE_DIR=dir CPU-profiles the
// masters (read with bench/cpuprofile-top.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  cleanupAll,
  freePort,
  makeTempDir,
  spawnProcess,
  startPostgres,
  stopAllProcesses,
  waitFor,
} from '@yardmaster/testkit';
import { startFastWorker } from './fast-worker.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MASTER_BIN = path.join(ROOT, 'packages/master/bin/yardmaster.js');
const args = process.argv.slice(2);
const REQUESTS = Number(args[args.indexOf('--requests') + 1] || 2000) || 2000;
const WORKERS = 20;

const CONFIG = `
import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';
const fast = Array.from({ length: ${WORKERS} }, (_, i) => 'f' + (i + 1));
export default defineConfig({
  title: 'bench',
  collapseRequests: false,
  workers: [...fast.map((n) => worker(n, { password: 'pw', maxBuilds: 1 })), worker('nobody', { password: 'pw' })],
  builders: [
    builder({ name: 'fast', workerNames: fast, factory: buildFactory([shellCommand({ command: ['true'], logEnviron: false })]) }),
    builder({ name: 'hold', workerNames: fast, factory: buildFactory([shellCommand({ command: 'hold' })]) }),
    builder({ name: 'backlog', workerNames: ['nobody'], factory: buildFactory([shellCommand({ command: ['true'] })]) }),
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['fast', 'hold', 'backlog'] })],
});
`;

async function query(url, text, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** utime + stime of a process in ms (clock ticks are 100 per second on Linux). */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU (utime + stime, and that of reaped children) in ms of every process under `rootPid`
 * whose command name is `comm`: PostgreSQL's postmaster and backends (exited backends count
 * through the postmaster's children times).
 */
function treeCpuMs(rootPid, comm) {
  const children = new Map();
  const stats = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text;
    try {
      text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    stats.set(Number(entry), { name, fields });
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  let total = 0;
  const visit = (pid) => {
    const stat = stats.get(pid);
    if (stat?.name === comm) {
      const f = stat.fields;
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
    }
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(rootPid);
  return total;
}

/** This process's own CPU in ms: the simulated workers, the seeding and the polling. */
function selfCpuMs() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function startMasters(dbUrl, count, extra = [], env = {}) {
  const dir = await makeTempDir('bench-mm-');
  const configFile = path.join(dir, 'master.config.ts');
  fs.writeFileSync(configFile, CONFIG);
  const masters = [];
  for (let i = 1; i <= count; i++) {
    const webPort = await freePort();
    const workerPort = await freePort();
    const profile = process.env.BENCH_PROFILE_DIR
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
      : [];
    const proc = spawnProcess(
      process.execPath,
      [
        ...profile,
        MASTER_BIN,
        'start',
        '--config',
        configFile,
        '--basedir',
        path.join(dir, `m${i}`),
        '--web-port',
        String(webPort),
        '--worker-port',
        String(workerPort),
        '--db-url',
        dbUrl,
        '--name',
        `m${i}`,
        ...extra,
      ],
      {
        name: `m${i}`,
        env: {
          YARDMASTER_LOG_LEVEL: 'warn',
          YARDMASTER_SQL_STATS: path.join(dir, `m${i}-sql.json`),
          ...env,
        },
      },
    );
    masters.push({
      proc,
      webPort,
      workerPort,
      name: `m${i}`,
      sqlStats: path.join(dir, `m${i}-sql.json`),
    });
  }
  for (const m of masters) {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${m.webPort}/api/v2/builders`)).ok, {
      timeoutMs: 30_000,
    }).catch(() => {
      throw new Error(`master ${m.name} did not start:\n${m.proc.output()}`);
    });
  }
  return masters;
}

/** The master's statement counts (YARDMASTER_SQL_STATS), written every second, newer than `after`. */
async function sqlStats(master, after = 0) {
  let stats = null;
  await waitFor(
    () => {
      try {
        stats = JSON.parse(fs.readFileSync(master.sqlStats, 'utf8'));
      } catch {
        return false;
      }
      return stats.at > after;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  return stats;
}

/** Statements and transactions per build between two sets of snapshots, and the top shapes. */
function perBuild(before, after, builds) {
  const shapes = new Map();
  let statements = 0;
  let transactions = 0;
  after.forEach((a, i) => {
    const b = before[i];
    statements += a.statements - b.statements;
    transactions += a.transactions - b.transactions;
    for (const [shape, n] of Object.entries(a.shapes)) {
      const d = n - (b.shapes[shape] ?? 0);
      if (d > 0) shapes.set(shape, (shapes.get(shape) ?? 0) + d);
    }
  });
  const round = (n) => Number((n / builds).toFixed(2));
  return {
    statements: round(statements),
    transactions: round(transactions),
    shapes: [...shapes.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([shape, n]) => [round(n), shape.length > 160 ? shape.slice(0, 157) + '...' : shape]),
  };
}

async function builderId(url, name) {
  return (await query(url, 'select id from builders where name = $1', [name]))[0].id;
}

/** Inserts `count` pending requests for `builder` in one transaction. */
async function seed(url, builder, count) {
  const id = await builderId(url, builder);
  const now = Date.now();
  await query(
    url,
    `with bs as (
       insert into buildsets (reason, submitted_at, complete)
       select 'bench', $2, 0 from generate_series(1, $1) returning id)
     insert into buildrequests (buildsetid, builderid, priority, complete, submitted_at, waited_for)
     select id, $3, 0, 0, $2, 0 from bs`,
    [count, now, id],
  );
}

/** Server time (planning + execution) per build by statement shape, from pg_stat_statements. */
async function printServerTime(url, builds) {
  const rows = await query(
    url,
    `select calls, total_plan_time + total_exec_time as ms, total_plan_time as plan_ms, query
       from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
       order by total_plan_time + total_exec_time desc limit 15`,
  );
  const all = rows.reduce((sum, r) => sum + Number(r.ms), 0);
  console.log(`PostgreSQL time per build (top shapes: ${(all / builds).toFixed(3)} ms in all):`);
  for (const r of rows) {
    const perBuild = (Number(r.ms) / builds).toFixed(3);
    const plan = (Number(r.plan_ms) / builds).toFixed(3);
    const shape = r.query.replace(/\s+/g, ' ');
    console.log(
      `  ${perBuild} ms (plan ${plan}), ${(Number(r.calls) / builds).toFixed(2)} calls  ${shape.slice(0, 150)}`,
    );
  }
}

async function claimsPerSecond(server, masterCount, env = {}) {
  const url = await server.createDatabase(`claims_${masterCount}_${Date.now()}`);
  if (PG_STATEMENTS) await query(url, 'create extension if not exists pg_stat_statements');
  const masters = await startMasters(url, masterCount, [], env);
  await seed(url, 'fast', REQUESTS);
  if (PG_STATEMENTS) await query(url, 'select pg_stat_statements_reset()');
  const seeded = Date.now();
  const sqlBefore = await Promise.all(masters.map((m) => sqlStats(m, seeded)));
  const cpuBefore = masters.map((m) => cpuMs(m.proc.pid));
  const pgBefore = treeCpuMs(process.pid, 'postgres');
  const selfBefore = selfCpuMs();
  const addresses = masters.map((m) => `127.0.0.1:${m.workerPort}`);
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    startFastWorker({
      masters: [...addresses.slice(i % masterCount), ...addresses.slice(0, i % masterCount)],
      name: `f${i + 1}`,
      password: 'pw',
    }),
  );
  await waitFor(
    async () =>
      Number(
        (await query(url, 'select count(*) as n from buildrequests where complete = 0'))[0].n,
      ) === 0,
    {
      timeoutMs: 600_000,
      intervalMs: 200,
    },
  );
  const cpu = masters.reduce((sum, m, i) => sum + cpuMs(m.proc.pid) - cpuBefore[i], 0);
  const pgCpu = treeCpuMs(process.pid, 'postgres') - pgBefore;
  const selfCpu = selfCpuMs() - selfBefore;
  const done = Date.now();
  const sql = perBuild(
    sqlBefore,
    await Promise.all(masters.map((m) => sqlStats(m, done))),
    REQUESTS,
  );
  if (process.env.BENCH_SQL_SHAPES) {
    console.log(`statements per build, ${masterCount} master(s):`);
    for (const [n, shape] of sql.shapes) console.log(`  ${String(n).padStart(6)}  ${shape}`);
  }
  if (PG_STATEMENTS) await printServerTime(url, REQUESTS);
  const [span] = await query(
    url,
    'select min(claimed_at) as first, max(complete_at) as last from buildrequests',
  );
  const [doubles] = await query(
    url,
    `select count(*) as n from (select buildrequestid from builds group by buildrequestid having count(*) > 1) d`,
  );
  const perMaster = await query(
    url,
    'select masterid, count(*) as n from builds group by masterid order by masterid',
  );
  for (const w of workers) w.stop();
  if (process.env.BENCH_SHOW_OUTPUT) console.log(masters[0].proc.output().slice(-3000));
  for (const m of masters) await m.proc.stop();
  const seconds = (Number(span.last) - Number(span.first)) / 1000;
  return {
    masters: masterCount,
    requests: REQUESTS,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(REQUESTS / seconds),
    doubleClaims: Number(doubles.n),
    buildsPerMaster: perMaster.map((r) => Number(r.n)),
    masterCpuMsPerBuild: Number((cpu / REQUESTS).toFixed(2)),
    // Where the machine's CPU went per build: PostgreSQL's server processes, and this
    // process (the 20 simulated workers answering at once, plus the polling above).
    postgresCpuMsPerBuild: Number((pgCpu / REQUESTS).toFixed(2)),
    workersCpuMsPerBuild: Number((selfCpu / REQUESTS).toFixed(2)),
    // On this machine's cores, how many such builds per second the CPU allows at best.
    cpuCeilingPerSecond: Math.round((os.cpus().length * 1000 * REQUESTS) / (cpu + pgCpu + selfCpu)),
    statementsPerBuild: sql.statements,
    transactionsPerBuild: sql.transactions,
  };
}

async function startLatency(server, pending) {
  const url = await server.createDatabase(`latency_${pending}_${Date.now()}`);
  const [m] = await startMasters(url, 1);
  await seed(url, 'backlog', pending);
  const workers = Array.from({ length: 4 }, (_, i) =>
    startFastWorker({ masters: [`127.0.0.1:${m.workerPort}`], name: `f${i + 1}`, password: 'pw' }),
  );
  await waitFor(
    async () =>
      Number((await query(url, 'select count(*) as n from connected_workers'))[0].n) === 4,
    { timeoutMs: 20_000 },
  );
  const fast = await builderId(url, 'fast');
  const base = `http://127.0.0.1:${m.webPort}/api/v2`;
  const samples = [];
  for (let i = 0; i < 42; i++) {
    const sent = performance.now();
    const response = await fetch(`${base}/forceschedulers/force`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'force', id: i, params: { builderid: fast } }),
    });
    const brid = Object.values((await response.json()).result[1])[0];
    for (;;) {
      const { builds } = await (await fetch(`${base}/buildrequests/${brid}/builds`)).json();
      if (builds.length > 0) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    if (i >= 2) samples.push(performance.now() - sent);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const w of workers) w.stop();
  await m.proc.stop();
  return {
    pending,
    p50: Number(pct(samples, 50).toFixed(1)),
    p95: Number(pct(samples, 95).toFixed(1)),
  };
}

async function requeueAfterKill(server) {
  const url = await server.createDatabase(`requeue_${Date.now()}`);
  const masters = await startMasters(url, 2);
  const [m1] = masters;
  const workers = Array.from({ length: 2 }, (_, i) =>
    startFastWorker({ masters: [`127.0.0.1:${m1.workerPort}`], name: `f${i + 1}`, password: 'pw' }),
  );
  await waitFor(
    async () =>
      Number((await query(url, 'select count(*) as n from connected_workers'))[0].n) === 2,
    { timeoutMs: 20_000 },
  );
  const hold = await builderId(url, 'hold');
  await fetch(`http://127.0.0.1:${m1.webPort}/api/v2/forceschedulers/force`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'force', id: 1, params: { builderid: hold } }),
  });
  await waitFor(
    async () => (await query(url, 'select id from builds where complete_at is null')).length === 1,
    { timeoutMs: 20_000 },
  );
  const killed = Date.now();
  m1.proc.kill('SIGKILL');
  await waitFor(
    async () =>
      (
        await query(
          url,
          'select id from buildrequests where claimed_by_masterid is null and complete = 0',
        )
      ).length === 1,
    {
      timeoutMs: 60_000,
      intervalMs: 50,
    },
  );
  const requeuedMs = Date.now() - killed;
  for (const w of workers) w.stop();
  for (const m of masters) await m.proc.stop();
  return { requeuedMs, expiryMs: 15_000 };
}

// BENCH_PG_STATEMENTS=1: PostgreSQL's own time per statement shape (pg_stat_statements,
// planning included) for each claims run: where the server's CPU per build goes.
const PG_STATEMENTS = Boolean(process.env.BENCH_PG_STATEMENTS);
const server = await startPostgres(
  PG_STATEMENTS
    ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on' }
    : {},
);
const results = {
  loadBefore: os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' '),
};
// --only claims1,claims3,claims3pool3,latency,requeue,ceiling runs those parts (and never writes RESULTS.md).
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const wanted = (part) => only === null || only.includes(part);
try {
  if (wanted('ceiling')) {
    // PostgreSQL alone, no master (bench/multi-master/pg-ceiling.mjs), the best of 1, 4, 10
    // and 20 connections.
    try {
      const out = execFileSync(
        process.execPath,
        [
          path.join(ROOT, 'bench/multi-master/pg-ceiling.mjs'),
          '--seconds',
          '5',
          '--clients',
          '1,4,10,20',
        ],
        { encoding: 'utf8' },
      );
      results.ceiling = JSON.parse(out.slice(out.indexOf('{')));
      console.log('PostgreSQL alone:', results.ceiling);
    } catch (error) {
      console.error('the PostgreSQL-alone ceiling failed:', error);
      results.ceiling = {
        selectsPerSecond: '–',
        rawClaimsPerSecond: '–',
        minimalBuildsPerSecond: '–',
        statementsPerMinimalBuild: 8.1,
      };
    }
  }
  if (wanted('claims1')) {
    results.claims1 = await claimsPerSecond(server, 1);
    console.log('claims, 1 master:', results.claims1);
  }
  if (wanted('claims3')) {
    results.claims3 = await claimsPerSecond(server, 3);
    console.log('claims, 3 masters:', results.claims3);
  }
  if (wanted('claims3pool3')) {
    // The same with 3 connections per master instead of 10: fewer server processes
    // competing for the two cores (docs/several-masters.md).
    results.claims3pool3 = await claimsPerSecond(server, 3, { YARDMASTER_DB_POOL_SIZE: '3' });
    console.log('claims, 3 masters, 3 connections each:', results.claims3pool3);
  }
  if (wanted('latency')) {
    results.latency10 = await startLatency(server, 10);
    console.log('force → start, 10 pending:', results.latency10);
    results.latency10k = await startLatency(server, 10_000);
    console.log('force → start, 10,000 pending:', results.latency10k);
  }
  if (wanted('requeue')) {
    results.requeue = await requeueAfterKill(server);
    console.log('SIGKILL → re-queued:', results.requeue);
  }
} finally {
  await server.stop();
  await stopAllProcesses();
  await cleanupAll();
}

if (args.includes('--write') && only === null) {
  const cpu =
    fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
  const section = `<!-- multi-master:start -->
## Several masters on PostgreSQL (\`node bench/multi-master/bench.mjs --write\`)

Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB;
PostgreSQL 15 from Debian (fsync off, as in the tests), ${WORKERS} simulated fast workers (bench/multi-master/fast-worker.mjs:
the real protocol, every command answered at once, so the figures are the masters' own).
Buildbot has no equivalent setup without a crossbar router, so there is no Buildbot column here.

Load average (1, 5, 15 min) ${results.loadBefore} at the start, ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')} at the end: the machine is shared.

| figure | value | target |
| --- | --- | --- |
| build requests claimed and run per second, 1 master | ${results.claims1.perSecond}/s (${results.claims1.requests} in ${results.claims1.seconds} s, ${results.claims1.masterCpuMsPerBuild} ms master CPU per build) | |
| build requests claimed and run per second, 3 masters | ${results.claims3.perSecond}/s (builds per master ${results.claims3.buildsPerMaster.join(' / ')}, ${results.claims3.masterCpuMsPerBuild} ms CPU per build) | ≥ 1,000/s |
| the same, 3 masters with 3 database connections each (\`YARDMASTER_DB_POOL_SIZE=3\`, default 10) | ${results.claims3pool3.perSecond}/s (${results.claims3pool3.masterCpuMsPerBuild} ms CPU per build, ${results.claims3pool3.doubleClaims} double claims) | |
| CPU per build, 1 master: master / PostgreSQL / simulated workers (ceiling on ${os.cpus().length} cores) | ${results.claims1.masterCpuMsPerBuild} / ${results.claims1.postgresCpuMsPerBuild} / ${results.claims1.workersCpuMsPerBuild} ms (${results.claims1.cpuCeilingPerSecond}/s) | |
| CPU per build, 3 masters: masters / PostgreSQL / simulated workers (ceiling on ${os.cpus().length} cores) | ${results.claims3.masterCpuMsPerBuild} / ${results.claims3.postgresCpuMsPerBuild} / ${results.claims3.workersCpuMsPerBuild} ms (${results.claims3.cpuCeilingPerSecond}/s) | 2 ms in all for 1,000/s on 2 cores |
| SQL statements (transactions) per build, 1 / 3 masters | ${results.claims1.statementsPerBuild} (${results.claims1.transactionsPerBuild}) / ${results.claims3.statementsPerBuild} (${results.claims3.transactionsPerBuild}) | |
| double claims (requests with more than one build) | ${results.claims1.doubleClaims} and ${results.claims3.doubleClaims} | 0 |
| force → build start, 10 pending: p50 / p95 | ${results.latency10.p50} / ${results.latency10.p95} ms | |
| force → build start, 10,000 pending: p50 / p95 | ${results.latency10k.p50} / ${results.latency10k.p95} ms | p95 ≤ 2 × the 10-pending p95 |
| SIGKILL of a master → its build's request back in the queue | ${(results.requeue.requeuedMs / 1000).toFixed(1)} s (expiry ${results.requeue.expiryMs / 1000} s) | < 20 s |
| PostgreSQL alone (best of 1, 4, 10, 20 connections): \`select 1\` round trips per second | ${results.ceiling.selectsPerSecond}/s | |
| PostgreSQL alone: raw claims per second (the batch claim statement, 10 requests each, no build) | ${results.ceiling.rawClaimsPerSecond}/s | |
| PostgreSQL alone: minimal noop builds per second (${results.ceiling.statementsPerMinimalBuild} statements each, no master) | ${results.ceiling.minimalBuildsPerSecond}/s | |

"Claimed and run" is the headline: requests claimed **and** built (build row, steps, log,
request and buildset completed, events) per second, from the first claim to the last
completion. "Raw claims" counts only the claim statement, \`UPDATE … WHERE id = any(array(head of
the queue, FOR UPDATE SKIP LOCKED)) RETURNING\`, run in a loop against PostgreSQL with
nothing else: what claiming alone costs. The last row is the ceiling for a whole build on
this machine, measured without any master: the writes a noop build needs at the least, one
round trip each (bench/multi-master/pg-ceiling.mjs). Statements per build come from the
masters' own count (\`YARDMASTER_SQL_STATS\`); \`BENCH_SQL_SHAPES=1\` lists them. CPU per build is
read from \`/proc\` for the masters, PostgreSQL's server processes and this benchmark's process
(the simulated workers); the ceiling is what that CPU allows on this machine's cores;
\`BENCH_PG_STATEMENTS=1\` shows PostgreSQL's own time per statement shape.
<!-- multi-master:end -->`;
  const file = path.join(ROOT, 'bench/RESULTS.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
  const next = /<!-- multi-master:start -->[\s\S]*<!-- multi-master:end -->/.test(text)
    ? text.replace(/<!-- multi-master:start -->[\s\S]*<!-- multi-master:end -->/, section)
    : `${text.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, next);
  console.log(`wrote the "Several masters" section of ${path.relative(process.cwd(), file)}`);
}
