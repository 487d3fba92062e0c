/**
 * A real Master in-process with real WorkerAgents, for the scenario tests of builds
 * (steps, locks, hooks, reporters, reload): `*.int.test.ts` under packages/master/src.
 *
 * Owns: the master (web and worker ports on 0, SQLite in a temp basedir, a silent logger
 * unless one is given) and the workers it starts; `stop()` stops the workers, then the
 * master. Requests are submitted through the data API (`buildsets.add`), so tests do not
 * depend on a scheduler.
 */
import path from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import { WorkerAgent, silentLogger } from '@yardmaster/worker';
import { makeTempDir, waitFor } from '@yardmaster/testkit';
import { Master } from '../src/master.js';
import { validateConfig } from '../src/config/index.js';
import type { MasterConfig, MasterConfigInput } from '../src/config/types.js';
import type { BuildEntity } from '../src/data/builds.js';
import type { PropertyMap } from '../src/data/buildsets.js';
import type { StepEntity } from '../src/data/steps.js';
import { EMPTY_SPEC } from '../src/data/result-spec.js';

export interface SubmitOptions {
  properties?: Record<string, unknown>;
  sourcestamp?: {
    repository?: string;
    branch?: string | null;
    revision?: string | null;
    project?: string;
    codebase?: string;
  };
  priority?: number;
}

export interface BuildFixture {
  master: Master;
  basedir: string;
  workers: Map<string, WorkerAgent>;
  /** Starts (or restarts) a worker agent named `name`. */
  startWorker(name: string, password: string): WorkerAgent;
  builderid(name: string): Promise<number>;
  /** One buildset for `builders`; returns its build request ids in builder order. */
  submit(builders: string | string[], options?: SubmitOptions): Promise<number[]>;
  /** The build of `brid` once `predicate` holds (default: complete). */
  buildOf(brid: number, predicate?: (b: BuildEntity) => boolean): Promise<BuildEntity>;
  steps(buildid: number): Promise<StepEntity[]>;
  /** A log's text without stream prefixes ('' when the step has no such log). */
  log(buildid: number, stepName: string, logName?: string): Promise<string>;
  /** A log's stored lines, with their stream prefixes. */
  storedLog(buildid: number, stepName: string, logName?: string): Promise<string>;
  properties(buildid: number): Promise<PropertyMap>;
  stop(): Promise<void>;
}

/** `input` is validated; or pass `{ validated }`, a config already loaded (loadConfig). */
export async function startBuildFixture(
  input: MasterConfigInput | { validated: MasterConfig },
  options: { logger?: PinoLogger; basedir?: string } = {},
): Promise<BuildFixture> {
  const basedir = options.basedir ?? (await makeTempDir('ym-builds-'));
  const master = new Master({
    config: 'validated' in input ? input.validated : validateConfig(input, 'build-fixture'),
    basedir,
    webPort: 0,
    webHost: '127.0.0.1',
    workerPort: 0,
    workerHost: '127.0.0.1',
    dbUrl: `sqlite:///${path.join(basedir, 'state.sqlite')}`,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  await master.start();
  const workers = new Map<string, WorkerAgent>();
  let stopping: Promise<void> | undefined;

  const stepNamed = async (buildid: number, name: string) => {
    const steps = await fixture.steps(buildid);
    const step = steps.find((s) => s.name === name);
    if (!step)
      throw new Error(
        `build ${buildid} has no step "${name}" (${steps.map((s) => s.name).join(', ')})`,
      );
    return step;
  };
  const logOf = async (buildid: number, stepName: string, logName: string) => {
    const step = await stepNamed(buildid, stepName);
    const logs = await master.data.logs.list(step.stepid);
    return logs.find((l) => l.name === logName);
  };

  const fixture: BuildFixture = {
    master,
    basedir,
    workers,
    startWorker(name, password) {
      const agent = new WorkerAgent({
        masters: [`127.0.0.1:${master.workerPort}`],
        name,
        password,
        basedir: path.join(basedir, `worker-${name}`),
        logger: silentLogger,
        environ: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: basedir },
      });
      agent.start();
      workers.set(name, agent);
      return agent;
    },
    async builderid(name) {
      const builder = await master.data.builders.get(name);
      if (!builder) throw new Error(`no builder ${name}`);
      return builder.builderid;
    },
    async submit(builders, submitOptions = {}) {
      const names = Array.isArray(builders) ? builders : [builders];
      const builderids = await Promise.all(names.map((name) => fixture.builderid(name)));
      const properties: PropertyMap = {};
      for (const [name, value] of Object.entries(submitOptions.properties ?? {})) {
        properties[name] = [value, 'test'];
      }
      const stamp = submitOptions.sourcestamp ?? {};
      const { brids } = await master.data.buildsets.add({
        reason: 'test',
        sourcestamps: [
          {
            codebase: stamp.codebase ?? '',
            repository: stamp.repository ?? '',
            branch: stamp.branch ?? null,
            revision: stamp.revision ?? null,
            project: stamp.project ?? '',
          },
        ],
        properties,
        builderids,
        priority: submitOptions.priority ?? 0,
      });
      return builderids.map((id) => {
        const brid = brids[id];
        if (brid === undefined) throw new Error(`no request for builder ${id}`);
        return brid;
      });
    },
    buildOf(brid, predicate = (b) => b.complete) {
      return waitFor(
        async () => {
          const { items } = await master.data.builds.list(EMPTY_SPEC, { buildrequestid: brid });
          return items.find(predicate);
        },
        { timeoutMs: 30_000, message: `a build of request ${brid}` },
      );
    },
    async steps(buildid) {
      return (await master.data.steps.list(EMPTY_SPEC, { buildid })).items;
    },
    async log(buildid, stepName, logName = 'stdio') {
      const log = await logOf(buildid, stepName, logName);
      if (!log) return '';
      let text = '';
      for await (const chunk of master.data.logs.raw(log.logid, log.type)) text += chunk;
      return text;
    },
    async storedLog(buildid, stepName, logName = 'stdio') {
      const log = await logOf(buildid, stepName, logName);
      return log ? master.data.logs.contents(log.logid) : '';
    },
    async properties(buildid) {
      return (await master.data.builds.properties([buildid])).get(buildid) ?? {};
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all([...workers.values()].map((agent) => agent.stop()));
        await master.stop();
      })();
      return stopping;
    },
  };
  return fixture;
}
