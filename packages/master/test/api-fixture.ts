/**
 * A real Master in-process with one real WorkerAgent, for the REST and live-events
 * contract tests (`packages/master/src/api/*.int.test.ts`).
 *
 * Owns: the master (web and worker ports on 0, SQLite in a temp basedir, a silent
 * logger) and the worker agent; `stop()` stops the worker, then the master.
 */
import path from 'node:path';
import { pino } from 'pino';
import { WorkerAgent, silentLogger } from '@yardmaster/worker';
import { httpJson, makeTempDir, waitFor, type HttpJsonResponse } from '@yardmaster/testkit';
import { Master } from '../src/master.js';
import {
  buildFactory,
  builder,
  defineConfig,
  forceScheduler,
  shellCommand,
  validateConfig,
  worker,
} from '../src/config/index.js';

export interface ApiFixture {
  master: Master;
  worker: WorkerAgent;
  base: string;
  builderIds: Record<string, number>;
  get<T = Record<string, unknown>>(pathname: string): Promise<HttpJsonResponse<T>>;
  /** GET that must answer 200; returns the body. */
  ok<T = Record<string, unknown>>(pathname: string): Promise<T>;
  rpc(
    pathname: string,
    method: string,
    params: unknown,
    id?: unknown,
  ): Promise<HttpJsonResponse<Record<string, unknown>>>;
  /** Forces a build of `builderName` and returns its build request id. */
  force(builderName: string, params?: Record<string, unknown>): Promise<number>;
  /** Waits for the build of a request (complete unless `complete` is false). */
  buildOf(brid: number, complete?: boolean): Promise<Record<string, unknown>>;
  /** Stops the worker, then the master; idempotent. */
  stop(): Promise<void>;
}

export async function startApiFixture(): Promise<ApiFixture> {
  const basedir = await makeTempDir('ym-api-');
  const config = validateConfig(
    defineConfig({
      title: 'api contract',
      workers: [worker('w1', { password: 'pw1', maxBuilds: 2 }), worker('w2', { password: 'pw2' })],
      builders: [
        builder({
          name: 'noop',
          workerNames: ['w1'],
          tags: ['fast', 'tiny'],
          description: 'does nothing',
          collapseRequests: false,
          factory: buildFactory([shellCommand({ name: 'true', command: 'true' })]),
        }),
        builder({
          name: 'logs',
          workerNames: ['w1', 'w2'],
          collapseRequests: false,
          factory: buildFactory([
            shellCommand({
              name: 'print',
              command: 'printf "alpha\\nbeta\\ngamma\\n"; echo oops >&2',
            }),
            shellCommand({ name: 'fail', command: 'exit 3', flunkOnFailure: true }),
          ]),
        }),
        builder({
          name: 'sleepy',
          workerNames: ['w1'],
          collapseRequests: false,
          factory: buildFactory([
            shellCommand({ name: 'nap', command: 'echo napping; sleep 120' }),
          ]),
        }),
      ],
      schedulers: [
        forceScheduler({
          name: 'force',
          builderNames: ['noop', 'logs', 'sleepy'],
          properties: [{ name: 'flavour', type: 'string', default: 'vanilla' }],
        }),
        forceScheduler({ name: 'only-noop', builderNames: ['noop'] }),
      ],
    }),
    'api-fixture',
  );
  const master = new Master({
    config,
    basedir,
    webPort: 0,
    webHost: '127.0.0.1',
    workerPort: 0,
    workerHost: '127.0.0.1',
    dbUrl: `sqlite:///${path.join(basedir, 'state.sqlite')}`,
    logger: pino({ level: 'silent' }),
  });
  await master.start();
  const agent = new WorkerAgent({
    masters: [`127.0.0.1:${master.workerPort}`],
    name: 'w1',
    password: 'pw1',
    basedir: await makeTempDir('ym-api-worker-'),
    logger: silentLogger,
    environ: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: basedir },
  });
  agent.start();

  const base = `http://127.0.0.1:${master.webPort}`;
  let stopping: Promise<void> | undefined;
  const get = <T>(pathname: string) => httpJson<T>('GET', `${base}${pathname}`);
  const ok = async <T>(pathname: string): Promise<T> => {
    const response = await get<T>(pathname);
    if (response.status !== 200)
      throw new Error(`GET ${pathname}: HTTP ${response.status} ${response.text}`);
    return response.json;
  };
  const fixture: ApiFixture = {
    master,
    worker: agent,
    base,
    builderIds: {},
    get,
    ok,
    rpc: (pathname, method, params, id = 1) =>
      httpJson<Record<string, unknown>>('POST', `${base}${pathname}`, {
        jsonrpc: '2.0',
        method,
        params,
        id,
      }),
    async force(builderName, params = {}) {
      const builderid = fixture.builderIds[builderName];
      const response = await fixture.rpc('/api/v2/forceschedulers/force', 'force', {
        builderid,
        ...params,
      });
      if (response.status !== 200)
        throw new Error(`force ${builderName}: HTTP ${response.status} ${response.text}`);
      const [, brids] = response.json.result as [number, Record<string, number>];
      return brids[String(builderid)] ?? Number.NaN;
    },
    async buildOf(brid, complete = true) {
      return waitFor(
        async () => {
          const { builds } = await ok<{ builds: Record<string, unknown>[] }>(
            `/api/v2/buildrequests/${brid}/builds`,
          );
          const build = builds[0];
          return build && (!complete || build.complete === true) ? build : undefined;
        },
        { timeoutMs: 30_000, message: `the build of request ${brid}` },
      );
    },
    stop() {
      stopping ??= (async () => {
        await agent.stop();
        await master.stop();
      })();
      return stopping;
    },
  };
  const { builders } = await ok<{ builders: { name: string; builderid: number }[] }>(
    '/api/v2/builders',
  );
  fixture.builderIds = Object.fromEntries(builders.map((b) => [b.name, b.builderid]));
  await waitFor(
    async () => {
      const { workers } = await ok<{ workers: { name: string; connected_to: unknown[] }[] }>(
        '/api/v2/workers',
      );
      return workers.find((w) => w.name === 'w1')?.connected_to.length === 1;
    },
    { timeoutMs: 20_000, message: 'worker w1 to connect' },
  );
  return fixture;
}
