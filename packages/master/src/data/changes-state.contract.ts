/**
 * The contract of what change sources and schedulers store (object state with
 * compare-and-set, changes with files/properties/parents, classified changes, buildsets
 * that reuse a change's source stamp), run on SQLite (`changes-state.test.ts`) and on
 * PostgreSQL (`changes-state.pg.int.test.ts`), where concurrent writers really race.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from './data-api.js';
import { StateConflictError } from './state.js';

export function changesStateContract(name: string, open: () => Promise<DatabaseHandle>): void {
  describe(`changes and object state on ${name}`, () => {
    let handle: DatabaseHandle;
    let data: DataApi;
    const events: string[] = [];

    beforeEach(async () => {
      handle = await open();
      const bus = new InProcessBus((error) => {
        throw error;
      });
      bus.subscribe(['changes', '*', 'new'], (key) => events.push(key.join('/')));
      data = new DataApi({ db: handle.db, bus, now: () => 1_700_000_000_000 });
      events.length = 0;
    });

    afterEach(async () => {
      await handle.close();
    });

    it('gives each (name, class) one object id, also when asked at once', async () => {
      const ids = await Promise.all([
        data.state.objectId('poller', 'GitPoller'),
        new DataApi(data.ctx).state.objectId('poller', 'GitPoller'),
        new DataApi(data.ctx).state.objectId('poller', 'GitPoller'),
      ]);
      expect(new Set(ids).size).toBe(1);
      expect(await data.state.objectId('poller', 'Other')).not.toBe(ids[0]);
    });

    it('compare-and-set: exactly one of two racing writers wins', async () => {
      const objectid = await data.state.objectId('s', 'Scheduler');
      const first = await Promise.allSettled([
        data.state.setIf({ objectid, name: 'n', expected: undefined, value: { b: 1, a: [2] } }),
        data.state.setIf({ objectid, name: 'n', expected: undefined, value: { a: 9 } }),
      ]);
      expect(first.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const stored = await data.state.get(objectid, 'n');
      const racing = await Promise.allSettled([
        data.state.setIf({ objectid, name: 'n', expected: stored, value: 1 }),
        data.state.setIf({ objectid, name: 'n', expected: stored, value: 2 }),
      ]);
      expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = racing.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(StateConflictError);
      await data.state.set(objectid, 'n', 'plain');
      expect(await data.state.get(objectid, 'n')).toBe('plain');
    });

    it('adds changes with files, properties and parents, with the source state, or nothing', async () => {
      const objectid = await data.state.objectId('poller', 'GitPoller');
      const ids = await data.changes.add(
        [
          {
            author: 'a',
            branch: 'main',
            revision: 'r1',
            files: ['x', 'y', 'x'],
            properties: { p: 1 },
          },
          { author: 'a', branch: 'main', revision: 'r2', codebase: 'cb' },
          { author: 'a', branch: 'main', revision: 'r3' },
        ],
        { objectid, name: 'lastRev', expected: undefined, value: { main: 'r3' } },
      );
      expect(ids).toHaveLength(3);
      expect(events).toEqual(ids.map((id) => `changes/${id}/new`));
      const [one, two, three] = (await data.changes.after(0, 10)).map((c) => c);
      expect(one).toMatchObject({
        files: ['x', 'y'],
        properties: { p: [1, 'Change'] },
        parent_changeids: [],
      });
      expect(two?.parent_changeids).toEqual([]);
      expect(three?.parent_changeids).toEqual([ids[0]]);
      expect(three?.sourcestamp).toMatchObject({ branch: 'main', revision: 'r3' });
      // A conflicting state write adds no change at all.
      await expect(
        data.changes.add([{ author: 'b', revision: 'r4' }], {
          objectid,
          name: 'lastRev',
          expected: { main: 'old' },
          value: { main: 'r4' },
        }),
      ).rejects.toBeInstanceOf(StateConflictError);
      expect(await data.changes.lastChangeid()).toBe(ids[2]);
      expect(await data.state.get(objectid, 'lastRev')).toEqual({ main: 'r3' });
    });

    it('classifies changes, reuses their source stamps and flushes them with the buildset, once', async () => {
      const builderid = await data.builders.ensure('b', null, []);
      const [c1, c2] = await data.changes.add([
        { author: 'a', branch: 'main', revision: 'r1' },
        { author: 'a', branch: 'main', revision: 'r2' },
      ]);
      const objectid = await data.state.objectId('main', 'SingleBranchScheduler');
      await data.schedulers.classify(objectid, [
        { changeid: c1 ?? 0, important: false },
        { changeid: c2 ?? 0, important: true },
      ]);
      expect(await data.schedulers.classifications(objectid)).toEqual(
        new Map([
          [c1, false],
          [c2, true],
        ]),
      );
      const change = await data.changes.get(c2 ?? 0);
      const add = () =>
        data.buildsets.add(
          {
            reason: 'r',
            sourcestamps: [{ ssid: change?.sourcestamp.ssid ?? 0 }],
            properties: { scheduler: ['main', 'Scheduler'] },
            builderids: [builderid],
            waitedFor: true,
            parentRelationship: 'Triggered from',
          },
          { flushClassified: { objectid, changeids: [c1 ?? 0, c2 ?? 0] } },
        );
      const results = await Promise.allSettled([add(), add()]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await data.schedulers.classifications(objectid)).toEqual(new Map());
      const upstream = await data.schedulers.buildsetsOf('main', 0);
      expect(upstream).toHaveLength(1);
      expect(upstream[0]?.ssids).toEqual([change?.sourcestamp.ssid]);
      const buildset = await data.buildsets.get(upstream[0]?.bsid ?? 0);
      expect(buildset?.parent_relationship).toBe('Triggered from');
      expect(
        (
          await data.changes.list(
            { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
            { ssid: change?.sourcestamp.ssid },
          )
        ).items.map((c) => c.changeid),
      ).toEqual([c2]);
    });
  });
}
