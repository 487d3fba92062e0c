/**
 * The REST response cache through the real HTTP routes and data layer: a cached build list
 * changes as soon as the build's event is delivered, on one master (SQLite, in-process bus)
 * and on a second master that only hears of the build through PostgreSQL (PostgresBus).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { freshPostgresDatabase, makeTempDir, waitFor } from '@yardmaster/testkit';
import { openDatabase, type DatabaseHandle } from '../src/db/connect.js';
import { InProcessBus } from '../src/mq/in-process-bus.js';
import { PostgresBus } from '../src/mq/postgres-bus.js';
import type { Bus, EventKey } from '../src/mq/bus.js';
import { DataApi } from '../src/data/data-api.js';
import { Results } from '../src/results.js';
import type { MasterControl } from '../src/api/control.js';
import { ResponseCache } from '../src/api/response-cache.js';
import { createApiServer } from '../src/api/server.js';

const control: MasterControl = {
  forceSchedulers: () => [],
  configuredSchedulers: () => [],
  force: () => Promise.reject(new Error('not in this test')),
  stopBuild: () => Promise.reject(new Error('not in this test')),
  rebuild: () => Promise.reject(new Error('not in this test')),
};

interface Build {
  buildid: number;
  complete: boolean;
  results: number | null;
  state_string: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function serve(data: DataApi): { app: FastifyInstance; cache: ResponseCache } {
  const cache = new ResponseCache(data.events);
  const app = createApiServer({
    data,
    control,
    log: pino({ level: 'silent' }),
    responseCache: cache,
  });
  closers.push(() => app.close());
  return { app, cache };
}

async function builds(app: FastifyInstance, query = 'limit=50&order=-buildid'): Promise<Build[]> {
  const response = await app.inject({ method: 'GET', url: `/api/v2/builds?${query}` });
  expect(response.statusCode).toBe(200);
  return response.json<{ builds: Build[] }>().builds;
}

async function startBuild(data: DataApi, masterid: number) {
  const builderid = await data.builders.ensure('b', null, []);
  const { brids } = await data.buildsets.add({
    reason: 'test',
    sourcestamps: [],
    properties: {},
    builderids: [builderid],
  });
  return data.builds.add({
    builderid,
    buildrequestid: brids[builderid] ?? 0,
    workerid: null,
    masterid,
    state: 'building',
  });
}

function dataOn(handle: DatabaseHandle, bus: Bus): DataApi {
  return new DataApi({ db: handle.db, bus, now: Date.now });
}

describe('REST response cache', () => {
  it('serves a cached build list until the build changes, then the new one (one master)', async () => {
    const handle = await openDatabase('sqlite:///state.sqlite', await makeTempDir('ym-cache-'));
    closers.push(() => handle.close());
    const data = dataOn(
      handle,
      new InProcessBus((error) => {
        throw error;
      }),
    );
    const masterid = await data.masters.register('m');
    const { app, cache } = serve(data);
    const { buildid } = await startBuild(data, masterid);

    const first = await builds(app);
    expect(first.map((b) => [b.buildid, b.complete])).toEqual([[buildid, false]]);
    expect(await builds(app)).toEqual(first);
    expect(cache.stats.hits).toBe(1); // the second answer came from the cache

    await data.builds.setState(buildid, 'almost done');
    expect((await builds(app))[0]?.state_string).toBe('almost done');

    await data.builds.finish(buildid, Results.SUCCESS, 'build successful');
    const after = await builds(app);
    expect(after[0]).toMatchObject({ buildid, complete: true, results: Results.SUCCESS });

    // A query asking for properties is never cached: they change without an event.
    await builds(app, 'property=*');
    await builds(app, 'property=*');
    expect(cache.size).toBe(1);
    // Bad input is not cached either, and still answers 400.
    for (let i = 0; i < 2; i++) {
      const bad = await app.inject({ method: 'GET', url: '/api/v2/builds?limit=x' });
      expect(bad.statusCode).toBe(400);
    }
  });

  it('a second master serves the new build list once the event reaches it through PostgreSQL', async () => {
    const url = await freshPostgresDatabase();
    const handle = await openDatabase(url, '/tmp', { poolSize: 4 });
    closers.push(() => handle.close());
    const buses = await Promise.all(
      [0, 1].map(async () => {
        const bus = new PostgresBus({ db: handle.db, url, onError: () => undefined });
        await bus.start();
        closers.push(() => bus.close());
        return bus;
      }),
    );
    const [a, b] = [dataOn(handle, buses[0]!), dataOn(handle, buses[1]!)];
    const masterid = await a.masters.register('a');
    const { app, cache } = serve(b); // only master b serves REST here

    const { buildid } = await startBuild(a, masterid);
    await waitFor(async () => (await builds(app)).length === 1);
    expect(await builds(app)).toEqual(await builds(app));
    expect(cache.stats.hits).toBeGreaterThan(0);

    const delivered: string[] = [];
    b.events.subscribe(['builds', '*', '*'], (key: EventKey) => delivered.push(key.join('/')));
    await a.builds.finish(buildid, Results.FAILURE, 'failed');
    await waitFor(() => delivered.includes(`builds/${buildid}/finished`));
    expect((await builds(app))[0]).toMatchObject({
      buildid,
      complete: true,
      results: Results.FAILURE,
    });
  });
});
