/**
 * Locks and the distributor's hooks on a real master with real workers: a master lock
 * serializes two builders without a build holding a worker slot while it waits, counting
 * locks admit maxCount builds, worker locks count per worker, a step lock makes a step
 * wait ("acquiring locks") and a stop ends the wait; nextWorker, canStartBuild, nextBuild,
 * a collapseRequests function, and builder and request priorities pick what starts where.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@yardmaster/testkit';
import {
  buildFactory,
  builder,
  masterLock,
  renderer,
  shellCommand,
  worker,
  workerLock,
} from '../config/factories.js';
import type { BuildEntity } from '../data/builds.js';
import { Results } from '../results.js';
import { startBuildFixture, type BuildFixture } from '../../test/build-fixture.js';

const serial = masterLock('serial');
const pair = masterLock('pair', { maxCount: 2 });
const perWorker = workerLock('per-worker', { maxCount: 3, maxCountForWorker: { w1: 1 } });
const critical = masterLock('critical');

const sleep = (seconds: number) => shellCommand({ name: 'work', command: `sleep ${seconds}` });

let fixture: BuildFixture;

beforeAll(async () => {
  fixture = await startBuildFixture({
    workers: [
      worker('w1', { password: 'pw1' }),
      worker('w2', { password: 'pw2' }),
      worker('late', { password: 'pw-late', maxBuilds: 1 }),
      worker('late2', { password: 'pw-late2', maxBuilds: 1 }),
    ],
    builders: [
      builder({
        name: 'serial-a',
        workerNames: ['w1', 'w2'],
        locks: [serial.access('exclusive')],
        factory: buildFactory([sleep(1)]),
      }),
      builder({
        name: 'serial-b',
        workerNames: ['w1', 'w2'],
        locks: [serial.access('exclusive')],
        factory: buildFactory([sleep(0.1)]),
      }),
      builder({
        name: 'pair',
        workerNames: ['w1', 'w2'],
        collapseRequests: false,
        locks: [pair.access('counting')],
        factory: buildFactory([sleep(0.5)]),
      }),
      builder({
        name: 'per-worker',
        workerNames: ['w1'],
        collapseRequests: false,
        locks: [perWorker],
        factory: buildFactory([sleep(0.5)]),
      }),
      builder({
        name: 'step-lock',
        workerNames: ['w1', 'w2'],
        collapseRequests: false,
        factory: buildFactory([
          shellCommand({ name: 'before', command: 'true' }),
          shellCommand({
            name: 'critical',
            command: 'sleep 1.2',
            locks: [critical.access('exclusive')],
          }),
        ]),
      }),
      builder({
        name: 'picky',
        workerNames: ['w1', 'w2'],
        collapseRequests: false,
        nextWorker: renderer((_builder, workers) => workers.find((w) => w.name === 'w2') ?? null),
        factory: buildFactory([shellCommand({ command: 'true' })]),
      }),
      builder({
        name: 'vetoed',
        workerNames: ['w1', 'w2'],
        collapseRequests: false,
        canStartBuild: renderer(
          (_builder, candidate, request) => request.properties.avoid !== candidate.name,
        ),
        factory: buildFactory([shellCommand({ command: 'true' })]),
      }),
      builder({
        name: 'ranked',
        workerNames: ['late'],
        collapseRequests: false,
        nextBuild: renderer(
          (_builder, pending) =>
            [...pending].sort((a, b) => Number(b.properties.rank) - Number(a.properties.rank))[0] ??
            null,
        ),
        factory: buildFactory([shellCommand({ command: 'true' })]),
      }),
      builder({
        name: 'grouped',
        workerNames: ['late'],
        collapseRequests: renderer(
          (_builder, request, other) => request.properties.group === other.properties.group,
        ),
        factory: buildFactory([shellCommand({ command: 'true' })]),
      }),
      builder({
        name: 'low',
        workerNames: ['late2'],
        collapseRequests: false,
        factory: buildFactory([shellCommand({ command: 'true' })]),
      }),
      builder({
        name: 'high',
        workerNames: ['late2'],
        priority: 10,
        collapseRequests: false,
        factory: buildFactory([shellCommand({ command: 'true' })]),
      }),
    ],
  });
  fixture.startWorker('w1', 'pw1');
  fixture.startWorker('w2', 'pw2');
});

afterAll(async () => {
  await fixture.stop();
});

const ms = (b: BuildEntity) => ({ start: b.started_at ?? 0, end: b.complete_at ?? 0 });

async function request(brid: number) {
  const found = await fixture.master.data.buildsets.getRequest(brid);
  if (!found) throw new Error(`no request ${brid}`);
  return found;
}

describe('locks', () => {
  it('a master lock serializes builders; the waiting request holds no worker', async () => {
    const [a] = await fixture.submit('serial-a');
    const running = await fixture.buildOf(a ?? 0, (b) => b.state_string === 'building');
    const [b] = await fixture.submit('serial-b');
    // While A holds the lock, B stays unclaimed and both workers are free for others.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await request(b ?? 0)).claimed).toBe(false);
    const workers = fixture.master.config.workers.length;
    expect(workers).toBe(4);
    const [picked] = await fixture.submit('picky');
    expect((await fixture.buildOf(picked ?? 0)).results).toBe(Results.SUCCESS);
    const first = await fixture.buildOf(a ?? 0);
    const second = await fixture.buildOf(b ?? 0);
    expect(first.buildid).toBe(running.buildid);
    expect(second.results).toBe(Results.SUCCESS);
    // Timestamps are seconds: B cannot have started before A ended.
    expect(ms(second).start).toBeGreaterThanOrEqual(ms(first).end);
    const [prep] = await fixture.steps(second.buildid);
    expect(prep?.state_string).toMatch(/^worker w[12] ready$/);
  });

  it('counting locks admit maxCount builds at once; worker locks count per worker', async () => {
    const pairs = await Promise.all([1, 2, 3].map(() => fixture.submit('pair')));
    const perWorkerRequests = await Promise.all([1, 2].map(() => fixture.submit('per-worker')));
    // Two of the three pair builds run together, the third waits unclaimed.
    await waitFor(
      async () => {
        const states = await Promise.all(pairs.map(([brid]) => request(brid ?? 0)));
        return states.filter((r) => r.claimed && !r.complete).length === 2 ? states : undefined;
      },
      { timeoutMs: 10_000, message: 'two pair builds running' },
    );
    const unclaimed = (await Promise.all(pairs.map(([brid]) => request(brid ?? 0)))).filter(
      (r) => !r.claimed,
    );
    expect(unclaimed).toHaveLength(1);
    const builds = await Promise.all(pairs.map(([brid]) => fixture.buildOf(brid ?? 0)));
    expect(builds.every((b) => b.results === Results.SUCCESS)).toBe(true);
    // per-worker: w1 allows one at a time.
    const [one, two] = await Promise.all(
      perWorkerRequests.map(([brid]) => fixture.buildOf(brid ?? 0)),
    );
    expect(one?.results).toBe(Results.SUCCESS);
    expect(two?.results).toBe(Results.SUCCESS);
    const [early, later] = [one, two].sort((x, y) => (x?.buildid ?? 0) - (y?.buildid ?? 0));
    expect(ms(later!).start).toBeGreaterThanOrEqual(ms(early!).end);
  });

  it('a step waits for its lock ("acquiring locks"); a stop ends the wait', async () => {
    const [first] = await fixture.submit('step-lock');
    const [second] = await fixture.submit('step-lock');
    const waiting = await waitFor(
      async () => {
        for (const brid of [first, second]) {
          const build = (
            await fixture.master.data.builds.list(
              { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
              { buildrequestid: brid ?? 0 },
            )
          ).items[0];
          if (!build) continue;
          const step = (await fixture.steps(build.buildid)).find((s) => s.name === 'critical');
          if (step?.state_string === 'acquiring locks') return build;
        }
        return undefined;
      },
      { timeoutMs: 10_000, message: 'a step acquiring locks' },
    );
    await fixture.master.stopBuild(waiting.buildid, 'not needed');
    const stopped = await fixture.buildOf(waiting.buildrequestid);
    expect(stopped.results).toBe(Results.CANCELLED);
    const critical = (await fixture.steps(stopped.buildid)).find((s) => s.name === 'critical');
    expect(critical?.results).toBe(Results.CANCELLED);
    expect(critical?.state_string).toBe('cancelled while waiting for locks');
    const others = await Promise.all(
      [first, second]
        .filter((brid) => brid !== waiting.buildrequestid)
        .map((brid) => fixture.buildOf(brid ?? 0)),
    );
    expect(others.map((b) => b.results)).toEqual([Results.SUCCESS]);
  });
});

describe('distributor hooks and priorities', () => {
  it('nextWorker picks the worker, canStartBuild vetoes one', async () => {
    const picked = await Promise.all([1, 2].map(() => fixture.submit('picky')));
    const vetoed = await Promise.all(
      ['w1', 'w2'].map((avoid) => fixture.submit('vetoed', { properties: { avoid } })),
    );
    const w = async (brid: number | undefined) => {
      const build = await fixture.buildOf(brid ?? 0);
      return (await fixture.properties(build.buildid)).workername?.[0];
    };
    for (const [brid] of picked) expect(await w(brid)).toBe('w2');
    expect(await w(vetoed[0]?.[0])).toBe('w2');
    expect(await w(vetoed[1]?.[0])).toBe('w1');
  });

  it('nextBuild orders, a collapseRequests function merges, priorities go first', async () => {
    const ranked: number[] = [];
    for (const rank of [1, 3, 2]) {
      const [brid] = await fixture.submit('ranked', { properties: { rank } });
      ranked.push(brid ?? 0);
    }
    const grouped: number[] = [];
    for (const group of ['a', 'b', 'a']) {
      const [brid] = await fixture.submit('grouped', { properties: { group } });
      grouped.push(brid ?? 0);
    }
    const low = await fixture.submit('low');
    const lowPriority = await fixture.submit('high', { priority: 0 });
    const urgent = await fixture.submit('high', { priority: 5 });
    fixture.startWorker('late', 'pw-late');
    fixture.startWorker('late2', 'pw-late2');

    const rankedBuilds = await Promise.all(ranked.map((brid) => fixture.buildOf(brid)));
    // Highest rank first: request of rank 3, then 2, then 1.
    expect(rankedBuilds.map((b) => b.number)).toEqual([3, 1, 2]);

    const groupRequests = await Promise.all(grouped.map((brid) => request(brid)));
    await waitFor(async () => (await Promise.all(grouped.map(request))).every((r) => r.complete), {
      message: 'grouped requests complete',
    });
    const settled = await Promise.all(grouped.map((brid) => request(brid)));
    expect(groupRequests).toHaveLength(3);
    expect(settled.map((r) => r.results)).toEqual([
      Results.SUCCESS,
      Results.SUCCESS,
      Results.SKIPPED,
    ]);

    // Builder priority first (high), then request priority within it.
    const order = await Promise.all(
      [urgent, lowPriority, low].map(([brid]) => fixture.buildOf(brid ?? 0)),
    );
    const ids = order.map((b) => b.buildid);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
  });
});
