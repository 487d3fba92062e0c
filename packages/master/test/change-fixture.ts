/**
 * An in-process Master with real WorkerAgents on fixed loopback ports, for the change
 * source and scheduler scenario tests: it can be stopped and started again on the same
 * basedir, database and ports (the workers reconnect by themselves), and records every
 * event the master publishes.
 *
 * Owns the master, its workers and the recorded events; `stop()` stops the workers, then
 * the master.
 */
import path from 'node:path';
import { pino } from 'pino';
import { WorkerAgent, silentLogger } from '@yardmaster/worker';
import { freePort, httpJson, makeTempDir, waitFor } from '@yardmaster/testkit';
import { Master } from '../src/master.js';
import { validateConfig, type MasterConfigInput } from '../src/config/index.js';

export interface ChangeFixture {
  master: Master;
  base: string;
  basedir: string;
  /** Keys of every event published since the master (re)started, joined with "/". */
  events: string[];
  /** Starts the master again after `stopMaster()`, with the same basedir and ports. */
  startMaster(config?: MasterConfigInput): Promise<void>;
  stopMaster(): Promise<void>;
  /** The complete builds of a builder, oldest first, with their properties. */
  builds(builderName: string): Promise<Record<string, unknown>[]>;
  /** Waits until `builderName` has `count` complete builds; returns them. */
  waitForBuilds(
    builderName: string,
    count: number,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>[]>;
  /** The text of a step's stdio log. */
  stepLog(buildid: number, stepName: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startChangeFixture(
  input: MasterConfigInput,
  workers: { name: string; password: string }[],
): Promise<ChangeFixture> {
  const basedir = await makeTempDir('ym-changes-');
  const webPort = await freePort();
  const workerPort = await freePort();
  const events: string[] = [];
  let currentInput = input;
  let master: Master | null = null;

  const start = async (config: MasterConfigInput = currentInput) => {
    currentInput = config;
    events.length = 0;
    const m = new Master({
      config: validateConfig(config, 'change-fixture'),
      basedir,
      webPort,
      webHost: '127.0.0.1',
      workerPort,
      workerHost: '127.0.0.1',
      dbUrl: `sqlite:///${path.join(basedir, 'state.sqlite')}`,
      logger: pino({ level: process.env.YARDMASTER_TEST_LOG ?? 'silent' }),
      heartbeatMs: 200,
    });
    await m.start();
    for (const length of [3, 4, 5, 6, 7]) {
      m.data.bus.subscribe(Array<string>(length).fill('*'), (key) => events.push(key.join('/')));
    }
    master = m;
  };
  await start();

  const agents = await Promise.all(
    workers.map(async (w) => {
      const agent = new WorkerAgent({
        masters: [`127.0.0.1:${workerPort}`],
        name: w.name,
        password: w.password,
        basedir: await makeTempDir(`ym-changes-${w.name}-`),
        logger: silentLogger,
        initialBackoffMs: 100,
        maxBackoffMs: 500,
        environ: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: basedir },
      });
      agent.start();
      return agent;
    }),
  );
  const current = (): Master => {
    if (!master) throw new Error('the master is stopped');
    return master;
  };
  try {
    await waitFor(
      async () => {
        const list = await current().data.workers.list();
        return list.filter((w) => w.connected_to.length > 0).length === workers.length;
      },
      { timeoutMs: 20_000, message: 'workers connected' },
    );
  } catch (error) {
    await Promise.all(agents.map((agent) => agent.stop()));
    await current().stop();
    throw error;
  }

  const base = `http://127.0.0.1:${webPort}`;
  const builds = async (builderName: string) => {
    const response = await httpJson<{ builds: Record<string, unknown>[] }>(
      'GET',
      `${base}/api/v2/builders/${encodeURIComponent(builderName)}/builds?complete=true&order=buildid&property=*`,
    );
    return response.status === 200 ? response.json.builds : [];
  };
  const fixture: ChangeFixture = {
    get master() {
      return current();
    },
    base,
    basedir,
    events,
    startMaster: start,
    async stopMaster() {
      await master?.stop();
      master = null;
    },
    builds,
    async waitForBuilds(builderName, count, timeoutMs = 30_000) {
      let found: Record<string, unknown>[] = [];
      await waitFor(
        async () => {
          found = await builds(builderName);
          return found.length >= count;
        },
        { timeoutMs, message: `${count} complete build(s) of ${builderName}` },
      );
      return found;
    },
    async stepLog(buildid, stepName) {
      const steps = await httpJson<{ steps: { stepid: number; name: string }[] }>(
        'GET',
        `${base}/api/v2/builds/${buildid}/steps`,
      );
      const step = steps.json.steps.find((s) => s.name === stepName);
      if (!step) throw new Error(`build ${buildid} has no step ${stepName}`);
      const logs = await httpJson<{ logs: { logid: number; slug: string }[] }>(
        'GET',
        `${base}/api/v2/steps/${step.stepid}/logs`,
      );
      const log = logs.json.logs[0];
      if (!log) return '';
      return (await httpJson('GET', `${base}/api/v2/logs/${log.logid}/raw`)).text;
    },
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop()));
      await master?.stop();
      master = null;
    },
  };
  return fixture;
}
