/**
 * Starts real `yardmaster` master and worker processes for end-to-end tests, from the
 * built CLI (`npm test` builds first). Every process is tracked by testkit and stopped by
 * its leak check when the test file ends.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  httpJson,
  makeTempDir,
  spawnProcess,
  waitFor,
  type SpawnedProcess,
} from '@yardmaster/testkit';

/** Build and step results with Buildbot's numbers, as the master defines them. */
export { Results } from '../../packages/master/src/results.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MASTER_BIN = path.join(ROOT, 'packages/master/bin/yardmaster.js');
export const WORKER_BIN = path.join(ROOT, 'packages/worker/bin/yardmaster-worker.js');

export interface RunningMaster {
  process: SpawnedProcess;
  basedir: string;
  configFile: string;
  webPort: number;
  workerPort: number;
  url(pathname: string): string;
  get<T = Record<string, unknown[]>>(pathname: string): Promise<T>;
  force(
    scheduler: string,
    params: Record<string, unknown>,
  ): Promise<{ buildsetid: number; brids: Record<string, number> }>;
  /** Stops (SIGTERM: drains as configured) and starts again; `options` replace the launch's. */
  restart(options?: MasterProcessOptions): Promise<void>;
  stop(): Promise<void>;
  /** SIGKILL, as a crash or an OOM kill would: no clean-up at all. */
  crash(): Promise<void>;
  /** Starts the process again after a crash, same basedir, ports and options. */
  relaunch(): Promise<void>;
}

export async function writeConfig(dir: string, source: string): Promise<string> {
  const file = path.join(dir, 'master.config.ts');
  await writeFile(file, source);
  return file;
}

export interface MasterProcessOptions {
  /** Database URL (default: SQLite in the basedir). */
  dbUrl?: string;
  /** Master name (default: host:basedir). */
  name?: string;
  /** Seconds of silence before other masters expire this one. */
  masterExpiry?: number;
  /** `--drain-timeout`: seconds running builds get to finish on SIGTERM (0: none). */
  drainTimeout?: number;
}

async function launch(
  basedir: string,
  configFile: string,
  webPort: number,
  workerPort: number,
  options: MasterProcessOptions,
): Promise<SpawnedProcess> {
  const args = [
    MASTER_BIN,
    'start',
    '--config',
    configFile,
    '--basedir',
    basedir,
    '--web-port',
    String(webPort),
    '--worker-port',
    String(workerPort),
  ];
  if (options.dbUrl) args.push('--db-url', options.dbUrl);
  if (options.name) args.push('--name', options.name);
  if (options.masterExpiry) args.push('--master-expiry', String(options.masterExpiry));
  if (options.drainTimeout !== undefined) {
    args.push('--drain-timeout', String(options.drainTimeout));
  }
  const proc = spawnProcess(process.execPath, args, {
    name: options.name ? `master ${options.name}` : 'master',
    env: { YARDMASTER_LOG_LEVEL: 'info' },
    // SIGTERM lets running builds finish for up to the drain timeout before SIGKILL.
    stopGraceMs: (options.drainTimeout ?? 0) * 1000 + 5000,
  });
  await proc.waitForOutput(/master .* started/, 30_000);
  return proc;
}

export async function startMaster(
  configSource: string,
  options: MasterProcessOptions = {},
): Promise<RunningMaster> {
  const basedir = await makeTempDir('ym-master-');
  const configFile = await writeConfig(basedir, configSource);
  const webPort = await freePort();
  const workerPort = await freePort();
  const url = (pathname: string) => `http://127.0.0.1:${webPort}${pathname}`;
  const master: RunningMaster = {
    process: await launch(basedir, configFile, webPort, workerPort, options),
    basedir,
    configFile,
    webPort,
    workerPort,
    url,
    async get<T>(pathname: string): Promise<T> {
      const response = await httpJson<T>('GET', url(`/api/v2${pathname}`));
      if (response.status !== 200)
        throw new Error(`GET ${pathname}: HTTP ${response.status} ${response.text}`);
      return response.json;
    },
    async force(scheduler, params) {
      const response = await httpJson<{ result: [number, Record<string, number>] }>(
        'POST',
        url(`/api/v2/forceschedulers/${scheduler}`),
        { jsonrpc: '2.0', method: 'force', id: 1, params },
      );
      if (response.status !== 200)
        throw new Error(`force: HTTP ${response.status} ${response.text}`);
      return { buildsetid: response.json.result[0], brids: response.json.result[1] };
    },
    async restart(overrides) {
      await master.stop();
      if (overrides) options = { ...options, ...overrides };
      master.process = await launch(basedir, configFile, webPort, workerPort, options);
    },
    async crash() {
      master.process.kill('SIGKILL');
      await master.process.exited;
      await master.process.stop();
    },
    async relaunch() {
      master.process = await launch(basedir, configFile, webPort, workerPort, options);
    },
    async stop() {
      const exit = await master.process.stop();
      if (exit.code !== 0)
        throw new Error(`master exited with ${JSON.stringify(exit)}:\n${master.process.output()}`);
    },
  };
  return master;
}

/** Which worker the e2e tests run: ours, or Buildbot's (`YARDMASTER_E2E_WORKER=buildbot`). */
export const WORKER_KIND =
  process.env.YARDMASTER_E2E_WORKER === 'buildbot' ? 'buildbot' : 'yardmaster';

/** An unmodified buildbot-worker 3.7 on msgpack_experimental_v7, in the foreground. */
export async function startBuildbotWorker(
  master: { workerPort: number },
  name: string,
  password: string,
): Promise<SpawnedProcess> {
  const basedir = await makeTempDir(`bb-worker-${name}-`);
  const create = spawnProcess(
    'buildbot-worker',
    [
      'create-worker',
      '--protocol=msgpack_experimental_v7',
      '--umask=0o22',
      basedir,
      `127.0.0.1:${master.workerPort}`,
      name,
      password,
    ],
    { name: 'buildbot-worker create-worker' },
  );
  const created = await create.exited;
  if (created.code !== 0)
    throw new Error(`buildbot-worker create-worker failed:\n${create.output()}`);
  return spawnProcess('buildbot-worker', ['start', '--nodaemon', basedir], {
    name: `buildbot-worker ${name}`,
    env: { PYTHONUNBUFFERED: '1' },
  });
}

export async function startWorker(
  master: { workerPort: number } | { workerPort: number }[],
  name: string,
  password: string,
): Promise<SpawnedProcess> {
  const masters = Array.isArray(master) ? master : [master];
  if (WORKER_KIND === 'buildbot') return startBuildbotWorker(masters[0]!, name, password);
  const basedir = await makeTempDir(`ym-worker-${name}-`);
  return spawnProcess(
    process.execPath,
    [
      WORKER_BIN,
      '--master',
      masters.map((m) => `127.0.0.1:${m.workerPort}`).join(','),
      '--name',
      name,
      '--basedir',
      basedir,
    ],
    { name: `worker ${name}`, env: { YARDMASTER_WORKER_PASSWORD: password } },
  );
}

export interface Build {
  buildid: number;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number | null;
  complete: boolean;
  results: number | null;
  state_string: string;
}

export interface Step {
  stepid: number;
  number: number;
  name: string;
  complete: boolean;
  results: number | null;
  state_string: string;
}

export async function waitForConnected(master: RunningMaster, names: string[]): Promise<void> {
  await waitFor(
    async () => {
      const { workers } = await master.get<{
        workers: { name: string; connected_to: unknown[] }[];
      }>('/workers');
      return names.every((n) => workers.some((w) => w.name === n && w.connected_to.length > 0));
    },
    { timeoutMs: 20_000, message: `workers ${names.join(', ')} to connect` },
  );
}

export async function buildsOfRequest(master: RunningMaster, brid: number): Promise<Build[]> {
  return (await master.get<{ builds: Build[] }>(`/buildrequests/${brid}/builds`)).builds;
}

export async function waitForBuild(
  master: RunningMaster,
  brid: number,
  predicate: (b: Build) => boolean = (b) => b.complete,
  timeoutMs = 30_000,
): Promise<Build> {
  return waitFor(async () => (await buildsOfRequest(master, brid)).find(predicate), {
    timeoutMs,
    message: `a build of request ${brid}`,
  });
}

export async function stepsOf(master: RunningMaster, buildid: number): Promise<Step[]> {
  return (await master.get<{ steps: Step[] }>(`/builds/${buildid}/steps`)).steps;
}

export async function rawLog(
  master: RunningMaster,
  buildid: number,
  step: number,
): Promise<string> {
  const { logs } = await master.get<{ logs: { logid: number }[] }>(
    `/builds/${buildid}/steps/${step}/logs`,
  );
  const log = logs[0];
  if (!log) return '';
  const response = await fetch(master.url(`/api/v2/logs/${log.logid}/raw`), {
    headers: { connection: 'close' },
  });
  return response.text();
}
