/**
 * The REST listings' data-layer contract, run on every database we support
 * (`data-api-lists.test.ts` on SQLite, `data-api-lists.pg.int.test.ts` on PostgreSQL): a
 * page of builds, build requests, steps, buildsets or logs costs a fixed number of SQL
 * queries, never one per row; filters use Buildbot's semantics (timestamps in whole
 * seconds, LIKE escaping, plural operators, NULLs first); events carry Buildbot's keys.
 */
// A test contract, run by data-api-lists.test.ts and data-api-lists.pg.int.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KyselyPlugin } from 'kysely';
import type { DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from './data-api.js';
import { EMPTY_SPEC, type ResultSpec } from './result-spec.js';
import { Results } from '../results.js';

export function dataApiListsContract(name: string, open: () => Promise<DatabaseHandle>): void {
  describe(`data API listings on ${name}`, () => {
    let handle: DatabaseHandle;
    let data: DataApi;
    let queries = 0;
    let now = 1_700_000_000_000;
    const events: string[] = [];
    const spec = (s: Partial<ResultSpec>): ResultSpec => ({ ...EMPTY_SPEC, ...s });

    beforeEach(async () => {
      handle = await open();
      const counting: KyselyPlugin = {
        transformQuery: (args) => {
          queries++;
          return args.node;
        },
        transformResult: (args) => Promise.resolve(args.result),
      };
      const bus = new InProcessBus((error) => {
        throw error;
      });
      bus.subscribe(['*', '*', '*'], (key) => events.push(key.join('/')));
      bus.subscribe(['*', '*', '*', '*', '*'], (key) => events.push(key.join('/')));
      bus.subscribe(['*', '*', '*', '*', '*', '*', '*'], (key) => events.push(key.join('/')));
      data = new DataApi({ db: handle.db.withPlugin(counting), bus, now: () => now });
      events.length = 0;
    });

    afterEach(async () => {
      await handle.close();
    });

    /** 60 builds of one builder, each with 3 steps, a log and 2 properties. */
    async function seed() {
      const masterid = await data.masters.register('m');
      const builderid = await data.builders.ensure('b', null, []);
      const workerid = await data.workers.ensure('w');
      const builds: number[] = [];
      for (let i = 0; i < 60; i++) {
        now += 1500;
        const { brids, buildsetid } = await data.buildsets.add({
          reason: `r${i}`,
          sourcestamps: [
            { branch: 'main', revision: `rev${i}` },
            { branch: 'other', codebase: 'lib' },
          ],
          properties: { p: [i, 'test'] },
          builderids: [builderid],
        });
        const brid = brids[builderid] ?? 0;
        await data.buildsets.claim(brid, masterid);
        const { buildid } = await data.builds.add({
          builderid,
          buildrequestid: brid,
          workerid,
          masterid,
          state: 'starting',
        });
        await data.builds.setProperties(buildid, { a: [i, 'x'], b: ['y', 'z'] });
        for (const name of ['one', 'two', 'three']) {
          const step = await data.steps.add(buildid, name);
          await data.logs.add(step.stepid, 'stdio', 's');
        }
        await data.builds.finish(buildid, i % 3 === 0 ? Results.FAILURE : Results.SUCCESS, 'done');
        await data.buildsets.complete([brid], Results.SUCCESS);
        expect(buildsetid).toBeGreaterThan(0);
        builds.push(buildid);
      }
      return { builderid, builds };
    }

    async function count<T>(run: () => Promise<T>): Promise<{ result: T; queries: number }> {
      queries = 0;
      const result = await run();
      return { result, queries };
    }

    it('lists steps across builds: by several build ids, by complete, in stepid order', async () => {
      const { builds } = await seed();
      const [first, second] = [builds[0] ?? 0, builds[1] ?? 0];
      const two = await count(() =>
        data.steps.list(
          spec({ filters: [{ field: 'buildid', op: 'in', values: [second, first] }] }),
        ),
      );
      expect(two.result.items.map((x) => [x.buildid, x.name])).toEqual([
        [first, 'one'],
        [first, 'two'],
        [first, 'three'],
        [second, 'one'],
        [second, 'two'],
        [second, 'three'],
      ]);
      expect(two.queries).toBe(2);
      // The seed leaves every step unfinished; finish the second build's.
      for (const step of two.result.items.filter((x) => x.buildid === second))
        await data.steps.finish(step.stepid, Results.SUCCESS, 'ok');
      const done = await count(() =>
        data.steps.list(spec({ filters: [{ field: 'complete', op: 'eq', values: [true] }] })),
      );
      expect(done.result.items.map((x) => x.buildid)).toEqual([second, second, second]);
      expect(done.queries).toBe(2);
      const running = await data.steps.list(
        spec({
          filters: [{ field: 'complete', op: 'eq', values: [false] }],
          order: [{ field: 'stepid', descending: true }],
          limit: 2,
        }),
      );
      expect(running.total).toBe(60 * 3 - 3);
      expect(running.items.map((x) => x.complete)).toEqual([false, false]);
      expect(running.items[0]?.buildid).toBe(builds[59]);
      expect(
        (
          await data.steps.list(
            spec({ filters: [{ field: 'complete', op: 'eq', values: [false] }] }),
            {
              buildid: second,
            },
          )
        ).items,
      ).toEqual([]);
      // `ne` asks the opposite; several values are a plain filter on the flag.
      const notRunning = await data.steps.list(
        spec({ filters: [{ field: 'complete', op: 'ne', values: ['false'] }] }),
      );
      expect(notRunning.items.map((x) => x.buildid)).toEqual([second, second, second]);
      const either = await data.steps.list(
        spec({ filters: [{ field: 'complete', op: 'eq', values: [true, false] }] }),
      );
      expect(either.total).toBe(60 * 3);
    });

    it('pages builds, requests, steps, buildsets and logs in a fixed number of queries', async () => {
      const { builds } = await seed();
      const page = spec({ limit: 50, order: [{ field: 'buildid', descending: true }] });
      const b = await count(() => data.builds.list(page));
      expect(b.result.items).toHaveLength(50);
      expect(b.result.total).toBe(60);
      expect(b.result.items[0]?.buildid).toBe(builds[59]);
      expect(b.queries).toBe(2);
      const withProps = await count(() => data.builds.list({ ...page, properties: ['*'] }));
      expect(withProps.queries).toBe(3);
      expect(withProps.result.items[0]?.properties).toEqual({ a: [59, 'x'], b: ['y', 'z'] });

      const r = await count(() =>
        data.buildsets.listRequests(
          spec({ limit: 50, order: [{ field: 'buildrequestid', descending: true }] }),
        ),
      );
      expect(r.result.items).toHaveLength(50);
      expect(r.queries).toBe(2);
      const rp = await count(() =>
        data.buildsets.listRequests(spec({ limit: 50, properties: ['p'] })),
      );
      expect(rp.queries).toBe(3);
      expect(rp.result.items[1]?.properties).toEqual({ p: [1, 'test'] });

      const s = await count(() => data.steps.list(spec({}), { buildid: builds[3] ?? 0 }));
      expect(s.result.items.map((x) => x.name)).toEqual(['one', 'two', 'three']);
      expect(s.queries).toBe(2);

      const bs = await count(() => data.buildsets.list(spec({ limit: 50 })));
      expect(bs.result.items).toHaveLength(50);
      expect(bs.result.total).toBe(60);
      expect(bs.result.items[0]?.sourcestamps.map((x) => x.codebase)).toEqual(['', 'lib']);
      expect(bs.queries).toBe(3);

      const logs = await count(() =>
        data.logs.listFor(spec({}), { stepid: s.result.items[0]?.stepid ?? 0 }),
      );
      expect(logs.result.items).toHaveLength(1);
      expect(logs.queries).toBe(2);

      const ss = await count(() =>
        data.buildsets.listSourcestamps(
          spec({ limit: 10, filters: [{ field: 'codebase', op: 'eq', values: ['lib'] }] }),
        ),
      );
      expect(ss.result.total).toBe(60);
      expect(ss.queries).toBe(2);
    });

    it('compares timestamps in whole seconds, escapes LIKE and applies plural operators', async () => {
      await seed();
      const all = (await data.builds.list(EMPTY_SPEC)).items;
      const third = all[2];
      const started = third?.started_at ?? 0;
      const ids = async (s: Partial<ResultSpec>) =>
        (await data.builds.list(spec(s))).items.map((x) => x.buildid);
      const inSecond = all.filter((x) => x.started_at === started).map((x) => x.buildid);
      expect(
        await ids({ filters: [{ field: 'started_at', op: 'eq', values: [started] }] }),
      ).toEqual(inSecond);
      expect(
        await ids({ filters: [{ field: 'started_at', op: 'le', values: [started] }] }),
      ).toEqual(all.filter((x) => (x.started_at ?? 0) <= started).map((x) => x.buildid));
      expect(await ids({ filters: [{ field: 'results', op: 'ne', values: [0, 2] }] })).toEqual([]);
      expect(await ids({ filters: [{ field: 'buildid', op: 'eq', values: [1, 3] }] })).toEqual([
        1, 3,
      ]);
      expect(
        await ids({ filters: [{ field: 'state_string', op: 'contains', values: ['on'] }] }),
      ).toHaveLength(60);
      expect(
        await ids({ filters: [{ field: 'state_string', op: 'contains', values: ['%'] }] }),
      ).toEqual([]);
      expect(
        await ids({ filters: [{ field: 'state_string', op: 'contains', values: ['zz', 'don'] }] }),
      ).toHaveLength(60);
      const failed = await data.builds.list(
        spec({ filters: [{ field: 'results', op: 'eq', values: [Results.FAILURE] }] }),
      );
      expect(failed.total).toBe(20);
    });

    it("publishes Buildbot's event keys for builds, build requests and logs", async () => {
      const masterid = await data.masters.register('m');
      const builderid = await data.builders.ensure('b', null, []);
      const workerid = await data.workers.ensure('w');
      const { brids, buildsetid } = await data.buildsets.add({
        reason: 'r',
        sourcestamps: [],
        properties: {},
        builderids: [builderid],
      });
      const brid = brids[builderid] ?? 0;
      await data.buildsets.claim(brid, masterid);
      const { buildid, number } = await data.builds.add({
        builderid,
        buildrequestid: brid,
        workerid,
        masterid,
        state: 's',
      });
      const step = await data.steps.add(buildid, 'shell');
      const logid = await data.logs.add(step.stepid, 'stdio', 's');
      await data.logs.append(logid, 'ohello\n');
      await data.workers.connected(workerid, masterid, {});
      expect(events).toEqual(
        expect.arrayContaining([
          `buildsets/${buildsetid}/new`,
          `buildsets/${buildsetid}/builders/${builderid}/buildrequests/${brid}/new`,
          `buildrequests/${brid}/new`,
          `builders/${builderid}/buildrequests/${brid}/claimed`,
          `builders/${builderid}/builds/${number}/new`,
          `builds/${buildid}/new`,
          `workers/${workerid}/builds/${buildid}/new`,
          `builds/${buildid}/steps/${step.stepid}/new`,
          `logs/${logid}/append`,
          `steps/${step.stepid}/logs/stdio/append`,
          `workers/${workerid}/connected`,
        ]),
      );
    });
  });
}
