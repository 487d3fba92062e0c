/**
 * `yardmaster reconfig` against a real master process: the master writes its pid file,
 * the command signals it (SIGHUP) and prints its answer; a builder added to the file runs
 * builds without a restart, and an invalid file is refused with every problem (exit
 * status 2) while the running config stays.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpawnedProcess } from '@yardmaster/testkit';
import {
  MASTER_BIN,
  startMaster,
  startWorker,
  waitForBuild,
  waitForConnected,
  writeConfig,
  type RunningMaster,
} from './harness.js';

const run = promisify(execFile);

const config = (builders: string[]) => `
import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';
export default defineConfig({
  workers: [worker('w1', { password: 'pw-1' })],
  builders: [${builders
    .map(
      (name) =>
        `builder({ name: '${name}', workerNames: ['w1'], factory: buildFactory([shellCommand({ command: 'echo ${name}' })]) })`,
    )
    .join(', ')}],
  schedulers: [forceScheduler({ name: 'force', builderNames: ${JSON.stringify(builders)} })],
});
`;

let master: RunningMaster;
let workerProcess: SpawnedProcess;

async function reconfig(): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      MASTER_BIN,
      'reconfig',
      '--basedir',
      master.basedir,
    ]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  master = await startMaster(config(['first']));
  workerProcess = await startWorker(master, 'w1', 'pw-1');
  await waitForConnected(master, ['w1']);
});

afterAll(async () => {
  await workerProcess.stop();
  await master.stop();
});

describe('yardmaster reconfig', () => {
  it('reloads the config file of a running master: a new builder runs at once', async () => {
    const pid = Number(readFileSync(path.join(master.basedir, 'master.pid'), 'utf8'));
    expect(pid).toBe(master.process.pid);
    await writeConfig(master.basedir, config(['first', 'second']));
    const answer = await reconfig();
    expect(answer).toMatchObject({
      code: 0,
      stdout: 'configuration updated: added builder second; changed scheduler force\n',
    });
    const { builders } = await master.get<{ builders: { name: string }[] }>('/builders');
    expect(builders.map((b) => b.name)).toContain('second');
    const forced = await master.force('force', { builderNames: ['second'] });
    const build = await waitForBuild(master, Object.values(forced.brids)[0] ?? 0);
    expect(build.results).toBe(0);
  });

  it('refuses an invalid config with every problem; the master keeps the old one', async () => {
    await writeConfig(
      master.basedir,
      config(['first']).replace("password: 'pw-1'", "pasword: 'pw-1'"),
    );
    const answer = await reconfig();
    expect(answer.code).toBe(2);
    expect(answer.stderr).toContain('reconfig refused, the running configuration stays');
    expect(answer.stderr).toContain('workers[0].pasword: unknown key (did you mean "password"?)');
    const forced = await master.force('force', { builderNames: ['second'] });
    expect((await waitForBuild(master, Object.values(forced.brids)[0] ?? 0)).results).toBe(0);
    expect(master.process.output()).toContain('reconfig refused');
  });
});
