/**
 * The Data API v2 read paths (`GET /api/v2/...`), shaped like Buildbot 3.7's
 * (`buildbot/data/*.py`): every path of Buildbot's endpoints for builders, builds, build
 * requests, buildsets, workers, steps, logs (with `/contents` and `/raw`), changes, change
 * sources, masters, schedulers, force schedulers, source stamps and properties. Beyond
 * Buildbot (decision 0011, so a page needs one round of requests): `/steps` across builds,
 * and a build's `/buildset` and `/logs` under every build path.
 *
 * One Fastify route takes `/api/v2/*`; a PathRouter picks the endpoint, whose resource
 * type checks the query options; the DB-backed collections filter, order and page in SQL
 * (one query for the page and one for `meta.total`), the small ones in memory. An unknown
 * path is a 404 "Invalid path: ..."; a bad query option a 400 naming it.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataApi } from '../data/data-api.js';
import type { BuilderEntity } from '../data/builders.js';
import type { BuildEntity } from '../data/builds.js';
import type { StepEntity } from '../data/steps.js';
import type { LogEntity } from '../data/logs.js';
import type { WorkerEntity } from '../data/workers.js';
import { EMPTY_SPEC, type ResultSpec } from '../data/result-spec.js';
import { NotFoundError } from '../errors.js';
import { ENTITY_TYPES, ROOT_LINKS, type EntityType, type EntityTypeName } from './entity-types.js';
import { PathRouter, splitPath, type PathParams } from './path-router.js';
import { parseResultSpec, type Query } from './query-options.js';
import { collection, inMemory, single, toJson } from './respond.js';
import type { MasterControl } from './control.js';
import type { ResponseCache, Topic } from './response-cache.js';

/** Returned by an endpoint that has already sent its own response (a raw log). */
const SENT = Symbol('sent');

/**
 * A cacheable route: the bus events that change its responses, and which queries may be
 * cached (api/response-cache.ts; build properties change without an event, so a query
 * asking for them is never cached).
 */
interface CachePolicy {
  topic: Topic;
  when: (spec: ResultSpec) => boolean;
}

/** Every write to the builds table publishes one of these, after it commits. */
const BUILDS_CACHE: CachePolicy = {
  topic: [['builds', '*', '*']],
  when: (spec) => spec.properties.length === 0,
};

interface Endpoint {
  type: EntityType;
  collection: boolean;
  cache?: CachePolicy;
  run(params: PathParams, spec: ResultSpec, reply: FastifyReply): Promise<object | typeof SENT>;
}

type Listing = { items: object[]; total: number };

const API_PREFIX = '/api/v2';

/** Paths naming one build, one step, one log (Buildbot's BuildNestingMixin). */
const BUILD_PATHS = ['/builds/n:buildid', '/builders/k:builder/builds/n:number'];
const STEP_PATHS = ['/steps/n:stepid', ...BUILD_PATHS.map((b) => `${b}/steps/k:step`)];
const LOG_PATHS = ['/logs/n:logid', ...STEP_PATHS.map((s) => `${s}/logs/k:slug`)];

/** A single entity's spec: Buildbot applies only `field=` to it. */
function singleSpec(spec: ResultSpec): ResultSpec {
  return { ...spec, order: [], limit: null, offset: 0 };
}

function num(params: PathParams, name: string): number {
  return Number(params[name]);
}

function key(params: PathParams, name: string): number | string {
  const value = params[name];
  return value === undefined ? '' : value;
}

function describeKey(value: number | string): string {
  return typeof value === 'number' ? String(value) : `"${value}"`;
}

/** The log's text as Buildbot's raw endpoint gives it: stdio lines without their stream prefix and without a final newline. */
async function* rawText(chunks: AsyncGenerator<string>, type: string): AsyncGenerator<string> {
  if (type !== 's') {
    yield* chunks;
    return;
  }
  let pendingNewline = false;
  for await (const text of chunks) {
    if (text === '') continue;
    const endsLine = text.endsWith('\n');
    yield (pendingNewline ? '\n' : '') + (endsLine ? text.slice(0, -1) : text);
    pendingNewline = endsLine;
  }
}

export function registerRestRoutes(
  app: FastifyInstance,
  data: DataApi,
  control: MasterControl,
  cache?: ResponseCache,
): void {
  const router = new PathRouter<Endpoint>();

  const list = (
    patterns: string[],
    typeName: EntityTypeName,
    fetch: (p: PathParams, s: ResultSpec) => Promise<Listing>,
    cachePolicy?: CachePolicy,
  ) => {
    const type: EntityType = ENTITY_TYPES[typeName];
    for (const pattern of patterns) {
      router.add(pattern, {
        type,
        collection: true,
        ...(cachePolicy ? { cache: cachePolicy } : {}),
        run: async (p, s) => {
          const { items, total } = await fetch(p, s);
          return collection(type.plural, items, s, total);
        },
      });
    }
  };

  const one = (
    patterns: string[],
    typeName: EntityTypeName,
    fetch: (p: PathParams, s: ResultSpec) => Promise<object | undefined>,
    what: (p: PathParams) => string,
  ) => {
    const type: EntityType = ENTITY_TYPES[typeName];
    for (const pattern of patterns) {
      router.add(pattern, {
        type,
        collection: false,
        run: async (p, s) => {
          const item = await fetch(p, singleSpec(s));
          if (item === undefined) throw new NotFoundError(`${what(p)} not found`);
          return single(type.plural, item, s);
        },
      });
    }
  };

  const inMemoryList = async <T extends object>(
    items: T[] | Promise<T[]>,
    s: ResultSpec,
  ): Promise<Listing> => inMemory(await items, s);

  // ---- resolving the entities a nested path names ----

  const builderOf = (p: PathParams): Promise<BuilderEntity | undefined> =>
    data.builders.get(key(p, 'builder'));

  const requireBuilder = async (p: PathParams): Promise<BuilderEntity> => {
    const builder = await builderOf(p);
    if (!builder)
      throw new NotFoundError(
        `builder ${describeKey(key(p, 'builder'))} not found; GET /api/v2/builders lists them`,
      );
    return builder;
  };

  const buildOf = async (p: PathParams): Promise<BuildEntity | undefined> => {
    if (p.buildid !== undefined) return data.builds.get(num(p, 'buildid'));
    const builder = await builderOf(p);
    if (!builder) return undefined;
    return (
      await data.builds.list(EMPTY_SPEC, { builderid: builder.builderid, number: num(p, 'number') })
    ).items[0];
  };

  const describeBuild = (p: PathParams) =>
    p.buildid !== undefined
      ? `build ${num(p, 'buildid')}`
      : `build ${num(p, 'number')} of builder ${describeKey(key(p, 'builder'))}`;

  const requireBuild = async (p: PathParams): Promise<BuildEntity> => {
    const build = await buildOf(p);
    if (!build)
      throw new NotFoundError(`${describeBuild(p)} not found; GET /api/v2/builds lists them`);
    return build;
  };

  const stepOf = async (p: PathParams): Promise<StepEntity | undefined> => {
    if (p.stepid !== undefined) return data.steps.get(num(p, 'stepid'));
    const build = await requireBuild(p);
    const step = key(p, 'step');
    const scope = typeof step === 'number' ? { number: step } : { name: step };
    return (await data.steps.list(EMPTY_SPEC, { buildid: build.buildid, ...scope })).items[0];
  };

  const describeStep = (p: PathParams) =>
    p.stepid !== undefined
      ? `step ${num(p, 'stepid')}`
      : `step ${describeKey(key(p, 'step'))} of ${describeBuild(p)}`;

  const requireStep = async (p: PathParams): Promise<StepEntity> => {
    const step = await stepOf(p);
    if (!step)
      throw new NotFoundError(
        `${describeStep(p)} not found; list the build's steps with .../steps`,
      );
    return step;
  };

  const logOf = async (p: PathParams): Promise<LogEntity | undefined> => {
    if (p.logid !== undefined) return data.logs.get(num(p, 'logid'));
    const step = await requireStep(p);
    return (
      await data.logs.listFor(EMPTY_SPEC, { stepid: step.stepid, slug: String(key(p, 'slug')) })
    ).items[0];
  };

  const describeLog = (p: PathParams) =>
    p.logid !== undefined
      ? `log ${num(p, 'logid')}`
      : `log "${String(key(p, 'slug'))}" of ${describeStep(p)}`;

  const requireLog = async (p: PathParams): Promise<LogEntity> => {
    const log = await logOf(p);
    if (!log)
      throw new NotFoundError(`${describeLog(p)} not found; list the step's logs with .../logs`);
    return log;
  };

  // ---- root ----
  list(['/'], 'rootlink', (_p, s) =>
    inMemoryList(
      ROOT_LINKS.map((name) => ({ name })),
      s,
    ),
  );

  // ---- builders ----
  list(['/builders'], 'builder', (_p, s) => inMemoryList(data.builders.list(), s));
  list(['/masters/n:masterid/builders'], 'builder', async (p, s) =>
    inMemory(
      (await data.builders.list()).filter((b) => b.masterids.includes(num(p, 'masterid'))),
      s,
    ),
  );
  one(
    ['/builders/k:builder'],
    'builder',
    (p) => builderOf(p),
    (p) => `builder ${describeKey(key(p, 'builder'))}`,
  );
  one(
    ['/masters/n:masterid/builders/n:builderid'],
    'builder',
    async (p) => {
      const builder = await data.builders.get(num(p, 'builderid'));
      return builder?.masterids.includes(num(p, 'masterid')) ? builder : undefined;
    },
    (p) => `builder ${num(p, 'builderid')} on master ${num(p, 'masterid')}`,
  );

  // ---- builds ----
  list(['/builds'], 'build', (_p, s) => data.builds.list(s), BUILDS_CACHE);
  list(['/builders/k:builder/builds'], 'build', async (p, s) => {
    const builder = await builderOf(p);
    // As Buildbot: an unknown builder has no builds (an empty list, not a 404).
    return builder
      ? data.builds.list(s, { builderid: builder.builderid })
      : { items: [], total: 0 };
  });
  list(
    ['/buildrequests/n:buildrequestid/builds'],
    'build',
    (p, s) => data.builds.list(s, { buildrequestid: num(p, 'buildrequestid') }),
    BUILDS_CACHE,
  );
  list(
    ['/workers/n:workerid/builds'],
    'build',
    (p, s) => data.builds.list(s, { workerid: num(p, 'workerid') }),
    BUILDS_CACHE,
  );
  // A change's builds: those whose buildset has the change's source stamp.
  list(['/changes/n:changeid/builds'], 'build', async (p, s) => {
    const buildids = await data.changes.buildidsOf(num(p, 'changeid'));
    if (buildids.length === 0) return { items: [], total: 0 };
    const filter = { field: 'buildid', op: 'in' as const, values: buildids };
    return data.builds.list({ ...s, filters: [...s.filters, filter] });
  });
  one(
    BUILD_PATHS,
    'build',
    async (p, s) => {
      const build = await buildOf(p);
      if (!build || s.properties.length === 0) return build;
      return (await data.builds.list(s, { buildid: build.buildid })).items[0];
    },
    describeBuild,
  );

  // ---- build requests ----
  list(['/buildrequests'], 'buildrequest', (_p, s) => data.buildsets.listRequests(s));
  list(['/builders/k:builder/buildrequests'], 'buildrequest', async (p, s) => {
    const builder = await builderOf(p);
    return builder
      ? data.buildsets.listRequests(s, { builderid: builder.builderid })
      : { items: [], total: 0 };
  });
  one(
    ['/buildrequests/n:buildrequestid'],
    'buildrequest',
    async (p, s) =>
      (await data.buildsets.listRequests(s, { buildrequestid: num(p, 'buildrequestid') })).items[0],
    (p) => `build request ${num(p, 'buildrequestid')}`,
  );

  // ---- buildsets and source stamps ----
  list(['/buildsets'], 'buildset', (_p, s) => data.buildsets.list(s));
  one(
    ['/buildsets/n:bsid'],
    'buildset',
    async (p, s) => (await data.buildsets.list(s, { bsid: num(p, 'bsid') })).items[0],
    (p) => `buildset ${num(p, 'bsid')}`,
  );
  // Not in Buildbot 3.7: the buildset of a build's request (its reason and source stamps),
  // by the build's own path, so a build page need not read build → request → buildset.
  one(
    BUILD_PATHS.map((b) => `${b}/buildset`),
    'buildset',
    async (p, s) => {
      const build = await requireBuild(p);
      const request = (
        await data.buildsets.listRequests(EMPTY_SPEC, { buildrequestid: build.buildrequestid })
      ).items[0];
      if (!request) return undefined;
      return (await data.buildsets.list(s, { bsid: request.buildsetid })).items[0];
    },
    (p) => `the buildset of ${describeBuild(p)}`,
  );
  list(['/sourcestamps'], 'sourcestamp', (_p, s) => data.buildsets.listSourcestamps(s));
  one(
    ['/sourcestamps/n:ssid'],
    'sourcestamp',
    async (p, s) => (await data.buildsets.listSourcestamps(s, { ssid: num(p, 'ssid') })).items[0],
    (p) => `source stamp ${num(p, 'ssid')}`,
  );

  // ---- properties (Buildbot: one object name → [value, source], still in a list) ----
  one(
    BUILD_PATHS.map((b) => `${b}/properties`),
    'property',
    async (p) =>
      (await data.builds.properties([(await requireBuild(p)).buildid])).values().next().value ?? {},
    describeBuild,
  );
  one(
    ['/buildsets/n:bsid/properties'],
    'property',
    async (p) =>
      (await data.buildsets.get(num(p, 'bsid')))
        ? data.buildsets.properties(num(p, 'bsid'))
        : undefined,
    (p) => `buildset ${num(p, 'bsid')}`,
  );

  // ---- changes and change sources ----
  list(['/changes'], 'change', (_p, s) => data.changes.list(s));
  list(['/sourcestamps/n:ssid/changes'], 'change', (p, s) =>
    data.changes.list(s, { ssid: num(p, 'ssid') }),
  );
  list(
    BUILD_PATHS.map((b) => `${b}/changes`),
    'change',
    async (p, s) => data.changes.list(s, { buildid: (await requireBuild(p)).buildid }),
  );
  one(
    ['/changes/n:changeid'],
    'change',
    async (p, s) => (await data.changes.list(s, { changeid: num(p, 'changeid') })).items[0],
    (p) => `change ${num(p, 'changeid')}`,
  );
  // The configured change sources; each runs on the master holding its lease.
  list(['/changesources', '/masters/n:masterid/changesources'], 'changesource', async (p, s) => {
    const masters = new Map((await data.masters.list()).map((m) => [m.masterid, m]));
    const sources = await Promise.all(
      (control.changeSources?.() ?? []).map(async (source, i) => {
        const holder = await data.leases.holder(`changesource:${source.name}`);
        return {
          changesourceid: i + 1,
          name: source.name,
          master: (holder && masters.get(holder.masterid)) ?? null,
        };
      }),
    );
    return inMemory(
      sources.filter((x) => p.masterid === undefined || x.master?.masterid === num(p, 'masterid')),
      s,
    );
  });

  // ---- steps ----
  // Not in Buildbot 3.7: every build's steps, so a page can read the running steps of all
  // running builds (`complete=false`) or of several builds (`buildid__in=`) at once.
  list(['/steps'], 'step', (_p, s) => data.steps.list(s));
  list(
    BUILD_PATHS.map((b) => `${b}/steps`),
    'step',
    async (p, s) => data.steps.list(s, { buildid: (await requireBuild(p)).buildid }),
  );
  one(STEP_PATHS, 'step', stepOf, describeStep);

  // ---- logs ----
  list(
    STEP_PATHS.map((s) => `${s}/logs`),
    'log',
    async (p, s) => data.logs.listFor(s, { stepid: (await requireStep(p)).stepid }),
  );
  one(LOG_PATHS, 'log', logOf, describeLog);
  // Not in Buildbot 3.7: every log of a build's steps, read by the build's own path (a build
  // page lists its steps' logs in the same round as the steps).
  list(
    BUILD_PATHS.map((b) => `${b}/logs`),
    'log',
    async (p, s) => {
      const build = await requireBuild(p);
      const stepids = (await data.steps.list(EMPTY_SPEC, { buildid: build.buildid })).items.map(
        (step) => step.stepid,
      );
      if (stepids.length === 0) return { items: [], total: 0 };
      const filter = { field: 'stepid', op: 'in' as const, values: stepids };
      return data.logs.listFor({ ...s, filters: [...s.filters, filter] }, {});
    },
  );
  for (const pattern of LOG_PATHS) {
    router.add(`${pattern}/contents`, {
      type: ENTITY_TYPES.logchunk,
      collection: false,
      // As Buildbot: `offset` is the first line, `limit` the number of lines (default: to the end).
      run: async (p, s) => {
        const log = await requireLog(p);
        const firstline = s.offset;
        const lastline =
          s.limit === null ? Math.max(0, log.num_lines - 1) : firstline + s.limit - 1;
        if (firstline > lastline) {
          throw new NotFoundError(
            `lines ${firstline}..${lastline} of ${describeLog(p)} not found; it has ${log.num_lines} lines`,
          );
        }
        const content = await data.logs.contents(log.logid, firstline, lastline);
        return single('logchunks', { logid: log.logid, firstline, content }, s);
      },
    });
    router.add(`${pattern}/raw`, {
      type: ENTITY_TYPES.logchunk,
      collection: false,
      run: async (p, _s, reply) => {
        const log = await requireLog(p);
        await reply
          .header('content-type', `${log.type === 'h' ? 'text/html' : 'text/plain'}; charset=utf-8`)
          .header('content-disposition', `attachment; filename=${log.slug}`)
          .send(Readable.from(rawText(data.logs.raw(log.logid, log.type), log.type)));
        return SENT;
      },
    });
  }
  // Buildbot lists `logchunks` as a root link but needs a log to read chunks of.
  router.add('/logchunks', {
    type: ENTITY_TYPES.logchunk,
    collection: false,
    run: async () => {
      throw new NotFoundError('logchunks are read per log: GET /api/v2/logs/<logid>/contents');
    },
  });

  // ---- workers ----
  const workersWhere = async (p: PathParams): Promise<WorkerEntity[]> => {
    let workers = await data.workers.list();
    if (p.builder !== undefined || p.builderid !== undefined) {
      const builder =
        p.builderid !== undefined
          ? await data.builders.get(num(p, 'builderid'))
          : await builderOf(p);
      if (!builder) return [];
      workers = workers.filter((w) =>
        w.configured_on.some((c) => c.builderid === builder.builderid),
      );
    }
    if (p.masterid !== undefined) {
      const masterid = num(p, 'masterid');
      workers = workers.filter(
        (w) =>
          w.configured_on.some((c) => c.masterid === masterid) ||
          w.connected_to.some((c) => c.masterid === masterid),
      );
    }
    return workers;
  };
  const workerScopes = [
    '',
    '/builders/k:builder',
    '/masters/n:masterid',
    '/masters/n:masterid/builders/n:builderid',
  ];
  list(
    workerScopes.map((scope) => `${scope}/workers`),
    'worker',
    async (p, s) => inMemory(await workersWhere(p), s),
  );
  one(
    workerScopes.map((scope) => `${scope}/workers/k:worker`),
    'worker',
    async (p) => {
      const w = key(p, 'worker');
      return (await workersWhere(p)).find((x) =>
        typeof w === 'number' ? x.workerid === w : x.name === w,
      );
    },
    (p) => `worker ${describeKey(key(p, 'worker'))}`,
  );

  // ---- masters ----
  list(['/masters'], 'master', (_p, s) => inMemoryList(data.masters.list(), s));
  list(['/builders/k:builder/masters'], 'master', async (p, s) => {
    const builder = await requireBuilder(p);
    return inMemory(
      (await data.masters.list()).filter((m) => builder.masterids.includes(m.masterid)),
      s,
    );
  });
  one(
    ['/masters/n:masterid', '/builders/k:builder/masters/n:masterid'],
    'master',
    async (p) => {
      if (
        p.builder !== undefined &&
        !(await requireBuilder(p)).masterids.includes(num(p, 'masterid'))
      )
        return undefined;
      return data.masters.get(num(p, 'masterid'));
    },
    (p) => `master ${num(p, 'masterid')}`,
  );

  // ---- schedulers (this master's, from its config: ids are positions in the config) ----
  const schedulers = async () => {
    const masters = new Map((await data.masters.list()).map((m) => [m.masterid, m]));
    return Promise.all(
      control.configuredSchedulers().map(async (s, i) => {
        // Change-based and timed schedulers run where their lease is; the others here.
        const holder = await data.leases.holder(`scheduler:${s.name}`);
        return {
          schedulerid: i + 1,
          name: s.name,
          enabled: s.enabled,
          master: masters.get(holder?.masterid ?? s.masterid) ?? null,
        };
      }),
    );
  };
  list(['/schedulers', '/masters/n:masterid/schedulers'], 'scheduler', async (p, s) =>
    inMemory(
      (await schedulers()).filter(
        (x) => p.masterid === undefined || x.master?.masterid === num(p, 'masterid'),
      ),
      s,
    ),
  );
  one(
    ['/schedulers/n:schedulerid', '/masters/n:masterid/schedulers/n:schedulerid'],
    'scheduler',
    async (p) =>
      (await schedulers()).find(
        (x) =>
          x.schedulerid === num(p, 'schedulerid') &&
          (p.masterid === undefined || x.master?.masterid === num(p, 'masterid')),
      ),
    (p) => `scheduler ${num(p, 'schedulerid')}`,
  );

  // ---- force schedulers ----
  const forceSchedulers = () => control.forceSchedulers().map((f) => ({ enabled: true, ...f }));
  list(['/forceschedulers'], 'forcescheduler', async (_p, s) => inMemory(forceSchedulers(), s));
  list(['/builders/k:builder/forceschedulers'], 'forcescheduler', async (p, s) => {
    const builder = await requireBuilder(p);
    return inMemory(
      forceSchedulers().filter((f) => f.builder_names.includes(builder.name)),
      s,
    );
  });
  one(
    ['/forceschedulers/k:name'],
    'forcescheduler',
    async (p) => forceSchedulers().find((f) => f.name === String(key(p, 'name'))),
    (p) => `force scheduler "${String(key(p, 'name'))}"`,
  );

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const cached = cache?.get(request.url);
    if (cached) return reply.type('application/json; charset=utf-8').send(cached);
    const queryAt = request.url.indexOf('?');
    const pathname = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
    const rest = pathname.slice(API_PREFIX.length).replace(/^\//, '');
    const parts = splitPath(rest);
    const match = parts ? router.match(parts) : undefined;
    if (!match) throw new NotFoundError(`Invalid path: ${rest}`);
    const endpoint = match.handler;
    const spec = parseResultSpec(request.query as Query, endpoint.type, endpoint.collection);
    const policy = cache && endpoint.cache?.when(spec) ? endpoint.cache : undefined;
    const ticket = policy ? cache?.begin(policy.topic) : undefined;
    const body = await endpoint.run(match.params, spec, reply);
    if (body === SENT) return reply;
    const json = toJson(body);
    reply.type('application/json; charset=utf-8');
    if (!ticket) return reply.send(json);
    const bytes = Buffer.from(json);
    cache?.store(request.url, ticket, bytes);
    return reply.send(bytes);
  };
  app.get(API_PREFIX, handle);
  app.get(`${API_PREFIX}/*`, handle);
}
