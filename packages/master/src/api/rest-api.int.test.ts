/**
 * Contract tests of the Data API v2 against a real master and a real worker: every path,
 * the shapes and keys Buildbot 3.7 serves, meta.total, field selection, order, paging, each
 * filter operator, property=*, 404s for unknown paths, 400s for bad query options, and the
 * JSON-RPC control calls (force, stop, rebuild) with good and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpJson, waitFor } from '@yardmaster/testkit';
import { startApiFixture, type ApiFixture } from '../../test/api-fixture.js';

type Entity = Record<string, unknown>;
type Body = Record<string, unknown> & { meta: { total?: number } };

const SUCCESS = 0;
const FAILURE = 2;
const CANCELLED = 6;

const BUILD_KEYS = [
  'builderid',
  'buildid',
  'buildrequestid',
  'complete',
  'complete_at',
  'masterid',
  'number',
  'properties',
  'results',
  'started_at',
  'state_string',
  'workerid',
];
const BUILDREQUEST_KEYS = [
  'builderid',
  'buildrequestid',
  'buildsetid',
  'claimed',
  'claimed_at',
  'claimed_by_masterid',
  'complete',
  'complete_at',
  'priority',
  'properties',
  'results',
  'submitted_at',
  'waited_for',
];
const STEP_KEYS = [
  'buildid',
  'complete',
  'complete_at',
  'hidden',
  'name',
  'number',
  'results',
  'started_at',
  'state_string',
  'stepid',
  'urls',
];
const LOG_KEYS = ['complete', 'logid', 'name', 'num_lines', 'slug', 'stepid', 'type'];
const SOURCESTAMP_KEYS = [
  'branch',
  'codebase',
  'created_at',
  'patch',
  'project',
  'repository',
  'revision',
  'ssid',
];

const keys = (o: unknown) => Object.keys(o as object).sort();

describe('REST API v2 against a real master and worker', () => {
  let f: ApiFixture;
  /** Build requests and builds made in beforeAll: three noop (SUCCESS), one logs (FAILURE). */
  const noop: { brid: number; build: Entity }[] = [];
  let logsBuild: Entity;
  let logsBrid: number;

  const list = async (pathname: string): Promise<Body> => f.ok<Body>(`/api/v2${pathname}`);
  const items = async (pathname: string, plural: string): Promise<Entity[]> =>
    (await list(pathname))[plural] as Entity[];
  const ids = async (pathname: string, plural: string, id: string) =>
    (await items(pathname, plural)).map((e) => e[id]);
  const bad = async (pathname: string) => {
    const r = await f.get<{ error: { code: string; message: string } }>(`/api/v2${pathname}`);
    expect(r.status, `${pathname}: ${r.text}`).toBe(400);
    expect(r.json.error.code).toBe('invalid_query');
    return r.json.error.message;
  };
  const notFound = async (pathname: string) => {
    const r = await f.get<{ error: { code: string; message: string } }>(`/api/v2${pathname}`);
    expect(r.status, `${pathname}: ${r.text}`).toBe(404);
    expect(r.json.error.code).toBe('not_found');
    return r.json.error.message;
  };

  beforeAll(async () => {
    f = await startApiFixture();
    for (let i = 0; i < 3; i++) {
      const brid = await f.force('noop', { reason: `noop ${i}` });
      noop.push({ brid, build: await f.buildOf(brid) });
    }
    logsBrid = await f.force('logs', { flavour: 'chocolate' });
    logsBuild = await f.buildOf(logsBrid);
  }, 60_000);

  afterAll(async () => {
    await f?.stop();
  });

  it('seeds real builds: noop succeeds, logs fails on its second step', () => {
    expect(noop.map((n) => n.build.results)).toEqual([SUCCESS, SUCCESS, SUCCESS]);
    expect(logsBuild.results).toBe(FAILURE);
  });

  describe('envelope and root', () => {
    it('lists the root links in Buildbot order, with meta.total', async () => {
      for (const root of ['/api/v2', '/api/v2/']) {
        const r = await httpJson<Body>('GET', `${f.base}${root}`);
        expect(r.status).toBe(200);
        expect(r.json.rootlinks).toEqual(
          [
            'builders',
            'builds',
            'buildrequests',
            'workers',
            'logchunks',
            'buildsets',
            'changes',
            'changesources',
            'masters',
            'sourcestamps',
            'schedulers',
            'forceschedulers',
          ].map((name) => ({ name })),
        );
        expect(r.json.meta).toEqual({ total: 12 });
      }
    });

    it('answers compact JSON with sorted keys and application/json', async () => {
      const r = await f.get('/api/v2/builders?name=noop');
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(r.text).not.toMatch(/\n|": /);
      const head = await fetch(`${f.base}/api/v2/builders`, {
        method: 'HEAD',
        headers: { connection: 'close' },
      });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      expect(r.text).toBe(
        `{"builders":[{"builderid":${f.builderIds.noop},"description":"does nothing","masterids":[${f.master.masterid}],` +
          `"name":"noop","tags":["fast","tiny"]}],"meta":{"total":1}}`,
      );
    });

    it('gives a single entity as a one-element list with empty meta', async () => {
      const body = await list(`/builds/${String(noop[0]?.build.buildid)}`);
      expect(body.meta).toEqual({});
      expect(body.builds).toHaveLength(1);
    });

    it('answers an unknown path with 404 "Invalid path"', async () => {
      expect(await notFound('/nope')).toBe('Invalid path: nope');
      expect(await notFound('/builders/1/nope')).toBe('Invalid path: builders/1/nope');
      expect(await notFound('/builds/abc')).toBe('Invalid path: builds/abc');
      expect(await notFound('/builders/')).toBe('Invalid path: builders/');
      expect(await notFound('/logs')).toBe('Invalid path: logs');
      const r = await f.get<{ error: { code: string; message: string } }>(
        '/api/v2/nope/deeper?limit=1',
      );
      expect(r.json).toEqual({
        error: { code: 'not_found', message: 'Invalid path: nope/deeper' },
      });
    });
  });

  describe('query options', () => {
    it('meta.total counts every match before limit and offset', async () => {
      const all = await list('/builds');
      expect(all.meta.total).toBe(4);
      const page = await list('/builds?limit=1&order=-buildid');
      expect(page.meta.total).toBe(4);
      expect((page.builds as Entity[]).map((b) => b.buildid)).toEqual([logsBuild.buildid]);
      const offset = await list('/builds?limit=2&offset=1&order=buildid');
      expect((offset.builds as Entity[]).map((b) => b.buildid)).toEqual([
        noop[1]?.build.buildid,
        noop[2]?.build.buildid,
      ]);
      expect(offset.meta.total).toBe(4);
      expect((await list('/builds?offset=3')).builds).toHaveLength(1);
      expect((await list('/builds?limit=0')).builds).toEqual([]);
      expect(
        (await list('/builds?builderid=' + String(f.builderIds.noop) + '&limit=1')).meta.total,
      ).toBe(3);
    });

    it('selects fields with repeated field=', async () => {
      const builds = await items('/builds?field=buildid&field=results&order=buildid', 'builds');
      expect(builds.map(keys)).toEqual(Array(4).fill(['buildid', 'results']));
      expect(builds[3]).toEqual({ buildid: logsBuild.buildid, results: FAILURE });
      // Buildbot refuses to filter or order on unselected fields; we allow it (decision 0005).
      const filtered = await items(
        `/buildrequests?buildrequestid__ge=${noop[1]?.brid}&complete=true&field=buildrequestid`,
        'buildrequests',
      );
      expect(filtered).toEqual([
        { buildrequestid: noop[1]?.brid },
        { buildrequestid: noop[2]?.brid },
        { buildrequestid: logsBrid },
      ]);
    });

    it('orders by one or more fields, descending with "-"', async () => {
      const all = noop.map((n) => n.build.buildid).concat([logsBuild.buildid]);
      expect(await ids('/builds?order=-buildid', 'builds', 'buildid')).toEqual([...all].reverse());
      expect(await ids('/builds?order=results&order=-buildid', 'builds', 'buildid')).toEqual([
        noop[2]?.build.buildid,
        noop[1]?.build.buildid,
        noop[0]?.build.buildid,
        logsBuild.buildid,
      ]);
      expect(await ids('/builders?order=-name', 'builders', 'name')).toEqual([
        'sleepy',
        'noop',
        'logs',
      ]);
    });

    it('filters with each operator', async () => {
      const [a, b, c] = noop.map((n) => n.build.buildid as number);
      const l = logsBuild.buildid as number;
      const q = (filter: string) => ids(`/builds?${filter}&order=buildid`, 'builds', 'buildid');
      expect(await q(`buildid=${b}`)).toEqual([b]);
      expect(await q(`buildid=${a}&buildid=${c}`)).toEqual([a, c]);
      expect(await q(`buildid__eq=${b}`)).toEqual([b]);
      expect(await q(`buildid__ne=${b}`)).toEqual([a, c, l]);
      expect(await q(`buildid__ne=${a}&buildid__ne=${b}`)).toEqual([c, l]);
      expect(await q(`buildid__lt=${b}`)).toEqual([a]);
      expect(await q(`buildid__le=${b}`)).toEqual([a, b]);
      expect(await q(`buildid__gt=${b}`)).toEqual([c, l]);
      expect(await q(`buildid__ge=${b}`)).toEqual([b, c, l]);
      expect(await q(`buildid__in=${a}&buildid__in=${l}`)).toEqual([a, l]);
      expect(await q(`buildid__in=${a}`)).toEqual([a]);
      expect(await q(`buildid__notin=${a}&buildid__notin=${l}`)).toEqual([b, c]);
      expect(await q(`state_string__contains=fail`)).toEqual([l]);
      expect(await q(`complete=true`)).toEqual([a, b, c, l]);
      expect(await q(`complete=false`)).toEqual([]);
      expect(await q(`results__ne=0`)).toEqual([l]);
      const started = logsBuild.started_at as number;
      expect(await q(`started_at__le=${started}`)).toContain(l);
      expect(await q(`started_at__gt=${started}`)).toEqual([]);
      // In memory (builders): list fields match `contains` by element.
      expect(await ids('/builders?tags__contains=fast', 'builders', 'name')).toEqual(['noop']);
      expect(
        await ids('/builders?name__in=noop&name__in=logs&order=name', 'builders', 'name'),
      ).toEqual(['logs', 'noop']);
      expect(await ids('/builders?name__ne=noop&order=name', 'builders', 'name')).toEqual([
        'logs',
        'sleepy',
      ]);
      expect(await ids('/builders?builderid__gt=0&name__contains=ee', 'builders', 'name')).toEqual([
        'sleepy',
      ]);
      expect(await ids('/workers?paused=false&name__notin=w2', 'workers', 'name')).toEqual(['w1']);
    });

    it('returns properties only when asked: property=* or by name', async () => {
      const id = String(logsBuild.buildid);
      expect((await items(`/builds/${id}`, 'builds'))[0]?.properties).toEqual({});
      const all = (await items(`/builds/${id}?property=*`, 'builds'))[0]?.properties as Record<
        string,
        [unknown, string]
      >;
      expect(all.flavour).toEqual(['chocolate', 'Force Build Form']);
      expect(all.buildername?.[0]).toBe('logs');
      const some = (
        await items(`/builds?buildid=${id}&property=flavour&property=nope`, 'builds')
      )[0]?.properties;
      expect(some).toEqual({ flavour: ['chocolate', 'Force Build Form'] });
      const requests = await items(
        `/buildrequests?buildrequestid=${logsBrid}&property=*`,
        'buildrequests',
      );
      expect((requests[0]?.properties as Record<string, unknown>).flavour).toEqual([
        'chocolate',
        'Force Build Form',
      ]);
      expect(
        (await items(`/buildrequests/${logsBrid}`, 'buildrequests'))[0]?.properties,
      ).toBeNull();
      expect(
        (await items(`/buildrequests/${logsBrid}?property=nope`, 'buildrequests'))[0]?.properties,
      ).toBeNull();
    });

    it('refuses bad query options with 400 naming the option', async () => {
      expect(await bad('/builds?field=nope')).toMatch(
        /field "nope".*builds have no field "nope".*buildid/,
      );
      expect(await bad('/builds?order=-nope')).toMatch(/order "-nope"/);
      expect(await bad('/builds?order=properties')).toMatch(/order "properties"/);
      expect(await bad('/builds?nope=1')).toMatch(/unrecognized query parameter "nope"/);
      expect(await bad('/builds?nope__eq=1')).toMatch(/"nope__eq".*builds/);
      expect(await bad('/builds?buildid__like=1')).toMatch(
        /"buildid__like": unknown operator "like"/,
      );
      expect(await bad('/builds?limit=abc')).toMatch(/limit "abc"/);
      expect(await bad('/builds?limit=-1')).toMatch(/limit "-1"/);
      expect(await bad('/builds?offset=x')).toMatch(/offset "x"/);
      expect(await bad('/builds?buildid=abc')).toMatch(/"buildid".*"abc" is not an integer/);
      expect(await bad('/builds?complete=maybe')).toMatch(/"complete".*not a boolean/);
      expect(await bad('/builds?started_at__gt=yesterday')).toMatch(/"started_at__gt".*epoch time/);
      expect(await bad('/builds?buildid__lt=1&buildid__lt=2')).toMatch(
        /"buildid__lt": lt compares with one value/,
      );
      expect(await bad('/builds?properties=x')).toMatch(/"properties".*cannot be filtered/);
      expect(await bad(`/builds/${String(logsBuild.buildid)}?results=0`)).toMatch(
        /single build, not a collection/,
      );
      expect(await bad('/builders?field=nope')).toMatch(/builders have no field "nope"/);
      expect(await bad('/workers?order=connected_to')).toMatch(/order "connected_to"/);
      expect(await bad('/logs/1/contents?limit=x')).toMatch(/limit "x"/);
    });
  });

  describe('builders', () => {
    it('lists builders with Buildbot keys, by id and by name', async () => {
      const body = await list('/builders');
      expect(body.meta.total).toBe(3);
      const builders = body.builders as Entity[];
      expect(builders.map(keys)).toEqual(
        Array(3).fill(['builderid', 'description', 'masterids', 'name', 'tags']),
      );
      const id = f.builderIds.noop ?? 0;
      expect(await items(`/builders/${id}`, 'builders')).toEqual(
        await items('/builders/noop', 'builders'),
      );
      expect(await items(`/masters/${f.master.masterid}/builders/${id}`, 'builders')).toEqual(
        await items('/builders/noop', 'builders'),
      );
      expect((await list(`/masters/${f.master.masterid}/builders`)).meta.total).toBe(3);
      expect(await notFound('/builders/nope')).toMatch(/builder "nope" not found/);
      expect(await notFound('/builders/9999')).toMatch(/builder 9999 not found/);
    });
  });

  describe('builds', () => {
    it('have exactly Buildbot keys', async () => {
      const builds = await items('/builds', 'builds');
      expect(builds.map(keys)).toEqual(Array(4).fill(BUILD_KEYS));
      const b = builds[3] as Entity;
      expect(b).toMatchObject({
        builderid: f.builderIds.logs,
        buildrequestid: logsBrid,
        complete: true,
        masterid: f.master.masterid,
        number: 1,
        results: FAILURE,
        properties: {},
      });
      expect(Number.isInteger(b.started_at) && (b.started_at as number) < 1e11).toBe(true);
      expect(b.complete_at as number).toBeGreaterThanOrEqual(b.started_at as number);
    });

    it('are reachable by every Buildbot path', async () => {
      const id = logsBuild.buildid as number;
      const expected = await items(`/builds/${id}`, 'builds');
      expect(expected).toHaveLength(1);
      expect(await items(`/builders/${f.builderIds.logs}/builds/1`, 'builds')).toEqual(expected);
      expect(await items('/builders/logs/builds/1', 'builds')).toEqual(expected);
      expect(await items('/builders/logs/builds', 'builds')).toEqual(expected);
      expect(await items(`/buildrequests/${logsBrid}/builds`, 'builds')).toEqual(expected);
      const workerid = logsBuild.workerid as number;
      expect((await list(`/workers/${workerid}/builds`)).meta.total).toBe(4);
      expect(await ids('/builders/noop/builds?order=-number', 'builds', 'number')).toEqual([
        3, 2, 1,
      ]);
      expect(await list('/builders/nope/builds')).toEqual({ builds: [], meta: { total: 0 } });
      expect(await list('/changes/1/builds')).toEqual({ builds: [], meta: { total: 0 } });
      expect(await notFound('/builds/999999')).toMatch(/build 999999 not found/);
      expect(await notFound('/builders/logs/builds/7')).toMatch(
        /build 7 of builder "logs" not found/,
      );
    });

    it('expose their properties at /properties', async () => {
      const body = await list(`/builds/${String(logsBuild.buildid)}/properties`);
      expect(body.meta).toEqual({});
      const [props] = body.properties as Record<string, [unknown, string]>[];
      expect(props?.flavour).toEqual(['chocolate', 'Force Build Form']);
      expect(await items('/builders/logs/builds/1/properties', 'properties')).toEqual(
        body.properties,
      );
      expect(await notFound('/builds/999999/properties')).toMatch(/build 999999 not found/);
    });
  });

  describe('build requests, buildsets, source stamps', () => {
    it('build requests have Buildbot keys and filters', async () => {
      const body = await list('/buildrequests');
      expect(body.meta.total).toBe(4);
      const requests = body.buildrequests as Entity[];
      expect(requests.map(keys)).toEqual(Array(4).fill(BUILDREQUEST_KEYS));
      expect(requests[3]).toMatchObject({
        buildrequestid: logsBrid,
        builderid: f.builderIds.logs,
        claimed: true,
        claimed_by_masterid: f.master.masterid,
        complete: true,
        results: FAILURE,
        priority: 0,
        waited_for: false,
        properties: null,
      });
      expect(
        await ids('/buildrequests?claimed=true&results=2', 'buildrequests', 'buildrequestid'),
      ).toEqual([logsBrid]);
      expect(await ids('/buildrequests?claimed=false', 'buildrequests', 'buildrequestid')).toEqual(
        [],
      );
      expect(
        await ids(
          `/builders/${f.builderIds.logs}/buildrequests`,
          'buildrequests',
          'buildrequestid',
        ),
      ).toEqual([logsBrid]);
      expect(
        await ids(
          '/builders/noop/buildrequests?order=-buildrequestid&limit=1',
          'buildrequests',
          'buildrequestid',
        ),
      ).toEqual([noop[2]?.brid]);
      expect(await items(`/buildrequests/${logsBrid}`, 'buildrequests')).toEqual([requests[3]]);
      expect(await notFound('/buildrequests/999999')).toMatch(/build request 999999 not found/);
    });

    it('buildsets carry their source stamps', async () => {
      const body = await list('/buildsets?order=-bsid&limit=1');
      expect(body.meta.total).toBe(4);
      const [bs] = body.buildsets as Entity[];
      expect(keys(bs)).toEqual([
        'bsid',
        'complete',
        'complete_at',
        'external_idstring',
        'parent_buildid',
        'parent_relationship',
        'reason',
        'results',
        'sourcestamps',
        'submitted_at',
      ]);
      expect(bs).toMatchObject({ complete: true, results: FAILURE, parent_buildid: null });
      expect(bs?.reason).toMatch(/forced/);
      const stamps = bs?.sourcestamps as Entity[];
      expect(stamps.map(keys)).toEqual([SOURCESTAMP_KEYS]);
      expect(await items(`/buildsets/${String(bs?.bsid)}`, 'buildsets')).toEqual([bs]);
      expect(await ids('/buildsets?results=0', 'buildsets', 'bsid')).toHaveLength(3);
      const props = await items(`/buildsets/${String(bs?.bsid)}/properties`, 'properties');
      expect((props[0] as Record<string, unknown>).flavour).toEqual([
        'chocolate',
        'Force Build Form',
      ]);
      expect(await notFound('/buildsets/999999')).toMatch(/buildset 999999 not found/);
    });

    it('source stamps are listed and found by id', async () => {
      const body = await list('/sourcestamps');
      expect(body.meta.total).toBe(4);
      const stamps = body.sourcestamps as Entity[];
      expect(stamps.map(keys)).toEqual(Array(4).fill(SOURCESTAMP_KEYS));
      expect(await items(`/sourcestamps/${String(stamps[0]?.ssid)}`, 'sourcestamps')).toEqual([
        stamps[0],
      ]);
      expect(await list(`/sourcestamps/${String(stamps[0]?.ssid)}/changes`)).toEqual({
        changes: [],
        meta: { total: 0 },
      });
      expect(await notFound('/sourcestamps/999999')).toMatch(/source stamp 999999 not found/);
    });
  });

  describe('steps and logs', () => {
    it('lists steps with Buildbot keys, by number and by name', async () => {
      const id = String(logsBuild.buildid);
      const body = await list(`/builds/${id}/steps`);
      expect(body.meta.total).toBe(3);
      const steps = body.steps as Entity[];
      expect(steps.map(keys)).toEqual(Array(3).fill(STEP_KEYS));
      expect(steps.map((s) => [s.number, s.name, s.results])).toEqual([
        [0, 'worker_preparation', SUCCESS],
        [1, 'print', SUCCESS],
        [2, 'fail', FAILURE],
      ]);
      const print = [steps[1]];
      expect(await items(`/builds/${id}/steps/1`, 'steps')).toEqual(print);
      expect(await items(`/builds/${id}/steps/print`, 'steps')).toEqual(print);
      expect(await items(`/steps/${String(steps[1]?.stepid)}`, 'steps')).toEqual(print);
      expect(await items('/builders/logs/builds/1/steps/print', 'steps')).toEqual(print);
      expect(await items(`/builders/${f.builderIds.logs}/builds/1/steps/1`, 'steps')).toEqual(
        print,
      );
      expect(await items('/builders/logs/builds/1/steps?results=2', 'steps')).toEqual([steps[2]]);
      expect(await notFound(`/builds/${id}/steps/9`)).toMatch(/step 9 of build \d+ not found/);
      expect(await notFound(`/builds/${id}/steps/nope`)).toMatch(
        /step "nope" of build \d+ not found/,
      );
      expect(await notFound('/builds/999999/steps')).toMatch(/build 999999 not found/);
      expect(await notFound('/steps/999999')).toMatch(/step 999999 not found/);
    });

    it('lists logs and reads their contents and raw text by every path', async () => {
      const id = String(logsBuild.buildid);
      const body = await list(`/builds/${id}/steps/1/logs`);
      expect(body.meta.total).toBe(1);
      const [log] = body.logs as Entity[];
      expect(keys(log)).toEqual(LOG_KEYS);
      expect(log).toMatchObject({ name: 'stdio', slug: 'stdio', type: 's', complete: true });
      const logid = String(log?.logid);
      const stepid = String(log?.stepid);
      const paths = [
        `/logs/${logid}`,
        `/steps/${stepid}/logs/stdio`,
        `/builds/${id}/steps/1/logs/stdio`,
        `/builds/${id}/steps/print/logs/stdio`,
        `/builders/logs/builds/1/steps/1/logs/stdio`,
        `/builders/${f.builderIds.logs}/builds/1/steps/print/logs/stdio`,
      ];
      expect(await items(`/steps/${stepid}/logs`, 'logs')).toEqual([log]);
      const contents = await list(`/logs/${logid}/contents`);
      expect(contents.meta).toEqual({});
      const [chunk] = contents.logchunks as { logid: number; firstline: number; content: string }[];
      expect(chunk?.logid).toBe(log?.logid);
      expect(chunk?.firstline).toBe(0);
      expect(chunk?.content).toMatch(/^h/);
      expect(chunk?.content).toContain('oalpha\nobeta\nogamma\n');
      expect(chunk?.content).toContain('eoops\n');
      expect(chunk?.content.split('\n')).toHaveLength((log?.num_lines as number) + 1);
      const raw = await f.get(`/api/v2/logs/${logid}/raw`);
      expect(raw.status).toBe(200);
      expect(raw.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(raw.headers.get('content-disposition')).toBe('attachment; filename=stdio');
      expect(raw.text).toContain('alpha\nbeta\ngamma\n');
      expect(raw.text).toMatch(/program finished with exit code 0/);
      expect(raw.text.endsWith('\n')).toBe(false);
      for (const p of paths) {
        expect(await items(p, 'logs')).toEqual([log]);
        expect(await list(`${p}/contents`)).toEqual(contents);
        expect((await f.get(`/api/v2${p}/raw`)).text).toBe(raw.text);
      }
      const two = await list(`/logs/${logid}/contents?offset=1&limit=2`);
      const lines = chunk?.content.split('\n') ?? [];
      expect(two.logchunks).toEqual([
        { logid: log?.logid, firstline: 1, content: `${lines[1]}\n${lines[2]}\n` },
      ]);
      expect(await items(`/logs/${logid}/contents?field=firstline`, 'logchunks')).toEqual([
        { firstline: 0 },
      ]);
      expect(await notFound(`/logs/${logid}/contents?offset=5000`)).toMatch(
        /lines 5000\.\.\d+ of log \d+ not found/,
      );
      expect(await notFound(`/builds/${id}/steps/1/logs/nope`)).toMatch(
        /log "nope" of step 1 of build \d+ not found/,
      );
      expect(await notFound('/logs/999999/raw')).toMatch(/log 999999 not found/);
      expect(await notFound('/logchunks')).toMatch(/per log/);
    });
  });

  describe('workers, masters, schedulers, changes', () => {
    it('workers show where they are configured and connected', async () => {
      const body = await list('/workers');
      expect(body.meta.total).toBe(2);
      const workers = body.workers as Entity[];
      expect(workers.map(keys)).toEqual(
        Array(2).fill([
          'configured_on',
          'connected_to',
          'graceful',
          'name',
          'paused',
          'workerid',
          'workerinfo',
        ]),
      );
      const [w1, w2] = workers;
      const m = f.master.masterid;
      expect(w1).toMatchObject({
        name: 'w1',
        connected_to: [{ masterid: m }],
        paused: false,
        graceful: false,
      });
      expect(w2).toMatchObject({ name: 'w2', connected_to: [] });
      expect(w1?.configured_on).toEqual(
        expect.arrayContaining([
          { builderid: f.builderIds.noop, masterid: m },
          { builderid: f.builderIds.logs, masterid: m },
        ]),
      );
      expect((w1?.workerinfo as Record<string, unknown>).version).toEqual(expect.any(String));
      expect(await items('/workers/w1', 'workers')).toEqual([w1]);
      expect(await items(`/workers/${String(w2?.workerid)}`, 'workers')).toEqual([w2]);
      expect(await ids('/builders/noop/workers', 'workers', 'name')).toEqual(['w1']);
      expect(await ids(`/builders/${f.builderIds.logs}/workers`, 'workers', 'name')).toEqual([
        'w1',
        'w2',
      ]);
      expect(await ids(`/masters/${m}/workers`, 'workers', 'name')).toEqual(['w1', 'w2']);
      expect(
        await ids(`/masters/${m}/builders/${f.builderIds.noop}/workers`, 'workers', 'name'),
      ).toEqual(['w1']);
      expect(await items('/builders/noop/workers/w1', 'workers')).toEqual([w1]);
      expect(await notFound('/builders/noop/workers/w2')).toMatch(/worker "w2" not found/);
      expect(await notFound('/workers/nobody')).toMatch(/worker "nobody" not found/);
    });

    it('masters, schedulers and force schedulers', async () => {
      const m = f.master.masterid;
      const masters = await items('/masters', 'masters');
      expect(masters.map(keys)).toEqual([['active', 'last_active', 'masterid', 'name']]);
      expect(masters[0]).toMatchObject({ masterid: m, active: true });
      expect(await items(`/masters/${m}`, 'masters')).toEqual(masters);
      expect(await items('/builders/noop/masters', 'masters')).toEqual(masters);
      expect(await items(`/builders/noop/masters/${m}`, 'masters')).toEqual(masters);
      expect(await notFound('/masters/999')).toMatch(/master 999 not found/);

      const schedulers = await list('/schedulers');
      expect(schedulers).toEqual({
        schedulers: [
          { schedulerid: 1, name: 'force', enabled: true, master: masters[0] },
          { schedulerid: 2, name: 'only-noop', enabled: true, master: masters[0] },
        ],
        meta: { total: 2 },
      });
      expect(await ids(`/masters/${m}/schedulers`, 'schedulers', 'name')).toEqual([
        'force',
        'only-noop',
      ]);
      expect(await ids('/schedulers/2', 'schedulers', 'name')).toEqual(['only-noop']);
      expect(await ids(`/masters/${m}/schedulers/1`, 'schedulers', 'name')).toEqual(['force']);
      expect(await notFound('/schedulers/3')).toMatch(/scheduler 3 not found/);

      const force = await items('/forceschedulers', 'forceschedulers');
      expect(force.map(keys)).toEqual(
        Array(2).fill(['all_fields', 'builder_names', 'button_name', 'enabled', 'label', 'name']),
      );
      expect(force[0]).toMatchObject({
        name: 'force',
        builder_names: ['noop', 'logs', 'sleepy'],
        enabled: true,
      });
      expect(await items('/forceschedulers/force', 'forceschedulers')).toEqual([force[0]]);
      expect(await ids('/builders/noop/forceschedulers', 'forceschedulers', 'name')).toEqual([
        'force',
        'only-noop',
      ]);
      expect(await ids('/builders/logs/forceschedulers', 'forceschedulers', 'name')).toEqual([
        'force',
      ]);
      expect(
        await ids('/forceschedulers?builder_names__contains=logs', 'forceschedulers', 'name'),
      ).toEqual(['force']);
      expect(await notFound('/forceschedulers/nope')).toMatch(/force scheduler "nope" not found/);
    });

    it('changes and change sources are empty lists with the right shape', async () => {
      expect(await list('/changes')).toEqual({ changes: [], meta: { total: 0 } });
      expect(await list('/changes?limit=5&order=-changeid&branch=main')).toEqual({
        changes: [],
        meta: { total: 0 },
      });
      expect(await list(`/builds/${String(logsBuild.buildid)}/changes`)).toEqual({
        changes: [],
        meta: { total: 0 },
      });
      expect(await list('/changesources')).toEqual({ changesources: [], meta: { total: 0 } });
      expect(await notFound('/changes/1')).toMatch(/change 1 not found/);
      expect(await bad('/changes?nope=1')).toMatch(/changes/);
    });
  });

  describe('JSON-RPC control', () => {
    const rpcError = (r: { status: number; json: Record<string, unknown> }) =>
      r.json.error as { code: number; message: string };

    it('force answers [buildsetid, {builderid: buildrequestid}]', async () => {
      const r = await f.rpc('/api/v2/forceschedulers/only-noop', 'force', {}, 'abc');
      expect(r.status).toBe(200);
      expect(r.json.id).toBe('abc');
      expect(r.json.jsonrpc).toBe('2.0');
      const [bsid, brids] = r.json.result as [number, Record<string, number>];
      expect(Object.keys(brids)).toEqual([String(f.builderIds.noop)]);
      const brid = brids[String(f.builderIds.noop)] ?? 0;
      expect((await items(`/buildrequests/${brid}`, 'buildrequests'))[0]?.buildsetid).toBe(bsid);
      expect((await f.buildOf(brid)).results).toBe(SUCCESS);
    });

    it('refuses bad force params with 400 and a JSON-RPC error', async () => {
      let r = await f.rpc('/api/v2/forceschedulers/force', 'force', { builderid: 9999 });
      expect(r.status).toBe(400);
      expect(rpcError(r)).toMatchObject({
        code: -32602,
        message: expect.stringMatching(/builderid: 9999/) as unknown,
      });
      r = await f.rpc('/api/v2/forceschedulers/only-noop', 'force', { builderNames: ['logs'] });
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32602);
      r = await f.rpc('/api/v2/forceschedulers/force', 'force', {
        builderid: f.builderIds.noop,
        reason: 5,
      });
      expect(r.status).toBe(400);
      expect(rpcError(r).message).toMatch(/reason/);
      r = await f.rpc('/api/v2/forceschedulers/nope', 'force', {});
      expect(r.status).toBe(404);
      expect(rpcError(r).message).toMatch(/force scheduler "nope" not found/);
      r = await f.rpc('/api/v2/forceschedulers/force', 'explode', {});
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32601);
      r = await f.rpc('/api/v2/forceschedulers/force', 'force', [1, 2]);
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32600);
    });

    it('refuses malformed requests in JSON-RPC shape', async () => {
      const post = (pathname: string, body: string, contentType = 'application/json') =>
        httpJson<Record<string, unknown>>('POST', `${f.base}${pathname}`, body, {
          headers: { 'content-type': contentType },
        });
      let r = await post('/api/v2/forceschedulers/force', '{not json');
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32700);
      r = await post('/api/v2/forceschedulers/force', '');
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32700);
      r = await post(
        '/api/v2/forceschedulers/force',
        '{"jsonrpc":"2.0","method":"force","id":1,"params":{}}',
        'text/plain',
      );
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32600);
      r = await post(
        '/api/v2/forceschedulers/force',
        '[{"jsonrpc":"2.0","method":"force","id":1}]',
      );
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32600);
      r = await post('/api/v2/forceschedulers/force', '{"jsonrpc":"1.0","method":"force","id":1}');
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32600);
      r = await post('/api/v2/nope', '{"jsonrpc":"2.0","method":"force","id":1}');
      expect(r.status).toBe(404);
      expect(r.json).toMatchObject({ jsonrpc: '2.0', error: { message: 'Invalid path: nope' } });
      r = await post('/api/v2/builds/abc', '{"jsonrpc":"2.0","method":"stop","id":1}');
      expect(r.status).toBe(400);
    });

    it('stop cancels a running build; rebuild starts a new one from the same buildset', async () => {
      const brid = await f.force('sleepy');
      const running = await f.buildOf(brid, false);
      await waitFor(
        async () =>
          (
            await f.get(`/api/v2/builds/${String(running.buildid)}/steps/nap/logs/stdio/raw`)
          ).text.includes('napping'),
        { timeoutMs: 15_000, message: 'the nap step to start' },
      );
      let r = await f.rpc(`/api/v2/builds/${String(running.buildid)}`, 'stop', {
        reason: 'enough',
      });
      expect(r.status, r.text).toBe(200);
      expect(r.json.result).toBeNull();
      const stopped = await f.buildOf(brid);
      expect(stopped.results).toBe(CANCELLED);
      r = await f.rpc(`/api/v2/builds/${String(running.buildid)}`, 'stop', {});
      expect(r.status).toBe(200);

      r = await f.rpc(`/api/v2/builds/${String(logsBuild.buildid)}`, 'rebuild', {});
      expect(r.status, r.text).toBe(200);
      const [bsid, brids] = r.json.result as [number, Record<string, number>];
      const newBrid = brids[String(f.builderIds.logs)] ?? 0;
      const rebuilt = await f.buildOf(newBrid);
      expect(rebuilt.results).toBe(FAILURE);
      expect((await items(`/buildsets/${bsid}`, 'buildsets'))[0]?.parent_buildid).toBe(
        logsBuild.buildid,
      );
      const props = (
        await items(`/builds/${String(rebuilt.buildid)}?property=flavour`, 'builds')
      )[0]?.properties;
      expect(props).toEqual({ flavour: ['chocolate', 'Force Build Form'] });

      r = await f.rpc('/api/v2/builds/999999', 'stop', {});
      expect(r.status).toBe(404);
      expect(rpcError(r).message).toMatch(/build 999999 not found/);
      r = await f.rpc(`/api/v2/builds/${String(logsBuild.buildid)}`, 'explode', {});
      expect(r.status).toBe(400);
      expect(rpcError(r).code).toBe(-32601);
    });
  });

  // Not in Buildbot 3.7 (decision 0011): /steps across builds, a build's buildset and logs.
  describe('steps of several builds, a build’s buildset and logs (extensions)', () => {
    const stepIds = async (pathname: string) => ids(pathname, 'steps', 'stepid');
    const stepsOf = async (buildid: unknown) => stepIds(`/builds/${String(buildid)}/steps`);

    it('/steps lists every build’s steps with query options and meta.total', async () => {
      const builds = await ids('/builds?order=buildid', 'builds', 'buildid');
      const every = (await Promise.all(builds.map(stepsOf))).flat();
      const body = await list('/steps');
      expect(body.meta.total).toBe(every.length);
      expect((body.steps as Entity[]).map(keys)).toEqual(Array(every.length).fill(STEP_KEYS));
      // Ordered by stepid: each build's steps in number order.
      expect((body.steps as Entity[]).map((s) => s.stepid)).toEqual(
        [...every].sort((a, b) => Number(a) - Number(b)),
      );

      const page = await list('/steps?order=-stepid&limit=2&offset=1&field=stepid&field=name');
      expect(page.meta.total).toBe(every.length);
      expect((page.steps as Entity[]).map(keys)).toEqual([
        ['name', 'stepid'],
        ['name', 'stepid'],
      ]);
      const descending = [...every].sort((a, b) => Number(b) - Number(a));
      expect((page.steps as Entity[]).map((s) => s.stepid)).toEqual(descending.slice(1, 3));

      const named = await items('/steps?name=fail&field=buildid&order=buildid', 'steps');
      const logsBuilds = await ids('/builders/logs/builds?order=buildid', 'builds', 'buildid');
      expect(named.map((s) => s.buildid)).toEqual(logsBuilds);
      expect(await stepIds('/steps?results=2&complete=true')).toEqual(
        await stepIds('/steps?results__eq=2'),
      );
    });

    it('filters on several builds: buildid__in=a,b, Buildbot’s repeated buildid= and buildid__in=', async () => {
      const a = noop[0]?.build.buildid;
      const l = logsBuild.buildid;
      const both = [...(await stepsOf(a)), ...(await stepsOf(l))];
      expect(both).toHaveLength(5); // noop: worker_preparation, true; logs: + print, fail
      expect(await stepIds(`/steps?buildid__in=${String(a)},${String(l)}`)).toEqual(both);
      expect(await stepIds(`/steps?buildid=${String(a)}&buildid=${String(l)}`)).toEqual(both);
      expect(await stepIds(`/steps?buildid__in=${String(a)}&buildid__in=${String(l)}`)).toEqual(
        both,
      );
      expect((await list(`/steps?buildid__in=${String(l)},${String(a)}&limit=1`)).meta.total).toBe(
        5,
      );
      const notA = await stepIds(`/steps?buildid__notin=${String(a)},999999&limit=1000`);
      expect(notA.filter((id) => both.includes(id))).toEqual(both.slice(2)); // l's, not a's
      expect(await stepIds('/steps?buildid__in=999998,999999')).toEqual([]);
    });

    it('complete=false is the running step of every running build', async () => {
      expect(await list('/steps?complete=false')).toEqual({ steps: [], meta: { total: 0 } });
      const brid = await f.force('sleepy');
      const running = await f.buildOf(brid, false);
      const nap = await waitFor(
        async () =>
          (await items('/steps?complete=false', 'steps')).find(
            (s) => s.name === 'nap' && s.started_at !== null,
          ),
        { timeoutMs: 15_000, message: 'the nap step to start' },
      );
      expect(nap).toMatchObject({ buildid: running.buildid, complete: false, results: null });
      expect(await stepIds('/steps?complete=false')).toEqual([nap.stepid]);
      expect(await stepIds(`/builds/${String(running.buildid)}/steps?complete=false`)).toEqual([
        nap.stepid,
      ]);
      expect(await stepIds('/steps?complete=true&name=nap')).not.toContain(nap.stepid);
      const r = await f.rpc(`/api/v2/builds/${String(running.buildid)}`, 'stop', {});
      expect(r.status, r.text).toBe(200);
      await f.buildOf(brid);
      expect(await stepIds('/steps?complete=false')).toEqual([]);
      expect(await stepIds('/steps?complete=true&name=nap')).toContain(nap.stepid);
    });

    it('refuses bad filters on /steps with 400 naming the option', async () => {
      expect(await bad('/steps?buildid__in=1,x')).toMatch(/"buildid__in".*"x" is not an integer/);
      expect(await bad('/steps?buildid=1,2')).toMatch(/"buildid".*"1,2" is not an integer/);
      expect(await bad('/steps?complete=maybe')).toMatch(/"complete".*not a boolean/);
      expect(await bad('/steps?urls=x')).toMatch(/"urls".*cannot be filtered/);
      expect(await bad('/steps?build=1')).toMatch(/unrecognized query parameter "build".*steps/);
      expect(await bad('/steps?buildid__within=1')).toMatch(/unknown operator "within"/);
      expect(await bad('/steps?order=-nope')).toMatch(/steps have no field "nope"/);
      expect(await bad('/steps?limit=-1')).toMatch(/limit "-1"/);
    });

    it('a build’s buildset, by every build path', async () => {
      const request = (await items(`/buildrequests/${logsBrid}`, 'buildrequests'))[0];
      const bs = await items(`/buildsets/${String(request?.buildsetid)}`, 'buildsets');
      expect(bs).toHaveLength(1);
      expect(await items('/builders/logs/builds/1/buildset', 'buildsets')).toEqual(bs);
      expect(await items(`/builders/${f.builderIds.logs}/builds/1/buildset`, 'buildsets')).toEqual(
        bs,
      );
      const body = await list(`/builds/${String(logsBuild.buildid)}/buildset?field=reason`);
      expect(body).toEqual({ buildsets: [{ reason: bs[0]?.reason }], meta: {} });
      expect(await notFound('/builders/logs/builds/999/buildset')).toMatch(
        /build 999 of builder "logs" not found/,
      );
      expect(await bad(`/builds/${String(logsBuild.buildid)}/buildset?bsid=1`)).toMatch(
        /single buildset, not a collection/,
      );
    });

    it('a build’s logs, every step’s, by every build path', async () => {
      const id = String(logsBuild.buildid);
      const steps = await items(`/builds/${id}/steps`, 'steps');
      const perStep = (
        await Promise.all(steps.map((s) => items(`/steps/${String(s.stepid)}/logs`, 'logs')))
      ).flat();
      expect(perStep.length).toBeGreaterThan(1);
      const body = await list(`/builds/${id}/logs`);
      expect(body.meta.total).toBe(perStep.length);
      expect(body.logs).toEqual(perStep);
      expect(await items('/builders/logs/builds/1/logs', 'logs')).toEqual(perStep);
      const print = steps.find((s) => s.name === 'print');
      expect(
        await items(`/builders/logs/builds/1/logs?stepid=${String(print?.stepid)}`, 'logs'),
      ).toEqual(perStep.filter((l) => l.stepid === print?.stepid));
      expect(await ids(`/builds/${id}/logs?slug=nope`, 'logs', 'logid')).toEqual([]);
      expect(await notFound('/builds/999999/logs')).toMatch(/build 999999 not found/);
      expect(await bad(`/builds/${id}/logs?num_lines=many`)).toMatch(
        /"num_lines".*"many" is not an integer/,
      );
    });
  });
});
