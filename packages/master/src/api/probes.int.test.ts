/**
 * /healthz, /readyz and /metrics on a real master: readiness follows the life cycle
 * (ready once started, 503 while draining), liveness needs the database, and the metrics
 * show the queue, running builds, workers and the queue wait.
 */
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerAgent, silentLogger } from '@yardmaster/worker';
import { httpJson, makeTempDir, waitFor } from '@yardmaster/testkit';
import { Master } from '../master.js';
import {
  buildFactory,
  builder,
  forceScheduler,
  shellCommand,
  validateConfig,
  worker,
} from '../config/index.js';

let master: Master;
let agent: WorkerAgent;
let base: string;
let stopped = false;

beforeAll(async () => {
  const basedir = await makeTempDir('ym-probes-');
  const config = validateConfig(
    {
      workers: [worker('w1', { password: 'pw1', maxBuilds: 1 })],
      builders: [
        builder({
          name: 'slow',
          workerNames: ['w1'],
          collapseRequests: false,
          factory: buildFactory([shellCommand({ command: 'sleep 1' })]),
        }),
      ],
      schedulers: [forceScheduler({ name: 'force', builderNames: ['slow'] })],
    },
    'probes',
  );
  master = new Master({
    config,
    basedir,
    webPort: 0,
    webHost: '127.0.0.1',
    workerPort: 0,
    workerHost: '127.0.0.1',
    dbUrl: `sqlite:///${path.join(basedir, 'state.sqlite')}`,
    logger: pino({ level: 'silent' }),
    drainTimeoutMs: 20_000,
  });
  await master.start();
  base = `http://127.0.0.1:${master.webPort}`;
  agent = new WorkerAgent({
    masters: [`127.0.0.1:${master.workerPort}`],
    name: 'w1',
    password: 'pw1',
    basedir: await makeTempDir('ym-probes-worker-'),
    logger: silentLogger,
    environ: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: basedir },
  });
  agent.start();
});

afterAll(async () => {
  await agent.stop();
  if (!stopped) await master.stop();
});

async function metrics(): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

function force(): Promise<unknown> {
  return httpJson('POST', `${base}/api/v2/forceschedulers/force`, {
    jsonrpc: '2.0',
    method: 'force',
    id: 1,
    params: { builderNames: ['slow'] },
  });
}

describe('probes', () => {
  it('answers /healthz with the event loop and database checks', async () => {
    const response = await httpJson<{ status: string; checks: Record<string, string> }>(
      'GET',
      `${base}/healthz`,
    );
    expect(response.status).toBe(200);
    expect(response.json.status).toBe('ok');
    expect(response.json.checks.database).toBe('ok');
    expect(response.json.checks.eventLoop).toMatch(/^ok/);
  });

  it('is ready once started', async () => {
    const response = await httpJson('GET', `${base}/readyz`);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ status: 'ready' });
  });
});

describe('/metrics', () => {
  it('shows pending requests, running builds, workers and the queue wait', async () => {
    await waitFor(async () => (await metrics()).includes('yardmaster_workers{state="idle"} 1'), {
      message: 'the worker is idle',
    });
    await force();
    await force();
    await waitFor(
      async () => {
        const text = await metrics();
        return (
          text.includes('yardmaster_builds_running{builder="slow"} 1') &&
          text.includes('yardmaster_build_requests_pending{builder="slow"} 1') &&
          text.includes('yardmaster_workers{state="busy"} 1')
        );
      },
      { message: 'one build runs and one request waits', timeoutMs: 15_000 },
    );
    await waitFor(
      async () =>
        /yardmaster_build_request_wait_seconds_count\{builder="slow"\} 2/.test(await metrics()),
      { message: 'both builds started', timeoutMs: 15_000 },
    );
    const text = await metrics();
    expect(text).toContain('# TYPE yardmaster_build_request_wait_seconds histogram');
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});

describe('drain', () => {
  it('answers /readyz 503 while running builds finish, and lets them finish', async () => {
    await waitFor(async () => (await metrics()).includes('yardmaster_workers{state="idle"} 1'), {
      message: 'the worker is idle again',
      timeoutMs: 15_000,
    });
    await force();
    await waitFor(
      async () => (await metrics()).includes('yardmaster_builds_running{builder="slow"} 1'),
      { message: 'a build runs' },
    );
    const finished: number[] = [];
    master.data.bus.subscribe(['builds', '*', 'finished'], (_key, message) => {
      finished.push((message as { results: number }).results);
    });
    const stopping = master.stop();
    await waitFor(async () => (await httpJson('GET', `${base}/readyz`)).status === 503, {
      message: '/readyz says 503 while draining',
    });
    expect((await httpJson('GET', `${base}/healthz`)).status).toBe(200);
    await stopping;
    stopped = true;
    // The build finished during the drain: SUCCESS, not interrupted (RETRY).
    expect(finished).toEqual([0]);
  });
});
