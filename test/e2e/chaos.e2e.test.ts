/**
 * Chaos on several masters: 3 master processes and 6 worker processes on one PostgreSQL
 * server; 100 builds forced through random masters while masters are SIGKILLed and
 * restarted, the LISTEN connections are cut and PostgreSQL itself restarts. At the end
 * every request has exactly one successful build, no two builds of a request overlapped,
 * and nothing is left pending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  startPostgres,
  waitFor,
  type PostgresServer,
  type SpawnedProcess,
} from '@yardmaster/testkit';
import { startMaster, startWorker, Results, type RunningMaster } from './harness.js';

const BUILDS = 100;
const { SUCCESS } = Results;

const CONFIG = `
import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';
const names = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'];
export default defineConfig({
  title: 'chaos',
  collapseRequests: false,
  workers: names.map((n) => worker(n, { password: 'pw-' + n, maxBuilds: 1 })),
  builders: [
    builder({ name: 'work', workerNames: names, factory: buildFactory([
      shellCommand({ command: 'echo working; sleep 0.7; echo done' }),
    ]) }),
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['work'] })],
});
`;

async function sql<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('chaos: 3 masters, 6 workers, 100 builds, kills and restarts', () => {
  let server: PostgresServer;
  let dbUrl: string;
  const masters: RunningMaster[] = [];
  const workers: SpawnedProcess[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    dbUrl = await server.createDatabase('chaos');
    for (const name of ['m1', 'm2', 'm3']) {
      masters.push(await startMaster(CONFIG, { dbUrl, name, masterExpiry: 5 }));
    }
    for (let i = 1; i <= 6; i++) {
      const order = [...masters.slice(i % 3), ...masters.slice(0, i % 3)];
      workers.push(await startWorker(order, `w${i}`, `pw-w${i}`));
    }
    await waitFor(
      async () => {
        const rows = await sql<{ n: number }>(
          dbUrl,
          'select count(distinct workerid)::int as n from connected_workers',
        );
        return rows[0]?.n === 6;
      },
      { timeoutMs: 30_000, message: 'all 6 workers to connect' },
    );
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) await w.stop();
    for (const m of masters) await m.process.stop();
    await server?.stop();
  }, 60_000);

  it('ends with exactly one successful build per request and none run twice at once', async () => {
    const live = () => masters.filter((m) => m.process.running);
    const forced: number[] = [];
    const force = async () => {
      for (;;) {
        const candidates = live();
        const master = candidates[Math.floor(Math.random() * candidates.length)]!;
        try {
          const { brids } = await master.force('force', { builderNames: ['work'] });
          forced.push(...Object.values(brids));
          return;
        } catch {
          // that master just died: try another
        }
      }
    };
    const timings: string[] = [];
    const chaos = async () => {
      for (let round = 0; round < 3; round++) {
        await new Promise((r) => setTimeout(r, 2_500));
        const victim = live()[Math.floor(Math.random() * live().length)]!;
        const killedAt = Date.now();
        await victim.crash();
        const name = (
          await sql<{ id: number; name: string }>(dbUrl, 'select id, name from masters')
        ).find((m) => victim.process.name.endsWith(m.name));
        if (round === 1) {
          // the LISTEN connections of the live masters are cut
          await sql(
            server.adminUrl,
            "select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'LISTEN%'",
          );
        }
        if (round === 2) await server.restart();
        await waitFor(
          async () =>
            (
              await sql<{ active: number }>(
                dbUrl,
                `select active from masters where id = ${name?.id ?? -1}`,
              )
            )[0]?.active === 0,
          {
            timeoutMs: 30_000,
            intervalMs: 200,
            message: `master ${name?.name ?? '?'} to be expired`,
          },
        );
        timings.push(
          `${name?.name ?? '?'} SIGKILL → expired by another master in ${Date.now() - killedAt} ms`,
        );
        await victim.relaunch();
      }
    };
    const forcing = (async () => {
      for (let i = 0; i < BUILDS; i++) {
        await force();
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 400));
      }
    })();
    await Promise.all([forcing, chaos()]);
    expect(forced).toHaveLength(BUILDS);

    const started = Date.now();
    await waitFor(
      async () => {
        const rows = await sql<{ n: number }>(
          dbUrl,
          'select count(*)::int as n from buildrequests where complete = 0',
        );
        return rows[0]?.n === 0;
      },
      { timeoutMs: 120_000, intervalMs: 500, message: 'every request to complete' },
    );
    timings.push(`queue drained ${Date.now() - started} ms after the last fault`);

    const requests = await sql<{ id: number; results: number }>(
      dbUrl,
      'select id, results from buildrequests order by id',
    );
    // A force whose master died after committing but before answering was sent again to
    // another master, as any client would: such a request exists without its id in `forced`.
    expect(requests.length).toBeGreaterThanOrEqual(BUILDS);
    const ids = new Set(requests.map((r) => r.id));
    expect(forced.every((id) => ids.has(id))).toBe(true);
    expect(requests.every((r) => r.results === SUCCESS)).toBe(true);
    const builds = await sql<{
      buildrequestid: number;
      results: number | null;
      started_at: number;
      complete_at: number | null;
    }>(
      dbUrl,
      'select buildrequestid, results, started_at, complete_at from builds order by buildrequestid, started_at',
    );
    for (const { id } of requests) {
      const mine = builds.filter((b) => b.buildrequestid === id);
      expect(
        mine.filter((b) => b.results === SUCCESS),
        `request ${id}`,
      ).toHaveLength(1);
      for (let i = 1; i < mine.length; i++) {
        expect(
          Number(mine[i - 1]!.complete_at),
          `request ${id} builds overlap`,
        ).toBeLessThanOrEqual(Number(mine[i]!.started_at));
      }
    }
    const retried = builds.filter((b) => b.results !== SUCCESS).length;
    console.log(
      [
        `${builds.length} builds for ${BUILDS} requests (${retried} interrupted and run again)`,
        ...timings,
      ].join('\n'),
    );
  }, 300_000);
});
