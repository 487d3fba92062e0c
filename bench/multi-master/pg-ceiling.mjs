#!/usr/bin/env node
// What PostgreSQL itself sustains on this machine for the writes a build needs, with no
// master in the way: the ceiling the multi-master figures should be read against.
//   node bench/multi-master/pg-ceiling.mjs [--seconds 10] [--clients 1,4,10] [--named]
// Run after `npx tsc -b packages/master` (it uses the master's migrations for the schema).
// Phases, each for --seconds with each --clients count of connections in parallel (the
// best of them is reported: on a shared 2-core machine more connections is not always
// faster):
//   select1   `select 1`: the bare round trip (client + server + loopback)
//   claim     the batch claim alone (UPDATE … = any(array(SELECT … FOR UPDATE SKIP LOCKED)) RETURNING,
//             10 requests per statement): raw claims per second
//   build     the minimal statements of one noop build, one round trip each (claim share,
//             build row, properties, step rows, log, request + buildset, events + NOTIFY)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import pg from 'pg';
import { cleanupAll, startPostgres, stopAllProcesses } from '@yardmaster/testkit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { openDatabase } = await import(path.join(ROOT, 'packages/master/dist/db/connect.js'));
const args = process.argv.slice(2);
const opt = (name, fallback) =>
  args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback;
const SECONDS = opt('--seconds', 10);
const CLIENT_COUNTS = (args.includes('--clients') ? args[args.indexOf('--clients') + 1] : '1,4,10')
  .split(',')
  .map(Number);
let CLIENTS = 1;
const CLAIM_BATCH = 10;
// --named: every statement as a named prepared statement (parsed and planned once per
// connection), to see what the server's parse and plan cost.
const NAMED = args.includes('--named');

/** `client.query`, named by its text with --named. */
function q(client, text, values) {
  if (!NAMED) return client.query(text, values);
  let name = names.get(text);
  if (!name) names.set(text, (name = `s${names.size}`));
  return client.query({ name, text, values });
}
const names = new Map();

// As BuildsetsData.claimNext on PostgreSQL: the head read once as an `array(…)` init plan,
// locked FOR UPDATE SKIP LOCKED, the update by primary key only (decision 0020).
const CLAIM = `update buildrequests set claimed_by_masterid = $1, claimed_at = $2
  where id = any(array(select id from buildrequests where builderid = $3
    and complete = 0 and claimed_by_masterid is null order by priority desc, submitted_at, id
    limit $4 for update skip locked))
  returning *`;

async function seed(pool, count) {
  await pool.query(
    `with bs as (insert into buildsets (reason, submitted_at, complete)
       select 'ceiling', 0, 0 from generate_series(1, $1) returning id)
     insert into buildrequests (buildsetid, builderid, priority, complete, submitted_at, waited_for)
     select id, 1, 0, 0, 0, 0 from bs`,
    [count],
  );
}

/** Runs `body(client)` in a loop on CLIENTS connections for SECONDS; returns loops per second. */
async function loop(pool, body) {
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < until) done += await body(client);
      } finally {
        client.release();
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

let buildNumber = 0;
async function minimalBuild(client, claimed) {
  const now = Date.now();
  const br = claimed.pop();
  const b = (
    await q(
      client,
      `insert into builds (number, builderid, buildrequestid, workerid, masterid, started_at, state_string)
       values ($1, 1, $2, 1, 1, $3, 'building') returning *`,
      [++buildNumber, br.id, now],
    )
  ).rows[0];
  const names = Array.from({ length: 10 }, (_, i) => `p${i}`);
  await q(
    client,
    `insert into build_properties (buildid, name, value, source)
     select $1, n, '"v"', 'Build' from unnest($2::text[]) as n`,
    [b.id, names],
  );
  const s0 = (
    await q(
      client,
      `insert into steps (number, name, buildid, started_at, state_string, urls, hidden)
       values (0, 'worker_preparation', $1, $2, 'preparing', '[]', 0) returning *`,
      [b.id, now],
    )
  ).rows[0];
  const s1 = (
    await q(
      client,
      `with f as (update steps set complete_at = $2, results = 0, state_string = 'ready' where id = $1 returning *)
       insert into steps (number, name, buildid, started_at, state_string, urls, hidden)
       values (1, 'shell', $3, $2, 'running', '[]', 0) returning *`,
      [s0.id, now, b.id],
    )
  ).rows[0];
  const log = (
    await q(
      client,
      `insert into logs (name, slug, stepid, complete, num_lines, type) values ('stdio', 'stdio', $1, 0, 0, 's') returning *`,
      [s1.id],
    )
  ).rows[0];
  await q(
    client,
    `with c as (insert into logchunks (logid, first_line, last_line, content, compressed) values ($1, 0, 1, $2, 0)),
       l as (update logs set num_lines = 2, complete = 1 where id = $1 returning *)
     update steps set complete_at = $3, results = 0, state_string = 'done' where id = $4 returning *`,
    [log.id, Buffer.from('hcmd\nhrc 0\n'), now, s1.id],
  );
  await q(
    client,
    `with b as (update builds set complete_at = $2, results = 0, state_string = 'done' where id = $1 returning *),
       r as (update buildrequests set complete = 1, results = 0, complete_at = $2 where id = $3 returning *)
     update buildsets set complete = 1, complete_at = $2, results = 0 where id = $4 returning *`,
    [b.id, now, br.id, br.buildsetid],
  );
  await q(
    client,
    `with e as (insert into mq_events (origin, event_key, message, created_at)
       select 1, k, '{}', $1 from unnest($2::text[]) as k)
     select pg_notify('ceiling', '')`,
    [now, Array.from({ length: 12 }, (_, i) => `builds/${b.id}/e${i}`)],
  );
  return 1;
}

const server = await startPostgres();
try {
  const url = await server.createDatabase(`ceiling_${Date.now()}`);
  const handle = await openDatabase(url, os.tmpdir());
  await handle.close();
  // A server stopping under a connection must not crash the script (errors of idle or
  // checked-out clients have nowhere else to go).
  const admin = new pg.Client({ connectionString: url });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query(`insert into masters (name, active, last_active) values ('m', 1, 0)`);
  await admin.query(`insert into builders (name, tags) values ('b', '[]')`);
  const runs = [];
  for (const clients of CLIENT_COUNTS) {
    CLIENTS = clients;
    // A fresh queue for each run: one connection claims over 10,000 requests a second.
    await admin.query(
      'truncate buildrequests, buildsets, builds, build_properties, steps, logs, logchunks, mq_events',
    );
    await seed(admin, 40_000 * SECONDS);
    await admin.query('vacuum analyze');
    const pool = new pg.Pool({ connectionString: url, max: clients });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const run = { clients };
    run.selectsPerSecond = Math.round(
      await loop(pool, async (c) => (await q(c, 'select 1', []), 1)),
    );
    run.rawClaimsPerSecond = Math.round(
      await loop(pool, async (c) => (await q(c, CLAIM, [1, Date.now(), 1, CLAIM_BATCH])).rowCount),
    );
    const claimedLeft = new Map();
    run.minimalBuildsPerSecond = Math.round(
      await loop(pool, async (c) => {
        let mine = claimedLeft.get(c);
        if (!mine || mine.length === 0) {
          mine = (await q(c, CLAIM, [1, Date.now(), 1, CLAIM_BATCH])).rows;
          claimedLeft.set(c, mine);
          if (mine.length === 0) throw new Error('out of seeded requests: raise the seed count');
        }
        return minimalBuild(c, mine);
      }),
    );
    await pool.end();
    runs.push(run);
  }
  await admin.end();
  const best = (field) => Math.max(...runs.map((r) => r[field]));
  console.log(
    JSON.stringify(
      {
        named: NAMED,
        seconds: SECONDS,
        runs,
        selectsPerSecond: best('selectsPerSecond'),
        rawClaimsPerSecond: best('rawClaimsPerSecond'),
        minimalBuildsPerSecond: best('minimalBuildsPerSecond'),
        statementsPerMinimalBuild: 8 + 1 / CLAIM_BATCH,
        loadAverage: os
          .loadavg()
          .map((n) => n.toFixed(2))
          .join(' '),
      },
      null,
      1,
    ),
  );
} finally {
  await server.stop();
  await stopAllProcesses();
  await cleanupAll();
}
