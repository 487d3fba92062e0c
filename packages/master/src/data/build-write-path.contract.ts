/**
 * The contract of the write path a build takes (batch claims, one-statement step and log
 * writes, property upserts, buildset completion), run on SQLite by
 * `build-write-path.test.ts` and on PostgreSQL by `build-write-path.pg.int.test.ts`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from './data-api.js';
import { Results, type Result } from '../results.js';
import type { EventKey } from '../mq/bus.js';

export function buildWritePathContract(name: string, open: () => Promise<DatabaseHandle>): void {
  describe(`build write path on ${name}`, () => {
    let handle: DatabaseHandle;
    let data: DataApi;
    let now = 1_700_000_000_000;
    const events: { key: string; message: unknown }[] = [];

    beforeEach(async () => {
      handle = await open();
      const bus = new InProcessBus((error) => {
        throw error;
      });
      bus.subscribe(['*', '*', '*'], (key: EventKey, message) =>
        events.push({ key: key.join('/'), message }),
      );
      data = new DataApi({ db: handle.db, bus, now: () => now });
      events.length = 0;
    });

    afterEach(async () => {
      await handle.close();
    });

    async function requests(builderid: number, count: number, priority = 0): Promise<number[]> {
      const brids: number[] = [];
      for (let i = 0; i < count; i++) {
        now += 1;
        const { brids: added } = await data.buildsets.add({
          reason: 'test',
          sourcestamps: [],
          properties: {},
          builderids: [builderid],
          priority,
        });
        brids.push(added[builderid]!);
      }
      return brids;
    }

    /** A build of a new request on builder `b`, run by master `m`, in state `state`. */
    async function newBuild(state: string): Promise<number> {
      const m = await data.masters.register('m');
      const b = await data.builders.ensure('b', null, []);
      const [brid] = await requests(b, 1);
      const { buildid } = await data.builds.add({
        builderid: b,
        buildrequestid: brid!,
        workerid: null,
        masterid: m,
        state,
      });
      return buildid;
    }

    it('claims the head of a queue in order, and two claiming masters never get the same request', async () => {
      const m1 = await data.masters.register('m1');
      const m2 = await data.masters.register('m2');
      const b = await data.builders.ensure('b', null, []);
      const other = await data.builders.ensure('other', null, []);
      const low = await requests(b, 20, 0);
      const high = await requests(b, 10, 5);
      const [untouched] = await requests(other, 1);
      await data.buildsets.complete([low[0]!], Results.SUCCESS);

      const first = await data.buildsets.claimNext(b, 3, m1);
      expect(first.map((r) => r.buildrequestid)).toEqual(high.slice(0, 3));
      expect(first.every((r) => r.claimed && r.claimed_by_masterid === m1)).toBe(true);
      expect(events.map((e) => e.key)).toContain(`buildrequests/${high[0]}/claimed`);

      const rounds = await Promise.all(
        Array.from({ length: 8 }, (_, i) => data.buildsets.claimNext(b, 5, i % 2 ? m1 : m2)),
      );
      const got = [...first, ...rounds.flat()].map((r) => r.buildrequestid);
      expect(new Set(got).size).toBe(got.length);
      expect(got.sort((x, y) => x - y)).toEqual([...low.slice(1), ...high].sort((x, y) => x - y));
      for (const round of rounds.flat()) {
        const stored = await data.buildsets.getRequest(round.buildrequestid);
        expect(stored?.claimed_by_masterid).toBe(round.claimed_by_masterid);
      }
      expect(await data.buildsets.claimNext(b, 5, m1)).toEqual([]);
      expect((await data.buildsets.getRequest(untouched!))?.claimed).toBe(false);
      expect((await data.buildsets.getRequest(low[0]!))?.claimed).toBe(false);
    });

    it('completes only requests still claimed by the completing master (fencing)', async () => {
      const m1 = await data.masters.register('m1');
      const m2 = await data.masters.register('m2');
      const b = await data.builders.ensure('b', null, []);
      const [brid] = await requests(b, 1);
      expect(await data.buildsets.claimNext(b, 1, m2)).toHaveLength(1);
      await data.buildsets.complete([brid!], Results.SUCCESS, m1);
      expect((await data.buildsets.getRequest(brid!))?.complete).toBe(false);
      await data.buildsets.complete([brid!], Results.SUCCESS, m2);
      expect(await data.buildsets.getRequest(brid!)).toMatchObject({
        complete: true,
        results: Results.SUCCESS,
      });
    });

    it.each<[Result[], Result]>([
      [[Results.SKIPPED], Results.SUCCESS],
      [[Results.SKIPPED, Results.WARNINGS], Results.WARNINGS],
      [[Results.FAILURE, Results.EXCEPTION, Results.SUCCESS], Results.EXCEPTION],
      [[Results.CANCELLED, Results.RETRY], Results.CANCELLED],
    ])(
      'completes a buildset of %j with %i, once, when its last request completes',
      async (results, worst) => {
        const builderids: number[] = [];
        for (let i = 0; i < results.length; i++)
          builderids.push(await data.builders.ensure(`b${i}`, null, []));
        const { buildsetid, brids } = await data.buildsets.add({
          reason: 'x',
          sourcestamps: [{ branch: 'main' }],
          properties: {},
          builderids,
        });
        for (const [i, builderid] of builderids.entries()) {
          expect((await data.buildsets.get(buildsetid))?.complete).toBe(false);
          await data.buildsets.complete([brids[builderid]!], results[i]!);
        }
        expect(await data.buildsets.get(buildsetid)).toMatchObject({
          complete: true,
          results: worst,
        });
        const completions = events.filter((e) => e.key === `buildsets/${buildsetid}/complete`);
        expect(completions).toHaveLength(1);
        expect(completions[0]?.message).toMatchObject({
          bsid: buildsetid,
          complete: true,
          results: worst,
          sourcestamps: [expect.objectContaining({ branch: 'main' })],
        });
      },
    );

    it('publishes a new buildset and its requests as stored, from the rows its inserts returned', async () => {
      const b1 = await data.builders.ensure('b1', null, []);
      const b2 = await data.builders.ensure('b2', null, []);
      const first = await data.buildsets.add({
        reason: 'force',
        sourcestamps: [
          { branch: 'main', revision: 'abc' },
          { branch: 'dev', codebase: 'lib' },
        ],
        properties: { p: [1, 'Force'] },
        builderids: [b1, b2],
        priority: 3,
      });
      const stamps = await data.buildsets.sourcestamps(first.buildsetid);
      const again = await data.buildsets.add({
        reason: 'rebuild',
        sourcestamps: [{ ssid: stamps[1]!.ssid }],
        properties: {},
        builderids: [b1],
      });
      for (const { buildsetid, brids } of [first, again]) {
        const message = (key: string) => events.find((e) => e.key === key)?.message;
        expect(message(`buildsets/${buildsetid}/new`)).toEqual(
          await data.buildsets.get(buildsetid),
        );
        for (const brid of Object.values(brids)) {
          expect(message(`buildrequests/${brid}/new`)).toEqual(
            await data.buildsets.getRequest(brid),
          );
        }
      }
      expect(stamps.map((ss) => ss.branch)).toEqual(['main', 'dev']);
    });

    it('completes a buildset with its only request, and several requests of one buildset in one call', async () => {
      const m = await data.masters.register('m');
      const b1 = await data.builders.ensure('b1', null, []);
      const b2 = await data.builders.ensure('b2', null, []);
      const [single] = await requests(b1, 1);
      expect(await data.buildsets.claimNext(b1, 1, m)).toHaveLength(1);
      const bsOf = async (brid: number) => (await data.buildsets.getRequest(brid))!.buildsetid;
      await data.buildsets.complete([single!], Results.FAILURE, m);
      expect(await data.buildsets.get(await bsOf(single!))).toMatchObject({
        complete: true,
        results: Results.FAILURE,
      });
      expect(events.map((e) => e.key)).toEqual(
        expect.arrayContaining([
          `buildrequests/${single}/complete`,
          `buildsets/${await bsOf(single!)}/complete`,
        ]),
      );
      const pair = await data.buildsets.add({
        reason: 'x',
        sourcestamps: [],
        properties: {},
        builderids: [b1, b2],
      });
      await data.buildsets.complete([pair.brids[b1]!, pair.brids[b2]!], Results.SKIPPED);
      expect(await data.buildsets.get(pair.buildsetid)).toMatchObject({
        complete: true,
        results: Results.SUCCESS,
      });
    });

    it('ends a build with its request and buildset in one write, the request only while claimed', async () => {
      const m1 = await data.masters.register('m1');
      const m2 = await data.masters.register('m2');
      const b = await data.builders.ensure('b', null, []);
      const [mine, fenced] = await requests(b, 2);
      expect(await data.buildsets.claimNext(b, 1, m1)).toHaveLength(1);
      expect(await data.buildsets.claimNext(b, 1, m2)).toHaveLength(1);
      const bsOf = async (brid: number) => (await data.buildsets.getRequest(brid))!.buildsetid;
      const start = async (brid: number, m: number) =>
        (
          await data.builds.add({
            builderid: b,
            buildrequestid: brid,
            workerid: null,
            masterid: m,
            state: 'building',
          })
        ).buildid;
      const buildid = await start(mine!, m1);
      now += 1_000;
      await data.buildsets.complete([mine!], Results.WARNINGS, m1, undefined, {
        buildid,
        state: 'build with warnings',
      });
      const keys = events.map((e) => e.key);
      const finished = keys.indexOf(`builds/${buildid}/finished`);
      expect(finished).toBeGreaterThanOrEqual(0);
      expect(keys.indexOf(`buildrequests/${mine}/complete`)).toBeGreaterThan(finished);
      expect(keys).toContain(`buildsets/${await bsOf(mine!)}/complete`);
      expect(await data.builds.get(buildid)).toMatchObject({
        complete: true,
        results: Results.WARNINGS,
        state_string: 'build with warnings',
      });
      expect(await data.buildsets.get(await bsOf(mine!))).toMatchObject({
        complete: true,
        results: Results.WARNINGS,
      });

      // m1 no longer holds the other request's claim: its build ends, the request does not.
      const other = await start(fenced!, m1);
      await data.buildsets.complete([fenced!], Results.SUCCESS, m1, undefined, {
        buildid: other,
        state: 'done',
      });
      expect((await data.builds.get(other))?.complete).toBe(true);
      expect((await data.buildsets.getRequest(fenced!))?.complete).toBe(false);
      expect((await data.buildsets.get(await bsOf(fenced!)))?.complete).toBe(false);

      // Ended already (by recovery, say): stored as it was, its stored row published again.
      events.length = 0;
      await data.buildsets.complete([], Results.FAILURE, m1, undefined, {
        buildid: other,
        state: 'late',
      });
      expect(await data.builds.get(other)).toMatchObject({ results: Results.SUCCESS });
      expect(events.find((e) => e.key === `builds/${other}/finished`)?.message).toMatchObject({
        results: Results.SUCCESS,
        state_string: 'done',
      });
    });

    it('completes a buildset whose requests are completed at the same moment by several masters', async () => {
      const builderids: number[] = [];
      for (let i = 0; i < 3; i++) builderids.push(await data.builders.ensure(`b${i}`, null, []));
      for (let round = 0; round < 10; round++) {
        const { buildsetid, brids } = await data.buildsets.add({
          reason: 'x',
          sourcestamps: [],
          properties: {},
          builderids,
        });
        await Promise.all(
          builderids.map((builderid, i) =>
            data.buildsets.complete(
              [brids[builderid]!],
              i === 1 ? Results.WARNINGS : Results.SUCCESS,
            ),
          ),
        );
        expect(await data.buildsets.get(buildsetid)).toMatchObject({
          complete: true,
          results: Results.WARNINGS,
        });
        const completions = events.filter((e) => e.key === `buildsets/${buildsetid}/complete`);
        expect(completions).toHaveLength(1);
      }
    });

    it('numbers builds started at the same moment one apart, and stores them as they are written', async () => {
      const m = await data.masters.register('m');
      const b = await data.builders.ensure('b', null, []);
      const brids = await requests(b, 5);
      const added = await Promise.all(
        brids.map((brid) =>
          data.builds.add({
            builderid: b,
            buildrequestid: brid,
            workerid: null,
            masterid: m,
            state: 'starting',
          }),
        ),
      );
      expect(added.map((a) => a.number).sort()).toEqual([1, 2, 3, 4, 5]);
      const buildid = added[0]!.buildid;
      await data.builds.setState(buildid, 'building');
      now += 5_000;
      await data.builds.finish(buildid, Results.WARNINGS, 'done');
      const finished = events.filter((e) => e.key === `builds/${buildid}/finished`);
      expect(finished[0]?.message).toMatchObject({
        buildid,
        complete: true,
        results: Results.WARNINGS,
        state_string: 'done',
        complete_at: Math.floor(now / 1000),
      });
      expect(events.map((e) => e.key)).toContain(`builds/${buildid}/update`);
    });

    it('stores properties by name, replacing what a later write changes', async () => {
      const buildid = await newBuild('s');
      await data.builds.setProperties(buildid, { a: [1, 'x'], b: ['two', 'y'] });
      await data.builds.setProperties(buildid, { b: [{ three: 3 }, 'z'] });
      expect((await data.builds.properties([buildid])).get(buildid)).toEqual({
        a: [1, 'x'],
        b: [{ three: 3 }, 'z'],
      });
    });

    it('adds a started step in one write, with its new and started events', async () => {
      const buildid = await newBuild('s');
      const step = await data.steps.addStarted(buildid, {
        number: 0,
        name: 'compile',
        state: 'compiling',
      });
      expect(step).toMatchObject({
        number: 0,
        name: 'compile',
        buildid,
        state_string: 'compiling',
        started_at: Math.floor(now / 1000),
        complete: false,
      });
      const keys = events.map((e) => e.key);
      const created = events.find((e) => e.key === `steps/${step.stepid}/new`);
      expect(created?.message).toMatchObject({ started_at: null, state_string: 'pending' });
      expect(keys.indexOf(`steps/${step.stepid}/new`)).toBeLessThan(
        keys.indexOf(`steps/${step.stepid}/started`),
      );
      await data.steps.finish(step.stepid, Results.SUCCESS, 'compiled');
      expect(await data.steps.get(step.stepid)).toMatchObject({
        complete: true,
        results: Results.SUCCESS,
        state_string: 'compiled',
      });
    });

    it("starts a step with the previous step's end and the build's new state in one write", async () => {
      const buildid = await newBuild('starting');
      const first = await data.steps.addStarted(buildid, {
        number: 0,
        name: 'worker_preparation',
        state: 'preparing worker',
      });
      now += 2_000;
      events.length = 0;
      const second = await data.steps.addStarted(
        buildid,
        { number: 1, name: 'shell', state: 'running' },
        {
          stepid: first.stepid,
          results: Results.SUCCESS,
          state: 'worker ready',
          build: { buildid, state: 'building' },
        },
      );
      expect(second).toMatchObject({ number: 1, name: 'shell', buildid, complete: false });
      expect(await data.steps.get(first.stepid)).toMatchObject({
        complete: true,
        results: Results.SUCCESS,
        state_string: 'worker ready',
        complete_at: Math.floor(now / 1000),
      });
      expect((await data.builds.get(buildid))?.state_string).toBe('building');
      expect(events.map((e) => e.key)).toEqual([
        `steps/${first.stepid}/finished`,
        `builds/${buildid}/update`,
        `steps/${second.stepid}/new`,
        `steps/${second.stepid}/started`,
      ]);
    });

    it('appends from the line count its writer gives and stores the last lines with the completion', async () => {
      const buildid = await newBuild('s');
      const step = await data.steps.addStarted(buildid, { number: 0, name: 'sh', state: 'run' });
      const logid = await data.logs.add(step.stepid, 'stdio', 's');
      expect(await data.logs.append(logid, 'hcmd\nostart\n', { firstLine: 0 })).toBe(2);
      await data.logs.finish(logid, { text: 'oend\nhexit 0', firstLine: 2 });
      expect(await data.logs.get(logid)).toMatchObject({ num_lines: 4, complete: true });
      expect(await data.logs.contents(logid)).toBe('hcmd\nostart\noend\nhexit 0\n');
      expect(await data.logs.contents(logid, 2, 2)).toBe('oend\n');
      const keys = events.map((e) => e.key).filter((k) => k.startsWith(`logs/${logid}/`));
      expect(keys).toEqual([
        `logs/${logid}/new`,
        `logs/${logid}/append`,
        `logs/${logid}/append`,
        `logs/${logid}/finished`,
      ]);

      const empty = await data.logs.add(step.stepid, 'empty', 's');
      await data.logs.finish(empty, { text: '', firstLine: 0 });
      expect(await data.logs.get(empty)).toMatchObject({ num_lines: 0, complete: true });
    });

    it("stores a step's end with its logs' last lines and completions, in one write", async () => {
      const buildid = await newBuild('s');
      const step = await data.steps.addStarted(buildid, { number: 0, name: 'sh', state: 'run' });
      const stdio = await data.logs.add(step.stepid, 'stdio', 's');
      const quiet = await data.logs.add(step.stepid, 'quiet log', 't');
      await data.logs.append(stdio, 'hcmd\n', { firstLine: 0 });
      events.length = 0;
      now += 2_000;
      await data.steps.finish(step.stepid, Results.FAILURE, 'failed', true, [
        { logid: stdio, text: 'oout\neerr\nhexit 1\n', firstLine: 1 },
        { logid: quiet, text: '', firstLine: 0 },
      ]);
      expect(await data.logs.contents(stdio)).toBe('hcmd\noout\neerr\nhexit 1\n');
      expect(await data.logs.get(stdio)).toMatchObject({ num_lines: 4, complete: true });
      expect(await data.logs.get(quiet)).toMatchObject({ num_lines: 0, complete: true });
      expect(await data.steps.get(step.stepid)).toMatchObject({
        complete: true,
        results: Results.FAILURE,
        state_string: 'failed',
        hidden: true,
        complete_at: Math.floor(now / 1000),
      });
      expect(events.map((e) => e.key)).toEqual([
        `logs/${stdio}/append`,
        `logs/${stdio}/finished`,
        `logs/${quiet}/finished`,
        `steps/${step.stepid}/finished`,
      ]);
      expect(events[1]?.message).toEqual({
        logid: stdio,
        name: 'stdio',
        slug: 'stdio',
        stepid: step.stepid,
        complete: true,
        num_lines: 4,
        type: 's',
      });
      expect(events[3]?.message).toMatchObject({ stepid: step.stepid, hidden: true, results: 2 });
    });

    it("stores step 0's end with the build's new state, in one write", async () => {
      const buildid = await newBuild('starting');
      const step = await data.steps.addStarted(buildid, {
        number: 0,
        name: 'worker_preparation',
        state: 'preparing worker',
      });
      events.length = 0;
      await data.steps.finish(step.stepid, Results.SUCCESS, 'worker ready', false, [], {
        buildid,
        state: 'building',
      });
      expect(await data.steps.get(step.stepid)).toMatchObject({ complete: true, results: 0 });
      expect(events.map((e) => e.key)).toEqual([
        `steps/${step.stepid}/finished`,
        `builds/${buildid}/update`,
      ]);
      expect(events[1]?.message).toMatchObject({
        buildid,
        state_string: 'building',
        complete: false,
        started_at: Math.floor(now / 1000),
      });
      const [stored] = (
        await data.builds.list(
          { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
          { buildid },
        )
      ).items;
      expect(stored?.state_string).toBe('building');
    });
  });
}
