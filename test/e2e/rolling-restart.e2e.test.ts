/**
 * Issue #6: masters can be upgraded one at a time (rolling restart) with no build failing.
 * Two master processes on one PostgreSQL database, four worker processes that know both
 * (`--master a,b`), a stream of 2-second builds forced through both masters; master-a is
 * stopped with SIGTERM (it drains: claims nothing new, lets its running builds finish,
 * up to `--drain-timeout`), started again, then master-b the same way. Every request must
 * end with exactly one build, SUCCESS: none interrupted (RETRY) or failed (EXCEPTION).
 *
 * What is acceptable (decision 0003 + 0007): a drained master lets its running builds
 * finish; only a build still running when the drain timeout expires is interrupted (RETRY)
 * and its request run again. The builds here are far shorter than the timeout, so there
 * must be none. The second test shows that other case with `--drain-timeout 0`.
 */
import { loadavg } from 'node:os';
import { setTimeout as pace } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase, waitFor, type SpawnedProcess } from '@yardmaster/testkit';
import {
  buildsOfRequest,
  startMaster,
  startWorker,
  waitForBuild,
  waitForConnected,
  type Build,
  type RunningMaster,
  Results,
} from './harness.js';

const { SUCCESS, RETRY } = Results;

const CONFIG = `
import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';
const all = ['w1', 'w2', 'w3', 'w4'];
export default defineConfig({
  title: 'rolling',
  collapseRequests: false,
  workers: all.map((name) => worker(name, { password: 'pw-' + name, maxBuilds: 1 })),
  builders: [
    builder({ name: 'work', workerNames: all, factory: buildFactory([shellCommand({ command: 'echo started; sleep 2; echo done' })]) }),
    builder({ name: 'long', workerNames: all, factory: buildFactory([shellCommand({ command: 'echo started; sleep 6; echo done' })]) }),
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['work', 'long'] })],
});
`;

type MasterBuild = Build & { masterid: number; started_at: number };

describe('rolling restart of two masters on PostgreSQL', () => {
  let a: RunningMaster;
  let b: RunningMaster;
  const workers: SpawnedProcess[] = [];
  let ids: Record<string, number> = {};

  beforeAll(async () => {
    const dbUrl = await freshPostgresDatabase();
    const options = { dbUrl, masterExpiry: 5, drainTimeout: 30 };
    [a, b] = await Promise.all([
      startMaster(CONFIG, { ...options, name: 'master-a' }),
      startMaster(CONFIG, { ...options, name: 'master-b' }),
    ]);
    workers.push(await startWorker([a, b], 'w1', 'pw-w1'));
    workers.push(await startWorker([b, a], 'w2', 'pw-w2'));
    workers.push(await startWorker([a, b], 'w3', 'pw-w3'));
    workers.push(await startWorker([b, a], 'w4', 'pw-w4'));
    await waitForConnected(a, ['w1', 'w2', 'w3', 'w4']);
    const { builders } = await a.get<{ builders: { name: string; builderid: number }[] }>(
      '/builders',
    );
    ids = Object.fromEntries(builders.map((x) => [x.name, x.builderid]));
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await a?.process.stop();
    await b?.process.stop();
  });

  const masterIdOf = async (via: RunningMaster, name: string) => {
    const { masters } = await via.get<{ masters: { masterid: number; name: string }[] }>(
      '/masters',
    );
    const found = masters.find((m) => m.name === name);
    if (!found) throw new Error(`no master ${name}`);
    return found.masterid;
  };

  const runningOn = async (via: RunningMaster, masterid: number) => {
    const { builds } = await via.get<{ builds: MasterBuild[] }>('/builds?complete=false');
    return builds.filter((x) => x.masterid === masterid);
  };

  it('restarts one master at a time while builds are forced through both: no build fails', async () => {
    const forced: number[] = [];
    const refused: string[] = [];
    let forcing = true;
    // The stream of builds: one force every 700 ms (a load, not a wait; four workers run
    // 2-second builds, so the queue stays short), through each master in turn; a master
    // that is down for its restart refuses, the other takes it.
    const forcer = (async () => {
      for (let i = 0; forcing; i++) {
        for (const master of i % 2 === 0 ? [a, b] : [b, a]) {
          try {
            const { brids } = await master.force('force', { builderid: ids.work });
            forced.push(...Object.values(brids));
            break;
          } catch (error) {
            refused.push((error as Error).message);
          }
        }
        await pace(700);
      }
    })();

    const timings: string[] = [];
    const restartedAt = new Map<number, number>();
    try {
      for (const [master, name, other] of [
        [a, 'master-a', b],
        [b, 'master-b', a],
      ] as const) {
        const masterid = await masterIdOf(other, name);
        // It runs builds (each master starts with two workers) when SIGTERM comes: the drain
        // is what is tested.
        const running = await waitFor(
          async () => {
            const list = await runningOn(other, masterid);
            return list.length >= 2 ? list : null;
          },
          { timeoutMs: 20_000, message: `${name} runs two builds` },
        );
        const stoppedAt = Date.now();
        await master.restart();
        timings.push(`${name}: SIGTERM → restarted in ${Date.now() - stoppedAt} ms`);
        // The builds it ran when it got SIGTERM finished there, SUCCESS, before it exited.
        for (const build of running) {
          const [done] = (await buildsOfRequest(other, build.buildrequestid)).filter(
            (x) => x.buildid === build.buildid,
          );
          expect(done, `build ${build.buildid} of ${name}`).toMatchObject({
            complete: true,
            results: SUCCESS,
          });
        }
        restartedAt.set(masterid, Math.floor(Date.now() / 1000));
        // Back in service (its workers moved to the other master; they come back when that
        // one restarts).
        await waitFor(
          async () => {
            const { masters } = await other.get<{ masters: { name: string; active: boolean }[] }>(
              '/masters',
            );
            return masters.some((m) => m.name === name && m.active);
          },
          { timeoutMs: 20_000, message: `${name} is active again` },
        );
      }
      // master-a, restarted first, got the workers back when master-b restarted.
      const aid = await masterIdOf(a, 'master-a');
      await waitFor(
        async () =>
          (await runningOn(a, aid)).some((x) => x.started_at >= (restartedAt.get(aid) ?? Infinity)),
        { timeoutMs: 20_000, message: 'the restarted master-a runs builds again' },
      );
    } finally {
      forcing = false;
      await forcer;
    }

    // Every request ever made (a force whose answer was lost to a restart included) ends
    // with exactly one build, SUCCESS.
    let pending = -1;
    await waitFor(
      async () => {
        const page = await a.get<{ meta: { total: number } }>('/buildrequests?complete=false');
        pending = page.meta.total;
        return pending === 0;
      },
      {
        timeoutMs: 40_000,
        message: () => `every request completed (${pending} of ${forced.length} pending)`,
      },
    );
    const { buildrequests } = await a.get<{
      buildrequests: { buildrequestid: number; results: number }[];
    }>(`/buildrequests?builderid=${ids.work}`);
    const { builds } = await a.get<{ builds: MasterBuild[] }>(`/builds?builderid=${ids.work}`);
    expect(forced.every((id) => buildrequests.some((r) => r.buildrequestid === id))).toBe(true);
    expect(buildrequests.filter((r) => r.results !== SUCCESS)).toEqual([]);
    const perRequest = new Map<number, number>();
    for (const build of builds) {
      perRequest.set(build.buildrequestid, (perRequest.get(build.buildrequestid) ?? 0) + 1);
    }
    expect([...perRequest.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(perRequest.size).toBe(buildrequests.length);
    expect(
      builds.filter((x) => x.results !== SUCCESS).map((x) => [x.buildid, x.state_string]),
    ).toEqual([]);
    // Both masters ran builds.
    expect(new Set(builds.map((x) => x.masterid)).size).toBe(2);
    console.log(
      `rolling restart (load average ${loadavg()[0]?.toFixed(1)}): ${buildrequests.length} requests, ${builds.length} builds, all SUCCESS; ${timings.join('; ')}; forces refused while a master was down: ${refused.length}`,
    );
  }, 90_000);

  it('with --drain-timeout 0 a restart does not wait: the running build ends RETRY and runs again', async () => {
    // The drain timeout is the stopping process's: start both masters with 0 first.
    await a.restart({ drainTimeout: 0 });
    await b.restart({ drainTimeout: 0 });
    await waitForConnected(a, ['w1', 'w2', 'w3', 'w4']);
    const { brids } = await a.force('force', { builderid: ids.long });
    const brid = Object.values(brids)[0]!;
    const first = (await waitForBuild(a, brid, () => true)) as MasterBuild;
    const { masters } = await a.get<{ masters: { masterid: number; name: string }[] }>('/masters');
    const owner = masters.find((m) => m.masterid === first.masterid)?.name === 'master-a' ? a : b;
    const stoppedAt = Date.now();
    await owner.restart({ drainTimeout: 0 });
    const restartMs = Date.now() - stoppedAt;
    const interrupted = await waitForBuild(a, brid, (x) => x.buildid === first.buildid);
    expect(interrupted.results).toBe(RETRY);
    const second = await waitForBuild(
      a,
      brid,
      (x) => x.buildid !== first.buildid && x.complete,
      30_000,
    );
    expect(second.results).toBe(SUCCESS);
    expect(await buildsOfRequest(a, brid)).toHaveLength(2);
    console.log(
      `--drain-timeout 0: restart took ${restartMs} ms; the interrupted build: "${interrupted.state_string}"`,
    );
  }, 60_000);
});
