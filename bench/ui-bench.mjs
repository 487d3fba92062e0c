#!/usr/bin/env node
// Web UI benchmark (not a test): how fast the UI draws a big CI, and what it asks the API.
//
//   npm run build && node bench/ui-bench.mjs [--runs 5] [--no-write] [--verbose] [--serve]
//
// 1. Starts a master once on a fresh basedir (migrates the SQLite database, registers 50
//    builders and their workers), stops it, and seeds the database directly with SQL:
//    10,000 finished builds across the 50 builders over the last 7 days (each with its
//    buildset, source stamp, request, properties, 3 steps and their logs), 12 pending
//    requests, and one build whose step has a 20 MB log.
// 2. Starts the master again with a real worker, and forces 3 builds that keep running.
// 3. Loads each page in a fresh Chromium context (empty cache), `--runs` times, and records
//    the time to first render (navigation start → the page's `yardmaster:ready` mark, set
//    once its data is drawn), the API requests (count, bytes, rounds) made until the page is
//    drawn and its follow-up reads have settled, and long main-thread tasks. Rounds are
//    timed in the page (fetch() and its answer), not on the network: see rounds().
// 4. For the 20 MB log: time to the first lines, to the last line after "Jump to end", and to
//    lines in the middle after a jump there.
// 5. Writes the "Web UI" section of bench/RESULTS.md (other sections are left alone).
//
// Needs Debian's Chromium at /usr/bin/chromium (YARDMASTER_CHROMIUM overrides) and the built
// packages. Uses loopback ports the OS picks; stops everything it started.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MASTER_BIN = path.join(ROOT, 'packages/master/bin/yardmaster.js');
const WORKER_BIN = path.join(ROOT, 'packages/worker/bin/yardmaster-worker.js');
const RESULTS = path.join(ROOT, 'bench/RESULTS.md');
const CHROMIUM = process.env.YARDMASTER_CHROMIUM ?? '/usr/bin/chromium';

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] || 5) || 5;
const WRITE = !args.includes('--no-write');
const VERBOSE = args.includes('--verbose');
/** Seed and start, then keep serving until Ctrl-C (to look at the seeded UI by hand). */
const SERVE = args.includes('--serve');

const BUILDERS = 50;
const BUILDS = 10_000;
const PENDING = 12;
const RUNNING = 3;
const BIG_LOG_BYTES = 20 * 1024 * 1024;
const DAY_MS = 86_400_000;

function log(message) {
  console.log(`[ui-bench] ${message}`);
}

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** Runs a process; resolves once its output matches `ready`. */
async function start(name, argv, env, ready) {
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const seen = new Promise((resolve, reject) => {
    const onData = (data) => {
      output += data.toString();
      if (ready.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) =>
      reject(new Error(`${name} exited with ${code}:\n${output.slice(-2000)}`)),
    );
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await seen;
  clearTimeout(timer);
  child.removeAllListeners('exit');
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await once(child, 'exit');
      clearTimeout(kill);
    },
  };
}

function config() {
  const names = Array.from({ length: BUILDERS }, (_, i) => `builder-${String(i).padStart(2, '0')}`);
  const groups = ['linux', 'macos', 'windows', 'docs', 'release'];
  return `
import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';

export default defineConfig({
  title: 'ui bench',
  workers: [
    worker('bench-1', { password: 'pw', maxBuilds: ${RUNNING} }),
    worker('offline-1', { password: 'pw' }),
    worker('offline-2', { password: 'pw' }),
  ],
  builders: [
    builder({
      name: 'live',
      description: 'Builds that keep running during the benchmark',
      workerNames: ['bench-1'],
      collapseRequests: false,
      factory: buildFactory([shellCommand({ name: 'work', command: 'echo working; sleep 600' })]),
    }),
${names
  .map(
    (name, i) => `    builder({
      name: '${name}',
      description: 'Seeded builder ${i}',
      workerNames: ['offline-1', 'offline-2'],
      tags: ['${groups[i % groups.length]}', 'tier-${i % 3}'],
      factory: buildFactory([shellCommand({ name: 'test', command: 'true' })]),
    }),`,
  )
  .join('\n')}
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['live', ${names.map((n) => `'${n}'`).join(', ')}] })],
});
`;
}

/** Deterministic pseudo-random numbers, so every run seeds the same CI. */
function random(seed) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

function pickResult(r) {
  const v = r();
  if (v < 0.82) return 0; // success
  if (v < 0.87) return 1; // warnings
  if (v < 0.94) return 2; // failure
  if (v < 0.96) return 3; // skipped
  if (v < 0.975) return 4; // exception
  if (v < 0.99) return 5; // retry
  return 6; // cancelled
}

const STATE = [
  'build successful',
  'build with warnings',
  'failed test',
  'skipped',
  'exception',
  'retry',
  'cancelled',
];

/** Seeds the database: returns where the 20 MB log is. */
function seed(dbFile) {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const builders = db
    .prepare("select id, name from builders where name like 'builder-%' order by name")
    .all();
  const workers = db.prepare("select id from workers where name like 'offline-%'").all();
  const masterid = db.prepare('select id from masters order by id limit 1').get().id;
  const r = random(42);
  const now = Date.now();
  const insert = {
    ss: db.prepare(
      'insert into sourcestamps (branch, revision, repository, project, codebase, created_at) values (?, ?, ?, ?, ?, ?)',
    ),
    bs: db.prepare(
      'insert into buildsets (reason, submitted_at, complete, complete_at, results) values (?, ?, ?, ?, ?)',
    ),
    bss: db.prepare('insert into buildset_sourcestamps (buildsetid, sourcestampid) values (?, ?)'),
    bsp: db.prepare(
      'insert into buildset_properties (buildsetid, property_name, property_value) values (?, ?, ?)',
    ),
    br: db.prepare(
      'insert into buildrequests (buildsetid, builderid, priority, complete, results, submitted_at, complete_at, waited_for, claimed_by_masterid, claimed_at) values (?, ?, 0, ?, ?, ?, ?, 0, ?, ?)',
    ),
    build: db.prepare(
      'insert into builds (number, builderid, buildrequestid, workerid, masterid, started_at, complete_at, state_string, results) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    prop: db.prepare(
      'insert into build_properties (buildid, name, value, source) values (?, ?, ?, ?)',
    ),
    step: db.prepare(
      'insert into steps (number, name, buildid, started_at, complete_at, state_string, results, urls, hidden) values (?, ?, ?, ?, ?, ?, ?, ?, 0)',
    ),
    log: db.prepare(
      'insert into logs (name, slug, stepid, complete, num_lines, type) values (?, ?, ?, 1, ?, ?)',
    ),
    chunk: db.prepare(
      'insert into logchunks (logid, first_line, last_line, content, compressed) values (?, ?, ?, ?, ?)',
    ),
  };
  const numbers = new Map();
  let bigLog = null;
  db.transaction(() => {
    for (let i = 0; i < BUILDS; i++) {
      const builder = builders[Math.floor(r() * builders.length)];
      const started = now - Math.floor((1 - i / BUILDS) * 7 * DAY_MS) - 600_000;
      const took = 20_000 + Math.floor(r() * 600_000);
      const done = started + took;
      const results = pickResult(r);
      const branch = r() < 0.7 ? 'main' : `feature-${Math.floor(r() * 20)}`;
      const revision =
        Math.floor(r() * 2 ** 52)
          .toString(16)
          .padStart(13, '0') + 'abcdef1234567890abcdef1';
      const ssid = insert.ss.run(
        branch,
        revision,
        'https://example.invalid/app.git',
        'app',
        '',
        started,
      ).lastInsertRowid;
      const bsid = insert.bs.run(
        `A build was forced by 'bench': run ${i}`,
        started,
        1,
        done,
        results,
      ).lastInsertRowid;
      insert.bss.run(bsid, ssid);
      insert.bsp.run(bsid, 'reason', JSON.stringify([`run ${i}`, 'Force Build Form']));
      const brid = insert.br.run(
        bsid,
        builder.id,
        1,
        results,
        started,
        done,
        masterid,
        started,
      ).lastInsertRowid;
      const number = (numbers.get(builder.id) ?? 0) + 1;
      numbers.set(builder.id, number);
      const worker = workers[i % workers.length].id;
      const buildid = insert.build.run(
        number,
        builder.id,
        brid,
        worker,
        masterid,
        started,
        done,
        STATE[results],
        results,
      ).lastInsertRowid;
      for (const [name, value, source] of [
        ['buildername', builder.name, 'Builder'],
        ['buildnumber', number, 'Build'],
        ['branch', branch, 'Build'],
        ['revision', revision, 'Build'],
        ['workername', `offline-${(i % 2) + 1}`, 'Worker'],
        ['reason', `run ${i}`, 'Force Build Form'],
      ]) {
        insert.prop.run(buildid, name, JSON.stringify(value), source);
      }
      const stepNames = ['worker_preparation', 'checkout', 'test'];
      for (let s = 0; s < stepNames.length; s++) {
        const stepResult = s === 2 ? results : 0;
        const stepid = insert.step.run(
          s,
          stepNames[s],
          buildid,
          started + s * 1000,
          done - (2 - s) * 500,
          s === 0 ? 'worker ready' : `'${stepNames[s]}'`,
          stepResult,
          '[]',
        ).lastInsertRowid;
        if (s === 0) continue;
        const big = i === BUILDS - 1 && s === 2;
        if (big) {
          bigLog = seedBigLog(insert, stepid);
          bigLog.builderid = builder.id;
          bigLog.number = number;
          bigLog.buildid = buildid;
          continue;
        }
        const text = `hrunning ${stepNames[s]}\n${Array.from({ length: 20 }, (_, k) => `oline ${k} of ${stepNames[s]}\n`).join('')}hprogram finished with exit code ${stepResult === 0 ? 0 : 1}\n`;
        const logid = insert.log.run('stdio', 'stdio', stepid, 22, 's').lastInsertRowid;
        insert.chunk.run(logid, 0, 21, gzipSync(Buffer.from(text), { level: 1 }), 1);
      }
    }
    // Pending requests, waiting for the offline workers.
    for (let i = 0; i < PENDING; i++) {
      const builder = builders[i % 4];
      const submitted = now - (i + 1) * 95_000;
      const ssid = insert.ss.run(
        'main',
        null,
        'https://example.invalid/app.git',
        'app',
        '',
        submitted,
      ).lastInsertRowid;
      const bsid = insert.bs.run(
        `A build was forced by 'bench': waiting ${i}`,
        submitted,
        0,
        null,
        null,
      ).lastInsertRowid;
      insert.bss.run(bsid, ssid);
      insert.br.run(bsid, builder.id, 0, null, submitted, null, null, null);
    }
  })();
  db.close();
  return bigLog;
}

/** 20 MB of 80-byte lines, some coloured, some on stderr, in gzip'd chunks of 2,000 lines. */
function seedBigLog(insert, stepid) {
  const lines = Math.ceil(BIG_LOG_BYTES / 80);
  const logid = insert.log.run('stdio', 'stdio', stepid, lines, 's').lastInsertRowid;
  const per = 2000;
  for (let first = 0; first < lines; first += per) {
    const last = Math.min(lines, first + per) - 1;
    let text = '';
    for (let n = first; n <= last; n++) {
      const body =
        n % 50 === 0
          ? `\x1b[1;32mPASS\x1b[0m test_${n} (${n % 997} ms)`
          : n % 97 === 0
            ? `\x1b[31mwarning:\x1b[0m something odd at line ${n}`
            : `compiling module_${n} with flags -O2 -Wall -Wextra`;
      const prefix = n % 97 === 0 ? 'e' : 'o';
      text += `${prefix}${body.padEnd(78, '.')}\n`;
    }
    insert.chunk.run(logid, first, last, gzipSync(Buffer.from(text), { level: 1 }), 1);
  }
  return { logid, lines };
}

async function rpc(base, pathname, method, params) {
  const response = await fetch(`${base}/api/v2${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function getJson(base, pathname) {
  const response = await fetch(`${base}/api/v2${pathname}`);
  return response.json();
}

async function waitUntil(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
];

// Runs in the page before its scripts: records long main-thread tasks, and when the page's
// script called fetch() for an API read and when that call's answer reached the script.
const OBSERVE_LONG_TASKS = `
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
  }).observe({ type: 'longtask', buffered: true });
  window.__apiCalls = [];
  const pageFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    const answer = pageFetch(input, init);
    if (url.pathname.startsWith('/api/')) {
      const call = { url: url.pathname + url.search, called: performance.now(), answered: Infinity };
      window.__apiCalls.push(call);
      const done = () => { call.answered = performance.now(); };
      answer.then(done, done);
    }
    return answer;
  };
`;

/**
 * Groups API calls into rounds: a call made after the script got an answer of the current
 * round may have used it, so it opens the next round. Calls made before any answer reached
 * the script (those of one render go out in one task, before any answer can) cannot depend
 * on each other. Timed in the page at fetch() and at its answer's headers (before the body
 * is read: a round may be counted where there is none, never missed). Network timings
 * (Resource Timing's start) would not do: the browser may start a request a few
 * milliseconds after fetch(), after a fast answer to its sibling arrived.
 */
function rounds(calls) {
  const sorted = [...calls].sort((x, y) => x.called - y.called);
  let count = 0;
  let firstAnswer = -Infinity;
  for (const c of sorted) {
    if (count === 0 || c.called >= firstAnswer) {
      count++;
      firstAnswer = c.answered;
    } else firstAnswer = Math.min(firstAnswer, c.answered);
  }
  return count;
}

// In the page: the timings and the API requests (Resource Timing: same-origin, so with sizes).
const PAGE_FIGURES = `(() => {
  const mark = performance.getEntriesByName('yardmaster:ready')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const api = performance
    .getEntriesByType('resource')
    .filter((e) => new URL(e.name).pathname.startsWith('/api/'))
    .map((e) => ({
      url: new URL(e.name).pathname + new URL(e.name).search,
      start: e.startTime,
      end: e.responseEnd,
      bytes: e.encodedBodySize,
    }));
  return {
    ready: mark ? mark.startTime : null,
    firstPaint: paint ? paint.startTime : null,
    longTasks: window.__longTasks,
    nodes: document.getElementsByTagName('*').length,
    api,
    calls: window.__apiCalls.map((c) => ({ ...c })),
  };
})()`;

async function measurePage(browser, base, pathname, ready) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript(OBSERVE_LONG_TASKS);
  const page = await context.newPage();
  await page.goto(`${base}${pathname}`);
  await page.waitForSelector(`#root[data-ready="${ready}"]`, { timeout: 30_000 });
  // Follow-up reads (a running build's current step, its log) and late answers settle.
  await page.waitForTimeout(1500);
  const figures = await page.evaluate(PAGE_FIGURES);
  await context.close();
  // Only what the page view itself asked for: requests started before it was drawn, and
  // the reads that drawing started (not live refreshes much later).
  const requests = figures.api.filter((r) => r.start <= (figures.ready ?? Infinity) + 500);
  const calls = figures.calls.filter((c) => c.called <= (figures.ready ?? Infinity) + 500);
  return {
    ready: figures.ready,
    firstPaint: figures.firstPaint,
    longTasks: figures.longTasks,
    nodes: figures.nodes,
    requests: requests.length,
    bytes: requests.reduce((sum, r) => sum + r.bytes, 0),
    rounds: rounds(calls),
    paths: requests.map((r) => r.url).sort(),
  };
}

async function measureBigLog(browser, base, big) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript(OBSERVE_LONG_TASKS);
  const page = await context.newPage();
  let requests = 0;
  let bytes = 0;
  page.on('requestfinished', async (request) => {
    if (!new URL(request.url()).pathname.startsWith('/api/')) return;
    requests++;
    bytes += (await request.sizes().catch(() => ({ responseBodySize: 0 }))).responseBodySize;
  });
  const t0 = performance.now();
  await page.goto(`${base}/builders/${big.builderid}/builds/${big.number}/steps/2/logs/stdio`);
  await page.waitForSelector('.log-line.log-stdout', { timeout: 30_000 });
  const firstLines = performance.now() - t0;
  const t1 = performance.now();
  await page.getByTestId('log-jump-end').click();
  await page.waitForSelector(
    `.log-line[data-line="${big.lines}"].log-stdout, .log-line[data-line="${big.lines}"].log-stderr`,
    {
      timeout: 30_000,
    },
  );
  const toEnd = performance.now() - t1;
  const middle = Math.floor(big.lines / 2);
  const t2 = performance.now();
  await page.evaluate(`(() => {
    const el = document.querySelector('.log-scroll');
    el.scrollTop = ${middle} * 18;
  })()`);
  await page.waitForSelector(`.log-line[data-line="${middle + 5}"]:not(.log-pending)`, {
    timeout: 30_000,
  });
  const toMiddle = performance.now() - t2;
  if (VERBOSE) {
    const api = await page.evaluate(
      `performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/')).map((e) => [Math.round(e.startTime), Math.round(e.responseEnd), e.name.replace(/^.*\\/api\\/v2/, '')])`,
    );
    log(`log page requests (start, end, path): ${JSON.stringify(api)}`);
  }
  const after = await page.evaluate(`({
    longTasks: window.__longTasks,
    rows: document.querySelectorAll('.log-line').length,
    heap: performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1048576) : null,
  })`);
  await context.close();
  return { firstLines, toEnd, toMiddle, requests, bytes, ...after };
}

function median(values) {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function ms(value) {
  return value === null ? '—' : `${Math.round(value)} ms`;
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** Replaces our part of RESULTS.md (between our markers), or adds it at the end; the rest is left alone. */
function writeSection(markdown) {
  const START = '<!-- ui-bench:start -->';
  const END = '<!-- ui-bench:end -->';
  const block = `${START}\n${markdown.trim()}\n${END}`;
  const existing = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
  const from = existing.indexOf(START);
  const to = existing.indexOf(END);
  const next =
    from !== -1 && to > from
      ? existing.slice(0, from) + block + existing.slice(to + END.length)
      : `${existing.replace(/\s*$/, '')}\n\n${block}\n`;
  writeFileSync(RESULTS, next);
}

async function main() {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'ym-ui-bench-'));
  const basedir = path.join(scratch, 'master');
  const configFile = path.join(scratch, 'master.config.ts');
  writeFileSync(configFile, config());
  const webPort = await freePort();
  const workerPort = await freePort();
  const base = `http://127.0.0.1:${webPort}`;
  const masterArgs = [
    MASTER_BIN,
    'start',
    '--config',
    configFile,
    '--basedir',
    basedir,
    '--web-port',
    String(webPort),
    '--worker-port',
    String(workerPort),
  ];
  const stopping = [];
  const loadAtStart = os.loadavg()[0];
  try {
    log(`scratch ${scratch}`);
    let master = await start('master', masterArgs, {}, /master .* started/);
    await master.stop();
    const seedStart = performance.now();
    const big = seed(path.join(basedir, 'state.sqlite'));
    log(
      `seeded ${BUILDS} builds across ${BUILDERS} builders in ${Math.round(performance.now() - seedStart)} ms`,
    );
    master = await start('master', masterArgs, {}, /master .* started/);
    stopping.push(master);
    const worker = await start(
      'worker',
      [
        WORKER_BIN,
        '--master',
        `127.0.0.1:${workerPort}`,
        '--name',
        'bench-1',
        '--basedir',
        path.join(scratch, 'worker'),
      ],
      { YARDMASTER_WORKER_PASSWORD: 'pw' },
      /attached/,
    );
    stopping.unshift(worker);
    for (let i = 0; i < RUNNING; i++)
      await rpc(base, '/forceschedulers/force', 'force', { builderNames: ['live'] });
    await waitUntil(
      'the running builds',
      async () => (await getJson(base, '/builds?complete=false&limit=0')).meta.total >= RUNNING,
    );

    if (SERVE) {
      log(
        `serving the seeded CI at ${base}/ (20 MB log: build ${big.builderid}/${big.number}); Ctrl-C stops`,
      );
      await new Promise((resolve) => process.once('SIGINT', resolve));
      return;
    }
    const liveBuilder = (await getJson(base, '/builders/live')).builders[0].builderid;
    const pages = [
      ['Home', '/', 'home'],
      ['Builders', '/builders', 'builders'],
      ['Builder (page 1 of its builds)', `/builders/${big.builderid}`, 'builder'],
      [
        'Build (finished, steps and properties)',
        `/builders/${big.builderid}/builds/${big.number - 1}`,
        'build',
      ],
      ['Build (running, log following)', `/builders/${liveBuilder}/builds/1`, 'build'],
      ['Workers', '/workers', 'workers'],
      ['Grid', '/grid', 'grid'],
    ];
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: BROWSER_ARGS,
    });
    const results = [];
    try {
      // One warm-up load (the OS file cache, the master's prepared statements).
      await measurePage(browser, base, '/', 'home');
      for (const [name, pathname, ready] of pages) {
        const runs = [];
        for (let i = 0; i < RUNS; i++) runs.push(await measurePage(browser, base, pathname, ready));
        const row = {
          name,
          pathname,
          ready: median(runs.map((r) => r.ready)),
          firstPaint: median(runs.map((r) => r.firstPaint)),
          requests: median(runs.map((r) => r.requests)),
          bytes: median(runs.map((r) => r.bytes)),
          rounds: median(runs.map((r) => r.rounds)),
          longest: Math.max(0, ...runs.flatMap((r) => r.longTasks)),
          nodes: median(runs.map((r) => r.nodes)),
          paths: runs[0].paths,
        };
        results.push(row);
        log(
          `${name}: ready ${ms(row.ready)}, ${row.requests} requests in ${row.rounds} round(s), ${kb(row.bytes)}`,
        );
      }
      const logRuns = [];
      for (let i = 0; i < Math.min(RUNS, 3); i++)
        logRuns.push(await measureBigLog(browser, base, big));
      const bigLog = {
        firstLines: median(logRuns.map((r) => r.firstLines)),
        toEnd: median(logRuns.map((r) => r.toEnd)),
        toMiddle: median(logRuns.map((r) => r.toMiddle)),
        requests: median(logRuns.map((r) => r.requests)),
        bytes: median(logRuns.map((r) => r.bytes)),
        longest: Math.max(0, ...logRuns.flatMap((r) => r.longTasks)),
        rows: median(logRuns.map((r) => r.rows)),
        heap: median(logRuns.map((r) => r.heap)),
      };
      log(
        `20 MB log: first lines ${ms(bigLog.firstLines)}, end ${ms(bigLog.toEnd)}, middle ${ms(bigLog.toMiddle)}`,
      );

      const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
      const lines = [
        '## Web UI',
        '',
        `Generated by \`node bench/ui-bench.mjs\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} × ${cpu},`,
        `Node ${process.version}, Chromium ${browser.version()} (headless), master on SQLite, loopback;`,
        `load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end (the machine's 2 cores are shared with other work).`,
        `Seeded: ${BUILDS.toLocaleString('en')} finished builds across ${BUILDERS} builders over 7 days (3 steps, a log per`,
        `step, 6 properties each), ${PENDING} pending requests, ${RUNNING} builds running on a real worker, one 20 MB log`,
        `(${big.lines.toLocaleString('en')} lines). Each page loaded ${RUNS} times in a fresh browser context (empty cache); medians.`,
        '',
        '"First render" is navigation start → the page drawn with its data (the UI\'s `yardmaster:ready`',
        "mark). Requests are the page's `/api/v2` reads until it is drawn and its follow-up reads settle;",
        'a round is a set of requests that go out together (a later round waits for an earlier answer):',
        'timed in the page, a read the script makes after an answer reached it opens the next round.',
        'The target: one round per page view, no request per row, first render under 1 s.',
        '',
        '| page | first render | first paint | API requests | rounds | bytes | longest task | DOM nodes |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...results.map(
          (r) =>
            `| ${r.name} | ${ms(r.ready)} | ${ms(r.firstPaint)} | ${r.requests} | ${r.rounds} | ${kb(r.bytes)} | ${ms(r.longest)} | ${r.nodes} |`,
        ),
        '',
        `20 MB log (full-screen log page, ${big.lines.toLocaleString('en')} lines; medians of ${logRuns.length} loads):`,
        '',
        '| first lines drawn | "Jump to end" → last line | jump to the middle → lines | API requests | bytes | longest task | rows in the DOM | JS heap |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        `| ${ms(bigLog.firstLines)} | ${ms(bigLog.toEnd)} | ${ms(bigLog.toMiddle)} | ${bigLog.requests} | ${kb(bigLog.bytes)} | ${ms(bigLog.longest)} | ${bigLog.rows} | ${bigLog.heap ?? '—'} MB |`,
        '',
        'Every read of a page goes out in the first round, from what its URL says (decision 0011):',
        "Home reads every running build's current step at once (`/steps?complete=false`), a build page",
        'reads its steps, logs, buildset, changes and properties by its own path. The one later round,',
        "by design: the log view's lines (`/logs/<id>/contents`), which depend on the log's length (a",
        'running log is read from its end) and on where the view is; on a finished build no step opens',
        'by itself unless one failed. Home beyond 3,000 builds a day would add one count per result.',
        '',
        'Requests per page (first load):',
        '',
        ...results.flatMap((r) => [`- ${r.name}: ${r.paths.map((p) => `\`${p}\``).join(', ')}`]),
        '',
      ];
      const markdown = lines.join('\n');
      console.log(`\n${markdown}`);
      if (WRITE) {
        writeSection(markdown);
        log(`wrote the "Web UI" section of ${path.relative(ROOT, RESULTS)}`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    for (const p of stopping) await p.stop().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
