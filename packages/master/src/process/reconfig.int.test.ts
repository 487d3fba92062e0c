/**
 * Config reload on a real master with real workers, from a config file rewritten on disk
 * (what SIGHUP / `yardmaster reconfig` do through `reloadConfig`): added, removed and
 * changed builders and workers take effect, a running build keeps the steps it started
 * with and a removed worker finishes its build first, and an invalid file is refused with
 * every problem while the old config keeps working.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, waitFor } from '@yardmaster/testkit';
import { loadConfig } from '../config/load-config.js';
import { Results } from '../results.js';
import { reloadConfig } from '../run-master.js';
import { startBuildFixture, type BuildFixture } from '../../test/build-fixture.js';

let fixture: BuildFixture;
let file: string;
const silent = pino({ level: 'silent' });

function configSource(body: string): string {
  return `import { buildFactory, builder, defineConfig, shellCommand, worker } from '@yardmaster/master';
export default defineConfig(${body});
`;
}

const FIRST = configSource(`{
  workers: [worker('w1', { password: 'pw1' }), worker('w2', { password: 'pw2' })],
  builders: [
    builder({ name: 'slow', workerNames: ['w1'], factory: buildFactory([shellCommand({ name: 'work', command: 'sleep 1.5; echo old steps' })]) }),
    builder({ name: 'on-w2', workerNames: ['w2'], factory: buildFactory([shellCommand({ name: 'work', command: 'sleep 1.5; echo on w2' })]) }),
    builder({ name: 'dropped', workerNames: ['w1'], factory: buildFactory([shellCommand({ command: 'true' })]) }),
  ],
}`);

const SECOND = configSource(`{
  workers: [worker('w1', { password: 'pw1' }), worker('w3', { password: 'pw3' })],
  builders: [
    builder({ name: 'slow', workerNames: ['w1'], factory: buildFactory([shellCommand({ name: 'work', command: 'echo new steps' })]) }),
    builder({ name: 'added', workerNames: ['w3'], factory: buildFactory([shellCommand({ name: 'work', command: 'echo added' })]) }),
  ],
}`);

const INVALID = configSource(`{
  workers: [worker('w1', { pasword: 'pw1' })],
  builders: [builder({ name: 'slow', workerNames: ['w9'], factory: buildFactory([]) })],
}`);

let configDir = '';
function writeConfig(source: string): string {
  file = path.join(configDir, 'master.config.ts');
  writeFileSync(file, source);
  return file;
}

beforeAll(async () => {
  configDir = await makeTempDir('ym-reconfig-config-');
  fixture = await startBuildFixture({ validated: await loadConfig(writeConfig(FIRST)) });
  fixture.startWorker('w1', 'pw1');
  fixture.startWorker('w2', 'pw2');
});

afterAll(async () => {
  await fixture.stop();
});

describe('reconfig', () => {
  it('applies added, removed and changed builders and workers; running builds are not disturbed', async () => {
    const [slow] = await fixture.submit('slow');
    const [onW2] = await fixture.submit('on-w2');
    await fixture.buildOf(slow ?? 0, (b) => b.state_string === 'building');
    await fixture.buildOf(onW2 ?? 0, (b) => b.state_string === 'building');

    writeConfig(SECOND);
    const outcome = await reloadConfig(fixture.master, file, silent);
    expect(outcome).toEqual({
      ok: true,
      message:
        'configuration updated: added worker w3, builder added; removed worker w2, builder on-w2, builder dropped; changed builder slow',
    });

    // The running builds end as they started: old steps, and w2 until its build is done.
    const old = await fixture.buildOf(slow ?? 0);
    expect(old.results).toBe(Results.SUCCESS);
    expect(await fixture.log(old.buildid, 'work')).toContain('old steps');
    const onRemovedWorker = await fixture.buildOf(onW2 ?? 0);
    expect(onRemovedWorker.results).toBe(Results.SUCCESS);
    await waitFor(
      async () => (await fixture.master.data.workers.get('w2'))?.connected_to.length === 0,
      { message: 'w2 disconnected once idle' },
    );

    // New builds use the new config.
    const [again] = await fixture.submit('slow');
    const next = await fixture.buildOf(again ?? 0);
    expect(await fixture.log(next.buildid, 'work')).toContain('new steps');
    fixture.startWorker('w3', 'pw3');
    const [added] = await fixture.submit('added');
    expect((await fixture.buildOf(added ?? 0)).results).toBe(Results.SUCCESS);
    expect(fixture.master.config.builders.map((b) => b.name)).toEqual(['slow', 'added']);
  });

  it('refuses an invalid config with every problem; the old one keeps running', async () => {
    const before = fixture.master.config;
    writeConfig(INVALID);
    const outcome = await reloadConfig(fixture.master, file, silent);
    expect(outcome.ok).toBe(false);
    expect(outcome.problems).toEqual([
      { path: 'workers[0].pasword', message: 'unknown key (did you mean "password"?)' },
      { path: 'builders[0].workerNames[0]', message: 'unknown worker "w9" (known: w1)' },
    ]);
    expect(outcome.message).toMatch(/^reconfig refused, the running configuration stays: /);
    expect(fixture.master.config).toBe(before);
    const [slow] = await fixture.submit('slow');
    expect((await fixture.buildOf(slow ?? 0)).results).toBe(Results.SUCCESS);
  });
});
