/** The Data API v2 read paths (`GET /api/v2/...`), shaped like Buildbot's. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DataApi } from '../data/data-api.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import type { ResultSpec } from '../data/result-spec.js';
import { parseResultSpec, type Query } from './query-options.js';
import { collection, inMemory, single } from './respond.js';
import type { MasterControl } from './control.js';

type Params = Record<string, string>;

function id(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new BadRequestError(`invalid ${what} "${value ?? ''}": expected a number`);
  return Number(value);
}

function spec(request: FastifyRequest): ResultSpec {
  return parseResultSpec(request.query as Query);
}

export function registerRestRoutes(app: FastifyInstance, data: DataApi, control: MasterControl): void {
  const get = (url: string, handler: (params: Params, spec: ResultSpec) => Promise<object>) => {
    app.get(`/api/v2${url}`, async (request) => handler(request.params as Params, spec(request)));
  };

  const builderId = async (idOrName: string): Promise<number> => {
    const builder = await data.builders.get(/^\d+$/.test(idOrName) ? Number(idOrName) : idOrName);
    if (!builder) throw new NotFoundError(`builder "${idOrName}" not found`);
    return builder.builderid;
  };

  app.get('/api/v2', async () => ({
    api_version: 2,
    rootlinks: ['builders', 'builds', 'buildrequests', 'workers', 'buildsets', 'masters', 'forceschedulers', 'steps', 'logs'].map((name) => ({ name })),
  }));

  // builders
  get('/builders', async (_p, s) => {
    const { items, total } = inMemory(await data.builders.list(), s);
    return collection('builders', items, s, total);
  });
  get('/builders/:builder', async (p, s) => {
    const key = p.builder ?? '';
    return single('builders', await data.builders.get(/^\d+$/.test(key) ? Number(key) : key), s, `builder "${key}"`);
  });

  // builds
  get('/builds', async (_p, s) => {
    const { items, total } = await data.builds.list(s);
    return collection('builds', items, s, total);
  });
  get('/builds/:buildid', async (p, s) => {
    const buildid = id(p.buildid, 'build id');
    const build = (await data.builds.list({ ...s, filters: [{ field: 'buildid', op: 'eq', values: [buildid] }] })).items[0];
    return single('builds', build, s, `build ${buildid}`);
  });
  get('/builders/:builder/builds', async (p, s) => {
    const { items, total } = await data.builds.list(s, { builderid: await builderId(p.builder ?? '') });
    return collection('builds', items, s, total);
  });
  get('/builders/:builder/builds/:number', async (p, s) => {
    const { items } = await data.builds.list(s, { builderid: await builderId(p.builder ?? ''), number: id(p.number, 'build number') });
    return single('builds', items[0], s, `build ${p.builder ?? ''}/${p.number ?? ''}`);
  });
  get('/buildrequests/:brid/builds', async (p, s) => {
    const { items, total } = await data.builds.list(s, { buildrequestid: id(p.brid, 'build request id') });
    return collection('builds', items, s, total);
  });

  // steps
  const buildIdOf = async (p: Params): Promise<number> => {
    if (p.buildid !== undefined) return id(p.buildid, 'build id');
    const { items } = await data.builds.list(
      { filters: [], order: [], limit: 1, offset: 0, fields: null, properties: [] },
      { builderid: await builderId(p.builder ?? ''), number: id(p.number, 'build number') },
    );
    if (!items[0]) throw new NotFoundError(`build ${p.builder ?? ''}/${p.number ?? ''} not found`);
    return items[0].buildid;
  };
  const stepScope = (key: string | undefined) =>
    key !== undefined && /^\d+$/.test(key) ? { number: Number(key) } : { name: key ?? '' };
  const stepOf = async (p: Params) => {
    if (p.stepid !== undefined) {
      const step = await data.steps.get(id(p.stepid, 'step id'));
      if (!step) throw new NotFoundError(`step ${p.stepid} not found`);
      return step;
    }
    const buildid = await buildIdOf(p);
    const { items } = await data.steps.list(
      { filters: [], order: [], limit: 1, offset: 0, fields: null, properties: [] },
      { buildid, ...stepScope(p.step) },
    );
    if (!items[0]) throw new NotFoundError(`step ${p.step ?? ''} of build ${buildid} not found`);
    return items[0];
  };
  for (const prefix of ['/builds/:buildid', '/builders/:builder/builds/:number']) {
    get(`${prefix}/steps`, async (p, s) => {
      const { items, total } = await data.steps.list(s, { buildid: await buildIdOf(p) });
      return collection('steps', items, s, total);
    });
    get(`${prefix}/steps/:step`, async (p, s) => single('steps', await stepOf(p), s, 'step'));
    get(`${prefix}/steps/:step/logs`, async (p, s) => {
      const { items, total } = inMemory(await data.logs.list((await stepOf(p)).stepid), s);
      return collection('logs', items, s, total);
    });
  }
  get('/steps/:stepid', async (p, s) => single('steps', await stepOf(p), s, `step ${p.stepid ?? ''}`));
  get('/steps/:stepid/logs', async (p, s) => {
    const { items, total } = inMemory(await data.logs.list(id(p.stepid, 'step id')), s);
    return collection('logs', items, s, total);
  });

  // logs
  const logOf = async (p: Params) => {
    if (p.logid !== undefined) {
      const log = await data.logs.get(id(p.logid, 'log id'));
      if (!log) throw new NotFoundError(`log ${p.logid} not found`);
      return log;
    }
    const step = await stepOf(p);
    const log = (await data.logs.list(step.stepid, p.slug ?? ''))[0];
    if (!log) throw new NotFoundError(`log "${p.slug ?? ''}" of step ${step.stepid} not found`);
    return log;
  };
  const logPrefixes = ['/logs/:logid', '/steps/:stepid/logs/:slug', '/builds/:buildid/steps/:step/logs/:slug', '/builders/:builder/builds/:number/steps/:step/logs/:slug'];
  for (const prefix of logPrefixes) {
    get(prefix, async (p, s) => single('logs', await logOf(p), s, 'log'));
    app.get(`/api/v2${prefix}/contents`, async (request) => {
      const p = request.params as Params;
      const q = request.query as Query;
      const log = await logOf(p);
      const first = q.offset === undefined ? 0 : id(String(q.offset), 'offset');
      const limit = q.limit === undefined ? null : id(String(q.limit), 'limit');
      const last = limit === null ? Number.MAX_SAFE_INTEGER : first + limit - 1;
      const content = await data.logs.contents(log.logid, first, last);
      return { logchunks: [{ logid: log.logid, firstline: first, content }], meta: {} };
    });
    app.get(`/api/v2${prefix}/raw`, async (request, reply) => {
      const log = await logOf(request.params as Params);
      void reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename=${log.slug}`);
      const { Readable } = await import('node:stream');
      return reply.send(Readable.from(data.logs.raw(log.logid, log.type)));
    });
  }

  // build requests and buildsets
  get('/buildrequests', async (_p, s) => {
    const { items, total } = await data.buildsets.listRequests(s);
    return collection('buildrequests', items, s, total);
  });
  get('/buildrequests/:brid', async (p, s) =>
    single('buildrequests', await data.buildsets.getRequest(id(p.brid, 'build request id')), s, `build request ${p.brid ?? ''}`),
  );
  get('/builders/:builder/buildrequests', async (p, s) => {
    const { items, total } = await data.buildsets.listRequests(s, { builderid: await builderId(p.builder ?? '') });
    return collection('buildrequests', items, s, total);
  });
  get('/buildsets', async (_p, s) => {
    const items = await data.buildsets.list({ ...s, filters: [] });
    return collection('buildsets', inMemory(items, { ...s, order: [], limit: null, offset: 0 }).items, s);
  });
  get('/buildsets/:bsid', async (p, s) => single('buildsets', await data.buildsets.get(id(p.bsid, 'buildset id')), s, `buildset ${p.bsid ?? ''}`));

  // workers and masters
  get('/workers', async (_p, s) => {
    const { items, total } = inMemory(await data.workers.list(), s);
    return collection('workers', items, s, total);
  });
  get('/workers/:worker', async (p, s) => {
    const key = p.worker ?? '';
    return single('workers', await data.workers.get(/^\d+$/.test(key) ? Number(key) : key), s, `worker "${key}"`);
  });
  get('/builders/:builder/workers', async (p, s) => {
    const builderid = await builderId(p.builder ?? '');
    const all = (await data.workers.list()).filter((w) => w.configured_on.some((c) => c.builderid === builderid));
    const { items, total } = inMemory(all, s);
    return collection('workers', items, s, total);
  });
  get('/masters', async (_p, s) => {
    const { items, total } = inMemory(await data.masters.list(), s);
    return collection('masters', items, s, total);
  });
  get('/masters/:masterid', async (p, s) => single('masters', await data.masters.get(id(p.masterid, 'master id')), s, `master ${p.masterid ?? ''}`));

  // force schedulers (descriptions)
  get('/forceschedulers', async (_p, s) => {
    const { items, total } = inMemory(control.forceSchedulers(), s);
    return collection('forceschedulers', items, s, total);
  });
  get('/forceschedulers/:name', async (p, s) =>
    single('forceschedulers', control.forceSchedulers().find((f) => f.name === p.name), s, `force scheduler "${p.name ?? ''}"`),
  );
}
