/**
 * The walking skeleton end to end: a real master process, two real worker processes,
 * builds of a real git repository, stop, a worker killed mid-build, bad input, restart.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  httpJson,
  makeGitRepo,
  makeTempDir,
  spawnProcess,
  waitFor,
  type SpawnedProcess,
} from '@yardmaster/testkit';
import {
  MASTER_BIN,
  buildsOfRequest,
  rawLog,
  startMaster,
  startWorker,
  stepsOf,
  waitForBuild,
  waitForConnected,
  writeConfig,
  WORKER_KIND,
  type RunningMaster,
  Results,
} from './harness.js';

const run = promisify(execFile);
const { SUCCESS, FAILURE, RETRY, CANCELLED } = Results;

async function sleepRunning(marker: string): Promise<boolean> {
  try {
    await run('pgrep', ['-f', marker]);
    return true;
  } catch {
    return false;
  }
}

function config(repoUrl: string): string {
  return `
import { buildFactory, builder, defineConfig, forceScheduler, git, shellCommand, worker } from '@yardmaster/master';

const both = ['w1', 'w2'];
export default defineConfig({
  title: 'e2e',
  workers: [
    worker('w1', { password: 'pw-1', maxBuilds: 1 }),
    worker('w2', { password: 'pw-2', maxBuilds: 1 }),
    worker('w3', { password: 'pw-3' }),
  ],
  builders: [
    builder({ name: 'checkout', workerNames: both, factory: buildFactory([
      git({ repourl: ${JSON.stringify(repoUrl)}, mode: 'full', method: 'clobber' }),
      shellCommand({ name: 'show', command: 'cat hello.txt' }),
      shellCommand({ name: 'test', command: ['sh', './test.sh'] }),
    ]) }),
    builder({ name: 'halting', workerNames: both, factory: buildFactory([
      shellCommand({ name: 'before', command: 'echo before' }),
      shellCommand({ name: 'breaks', command: 'echo about to fail >&2; exit 3', haltOnFailure: true }),
      shellCommand({ name: 'after', command: 'echo after' }),
    ]) }),
    builder({ name: 'sleepy', workerNames: both, factory: buildFactory([
      shellCommand({ name: 'nap', command: 'echo started; sleep 317; echo never' }),
    ]) }),
    builder({ name: 'slow', workerNames: both, collapseRequests: false, factory: buildFactory([
      shellCommand({ name: 'work', command: 'echo started; sleep 3; echo finished' }),
    ]) }),
    builder({ name: 'timeout', workerNames: both, factory: buildFactory([
      shellCommand({ name: 'quiet', command: 'echo start; sleep 30', timeout: 1 }),
    ]) }),
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['checkout', 'halting', 'sleepy', 'slow', 'timeout'] })],
});
`;
}

describe('master + two workers, end to end', () => {
  let master: RunningMaster;
  const workers = new Map<string, SpawnedProcess>();
  let builderIds: Record<string, number> = {};

  beforeAll(async () => {
    const repoDir = await makeTempDir('ym-repo-');
    const repo = await makeGitRepo(repoDir, {
      'hello.txt': 'hello from the test repository\n',
      'test.sh': 'echo "tests ran: $(ls | wc -l) files"\n',
    });
    master = await startMaster(config(repo.url));
    workers.set('w1', await startWorker(master, 'w1', 'pw-1'));
    workers.set('w2', await startWorker(master, 'w2', 'pw-2'));
    await waitForConnected(master, ['w1', 'w2']);
    const { builders } = await master.get<{ builders: { name: string; builderid: number }[] }>(
      '/builders',
    );
    builderIds = Object.fromEntries(builders.map((b) => [b.name, b.builderid]));
  }, 60_000);

  afterAll(async () => {
    for (const w of workers.values()) await w.stop();
    await master?.stop();
  });

  it('checks out a git repository and runs shell steps: SUCCESS, output in the stored log', async () => {
    const { brids } = await master.force('force', { builderid: builderIds.checkout });
    const brid = Object.values(brids)[0]!;
    const build = await waitForBuild(master, brid);
    expect(build.results, build.state_string).toBe(SUCCESS);
    const steps = await stepsOf(master, build.buildid);
    expect(steps.map((s) => s.name)).toEqual(['worker_preparation', 'git', 'show', 'test']);
    expect(steps.every((s) => s.results === SUCCESS)).toBe(true);
    expect(await rawLog(master, build.buildid, 2)).toContain('hello from the test repository');
    expect(await rawLog(master, build.buildid, 3)).toMatch(/tests ran: 2 files/);
    const request = await master.get<{ buildrequests: { complete: boolean; results: number }[] }>(
      `/buildrequests/${brid}`,
    );
    expect(request.buildrequests[0]).toMatchObject({ complete: true, results: SUCCESS });
    const withProps = await master.get<{
      builds: { properties: Record<string, [unknown, string]> }[];
    }>(`/builds/${build.buildid}?property=*`);
    expect(withProps.builds[0]?.properties.got_revision?.[0]).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a failing step gives FAILURE and halts the build when asked', async () => {
    const { brids } = await master.force('force', { builderNames: ['halting'] });
    const build = await waitForBuild(master, Object.values(brids)[0]!);
    expect(build.results).toBe(FAILURE);
    expect(build.state_string).toContain('breaks');
    const steps = await stepsOf(master, build.buildid);
    expect(steps.map((s) => [s.name, s.results])).toEqual([
      ['worker_preparation', SUCCESS],
      ['before', SUCCESS],
      ['breaks', FAILURE],
    ]);
    const log = await rawLog(master, build.buildid, 2);
    expect(log).toContain('about to fail');
    expect(log).toContain('program finished with exit code 3');
  });

  it('a step that stays quiet past its timeout is killed and fails', async () => {
    const started = Date.now();
    const { brids } = await master.force('force', { builderid: builderIds.timeout });
    const build = await waitForBuild(master, Object.values(brids)[0]!);
    expect(build.results).toBe(FAILURE);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await rawLog(master, build.buildid, 1)).toMatch(/timed out/);
  });

  it('stop kills the running command and ends the build CANCELLED', async () => {
    const { brids } = await master.force('force', { builderid: builderIds.sleepy });
    const brid = Object.values(brids)[0]!;
    const running = await waitForBuild(master, brid, () => true);
    await waitFor(async () => (await rawLog(master, running.buildid, 1)).includes('started'), {
      timeoutMs: 15_000,
      message: 'the step to print "started"',
    });
    expect(await sleepRunning('sleep 317')).toBe(true);
    const stopped = await httpJson('POST', master.url(`/api/v2/builds/${running.buildid}`), {
      jsonrpc: '2.0',
      method: 'stop',
      id: 1,
      params: { reason: 'enough' },
    });
    expect(stopped.status).toBe(200);
    const build = await waitForBuild(master, brid, (b) => b.complete, 10_000);
    expect(build.results).toBe(CANCELLED);
    expect(build.state_string).toContain('enough');
    await waitFor(async () => !(await sleepRunning('sleep 317')), {
      timeoutMs: 5_000,
      message: 'sleep 317 to be killed',
    });
  });

  it('a worker killed with SIGKILL mid-build ends that build RETRY and the request runs on the other worker', async () => {
    const { brids } = await master.force('force', { builderid: builderIds.slow });
    const brid = Object.values(brids)[0]!;
    const first = await waitForBuild(master, brid, () => true);
    await waitFor(async () => (await rawLog(master, first.buildid, 1)).includes('started'), {
      timeoutMs: 15_000,
    });
    const { workers: rows } = await master.get<{ workers: { workerid: number; name: string }[] }>(
      '/workers',
    );
    const victim = rows.find((w) => w.workerid === first.workerid)!.name;
    const killedAt = Date.now();
    workers.get(victim)!.kill('SIGKILL');

    const retried = await waitForBuild(
      master,
      brid,
      (b) => b.buildid === first.buildid && b.complete,
      10_000,
    );
    expect(retried.results).toBe(RETRY);
    expect(retried.state_string).toMatch(/lost/);
    expect(Date.now() - killedAt).toBeLessThan(10_000);

    const second = await waitForBuild(
      master,
      brid,
      (b) => b.buildid !== first.buildid && b.complete,
      30_000,
    );
    expect(second.results).toBe(SUCCESS);
    expect(second.workerid).not.toBe(first.workerid);
    expect((await buildsOfRequest(master, brid)).length).toBe(2);

    await workers.get(victim)!.stop();
    workers.set(victim, await startWorker(master, victim, victim === 'w1' ? 'pw-1' : 'pw-2'));
    await waitForConnected(master, ['w1', 'w2']);
  });

  it('force on an unknown builder or scheduler is a 4xx with a message', async () => {
    const unknownBuilder = await httpJson<{ error: { code: number; message: string } }>(
      'POST',
      master.url('/api/v2/forceschedulers/force'),
      { jsonrpc: '2.0', method: 'force', id: 7, params: { builderid: 999 } },
    );
    expect(unknownBuilder.status).toBe(400);
    expect(unknownBuilder.json.error.code).toBe(-32602);
    expect(unknownBuilder.json.error.message).toContain('999');
    const unknownScheduler = await httpJson('POST', master.url('/api/v2/forceschedulers/nope'), {
      jsonrpc: '2.0',
      method: 'force',
      id: 8,
      params: {},
    });
    expect(unknownScheduler.status).toBe(404);
    const notJson = await httpJson(
      'POST',
      master.url('/api/v2/forceschedulers/force'),
      'force please',
      {
        headers: { 'content-type': 'text/plain' },
      },
    );
    expect(notJson.status).toBe(400);
    const unknownPath = await httpJson<{ error: { message: string } }>(
      'GET',
      master.url('/api/v2/nope'),
    );
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.json.error.message).toContain('nope');
  });

  it('refuses a worker with a wrong password (401) and logs it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${master.workerPort}`, {
        headers: { authorization: `Basic ${Buffer.from('w1:wrong').toString('base64')}` },
      });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('a wrong password was accepted')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    await master.process.waitForOutput(/refused worker \\?"w1\\?"/, 5_000);
    if (WORKER_KIND === 'yardmaster') {
      const wrong = await startWorker(master, 'w2', 'not-the-password');
      await wrong.waitForOutput(/401/, 15_000);
      await wrong.stop();
    }
  });

  it('garbage frames on the worker port close that connection and nothing else', async () => {
    const closed = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${master.workerPort}`, {
        headers: { authorization: `Basic ${Buffer.from('w3:pw-3').toString('base64')}` },
      });
      ws.on('open', () => ws.send(Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37])));
      ws.on('close', (code) => resolve(code));
      ws.on('error', reject);
    });
    expect(closed).toBeGreaterThan(0);
    await waitForConnected(master, ['w1', 'w2']);
    const { brids } = await master.force('force', { builderid: builderIds.halting });
    const build = await waitForBuild(master, Object.values(brids)[0]!);
    expect(build.results).toBe(FAILURE);
  });

  it('a master restart keeps the history', async () => {
    const before = await master.get<{ builds: { buildid: number; results: number }[] }>('/builds');
    expect(before.builds.length).toBeGreaterThanOrEqual(5);
    await master.restart();
    const after = await master.get<{ builds: { buildid: number; results: number }[] }>('/builds');
    expect(after.builds).toEqual(before.builds);
    await waitForConnected(master, ['w1', 'w2']);
    const { brids } = await master.force('force', { builderid: builderIds.halting });
    const build = await waitForBuild(master, Object.values(brids)[0]!);
    expect(build.number).toBeGreaterThan(1);
  });
});

describe('yardmaster checkconfig', () => {
  it('lists every problem of a bad config and exits 2', async () => {
    const dir = await makeTempDir('ym-badconfig-');
    const file = await writeConfig(
      dir,
      `import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';
export default defineConfig({
  workers: [worker('linux-1', { password: 'x' })],
  builders: [builder({ name: 'b', workerNames: ['linux-1', 'k8s-2'], factory: buildFactory([shellCommand({ command: 'true', timeout: '30 seconds' })]) })],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['nope'] })],
});
`,
    );
    const check = spawnProcess(process.execPath, [MASTER_BIN, 'checkconfig', file], {
      name: 'checkconfig',
    });
    const exit = await check.exited;
    expect(exit.code).toBe(2);
    const output = check.output();
    expect(output).toMatch(/has 3 problems/);
    expect(output).toContain('builders[0].workerNames[1]');
    expect(output).toContain('k8s-2');
    expect(output).toContain('timeout');
    expect(output).toContain('schedulers[0].builderNames[0]');
  });
});
