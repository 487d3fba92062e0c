/**
 * The data API's contract, run on every database we support: `data-api.test.ts` runs it
 * on SQLite, `data-api.pg.int.test.ts` on a real PostgreSQL server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from './data-api.js';
import { EMPTY_SPEC } from './result-spec.js';
import { BROTLI } from './logs.js';
import { Results } from '../results.js';
import type { EventKey } from '../mq/bus.js';

export function dataApiContract(name: string, open: () => Promise<DatabaseHandle>): void {
  describe(`data API on ${name}`, () => {
    let handle: DatabaseHandle;
    let data: DataApi;
    let now = 1_700_000_000_000;
    const events: string[] = [];

    beforeEach(async () => {
      handle = await open();
      const bus = new InProcessBus((error) => {
        throw error;
      });
      bus.subscribe(['*', '*', '*'], (key: EventKey) => events.push(key.join('/')));
      data = new DataApi({ db: handle.db, bus, now: () => now });
      events.length = 0;
    });

    afterEach(async () => {
      await handle.close();
    });

    async function request(builderName = 'b', priority = 0) {
      const builderid = await data.builders.ensure(builderName, null, []);
      const { brids } = await data.buildsets.add({
        reason: 'test',
        sourcestamps: [{ branch: 'main' }],
        properties: { a: [1, 'test'] },
        builderids: [builderid],
        priority,
      });
      return { builderid, brid: brids[builderid]! };
    }

    it('lets exactly one of two claims on a request win', async () => {
      const m1 = await data.masters.register('m1');
      const m2 = await data.masters.register('m2');
      const { brid } = await request();
      const results = await Promise.all([
        data.buildsets.claim(brid, m1),
        data.buildsets.claim(brid, m2),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await data.buildsets.pendingRequests()).toHaveLength(0);
      const winner = results[0] ? m1 : m2;
      expect((await data.buildsets.getRequest(brid))?.claimed_by_masterid).toBe(winner);
      expect(events).toContain(`buildrequests/${brid}/claimed`);
    });

    it('gives pending requests in priority order, then oldest first', async () => {
      const a = await request('b', 0);
      now += 1000;
      const b = await request('b', 5);
      now += 1000;
      const c = await request('b', 0);
      const pending = await data.buildsets.pendingRequests();
      expect(pending.map((r) => r.buildrequestid)).toEqual([b.brid, a.brid, c.brid]);
    });

    it('re-queues on unclaim and completes the buildset with the worst result', async () => {
      const m = await data.masters.register('m');
      const b1 = await data.builders.ensure('b1', null, []);
      const b2 = await data.builders.ensure('b2', null, []);
      const { buildsetid, brids } = await data.buildsets.add({
        reason: 'x',
        sourcestamps: [],
        properties: {},
        builderids: [b1, b2],
      });
      const [r1, r2] = [brids[b1]!, brids[b2]!];
      expect(await data.buildsets.claim(r1, m)).toBe(true);
      await data.buildsets.unclaim([r1], m);
      expect((await data.buildsets.pendingRequests()).map((r) => r.buildrequestid)).toEqual([
        r1,
        r2,
      ]);
      await data.buildsets.complete([r1], Results.SUCCESS);
      expect((await data.buildsets.get(buildsetid))?.complete).toBe(false);
      await data.buildsets.complete([r2], Results.FAILURE);
      const bs = await data.buildsets.get(buildsetid);
      expect(bs).toMatchObject({ complete: true, results: Results.FAILURE });
      expect(events).toContain(`buildsets/${buildsetid}/complete`);
    });

    it('numbers builds per builder and filters, orders and pages them', async () => {
      const m = await data.masters.register('m');
      const { builderid, brid } = await request('x');
      const other = await request('y');
      const first = await data.builds.add({
        builderid,
        buildrequestid: brid,
        workerid: null,
        masterid: m,
        state: 's',
      });
      const second = await data.builds.add({
        builderid,
        buildrequestid: brid,
        workerid: null,
        masterid: m,
        state: 's',
      });
      const elsewhere = await data.builds.add({
        builderid: other.builderid,
        buildrequestid: other.brid,
        workerid: null,
        masterid: m,
        state: 's',
      });
      expect([first.number, second.number, elsewhere.number]).toEqual([1, 2, 1]);
      await data.builds.finish(first.buildid, Results.SUCCESS, 'done');
      const complete = await data.builds.list({
        ...EMPTY_SPEC,
        filters: [{ field: 'complete', op: 'eq', values: ['true'] }],
      });
      expect(complete.items.map((b) => b.buildid)).toEqual([first.buildid]);
      const page = await data.builds.list({
        ...EMPTY_SPEC,
        order: [{ field: 'buildid', descending: true }],
        limit: 2,
      });
      expect(page.items.map((b) => b.buildid)).toEqual([elsewhere.buildid, second.buildid]);
      expect(page.total).toBe(3);
      await expect(
        data.builds.list({
          ...EMPTY_SPEC,
          filters: [{ field: 'nonsense', op: 'eq', values: ['1'] }],
        }),
      ).rejects.toThrow(/cannot filter builds by "nonsense"/);
    });

    it('stores logs as chunks and reads line ranges and raw text back', async () => {
      const m = await data.masters.register('m');
      const { builderid, brid } = await request();
      const { buildid } = await data.builds.add({
        builderid,
        buildrequestid: brid,
        workerid: null,
        masterid: m,
        state: 's',
      });
      const step = await data.steps.add(buildid, 'shell');
      const logid = await data.logs.add(step.stepid, 'stdio', 's');
      await data.logs.append(logid, 'hfirst header\n');
      const big = Array.from({ length: 1000 }, (_, i) => `oline ${i}\n`).join('');
      expect(await data.logs.append(logid, big)).toBe(1001);
      await data.logs.append(logid, 'eoops\n');
      const chunks = await handle.db
        .selectFrom('logchunks')
        .selectAll()
        .where('logid', '=', logid)
        .execute();
      expect(chunks.map((c) => c.compressed)).toEqual([0, BROTLI, 0]);
      expect(await data.logs.contents(logid, 500, 501)).toBe('oline 499\noline 500\n');
      let raw = '';
      for await (const text of data.logs.raw(logid, 's')) raw += text;
      expect(raw.startsWith('first header\nline 0\n')).toBe(true);
      expect(raw.endsWith('line 999\noops\n')).toBe(true);
      expect((await data.logs.get(logid))?.num_lines).toBe(1002);
    });

    it('names a repeated step like Buildbot', async () => {
      const m = await data.masters.register('m');
      const { builderid, brid } = await request();
      const { buildid } = await data.builds.add({
        builderid,
        buildrequestid: brid,
        workerid: null,
        masterid: m,
        state: 's',
      });
      const names = [];
      for (let i = 0; i < 3; i++) names.push((await data.steps.add(buildid, 'shell')).name);
      expect(names).toEqual(['shell', 'shell_1', 'shell_2']);
    });
    it('gives a lease to one master until it expires, then to another', async () => {
      expect(await data.leases.acquire('poller', 1, 10_000)).toBe(true);
      expect(await data.leases.acquire('poller', 2, 10_000)).toBe(false);
      now += 5_000;
      expect(await data.leases.acquire('poller', 1, 10_000)).toBe(true);
      now += 9_000;
      expect(await data.leases.acquire('poller', 2, 10_000)).toBe(false);
      now += 2_000;
      expect(await data.leases.acquire('poller', 2, 10_000)).toBe(true);
      expect((await data.leases.holder('poller'))?.masterid).toBe(2);
      await data.leases.release('poller', 1);
      expect((await data.leases.holder('poller'))?.masterid).toBe(2);
      await data.leases.release('poller', 2);
      expect(await data.leases.holder('poller')).toBeNull();
    });
  });
}
