/**
 * Scenario: a `periodic` scheduler building on a real worker, across a master restart
 * (its last build time is in the database), and a force scheduler with typed parameters,
 * nested groups and two codebases, forced over JSON-RPC: refused with every problem at
 * once, then built with both source stamps and the properties it was given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpJson, waitFor } from '@yardmaster/testkit';
import { startChangeFixture, type ChangeFixture } from '../../test/change-fixture.js';
import {
  buildFactory,
  builder,
  defineConfig,
  forceScheduler,
  interpolate,
  periodic,
  shellCommand,
  worker,
  type MasterConfigInput,
} from '../config/index.js';

let f: ChangeFixture;
let config: MasterConfigInput;

beforeAll(async () => {
  config = defineConfig({
    workers: [worker('w1', { password: 'pw1', maxBuilds: 2 })],
    builders: [
      builder({
        name: 'tick',
        workerNames: ['w1'],
        collapseRequests: false,
        factory: buildFactory([shellCommand({ name: 'tick', command: 'echo tick' })]),
      }),
      builder({
        name: 'multi',
        workerNames: ['w1'],
        factory: buildFactory([
          shellCommand({
            name: 'show',
            command: interpolate(
              'echo "app=%(src:app:branch)s@%(src:app:revision)s lib=%(src:lib:branch)s jobs=%(prop:jobs)s"',
            ),
          }),
        ]),
      }),
    ],
    schedulers: [
      periodic({
        name: 'tick',
        periodicBuildTimer: 1.5,
        builderNames: ['tick'],
        properties: { kind: 'periodic' },
      }),
      forceScheduler({
        name: 'force',
        builderNames: ['multi'],
        codebases: [
          'app',
          {
            codebase: 'lib',
            branch: { type: 'choice', name: 'branch', choices: ['main', 'stable'] },
            repository: 'https://example.invalid/lib.git',
            project: null,
          },
        ],
        properties: [
          { type: 'int', name: 'jobs', default: 2 },
          {
            type: 'nested',
            name: 'deploy',
            fields: [
              { type: 'bool', name: 'enabled' },
              { type: 'choice', name: 'env', choices: ['staging', 'prod'], required: true },
            ],
          },
        ],
      }),
    ],
  });
  f = await startChangeFixture(config, [{ name: 'w1', password: 'pw1' }]);
});

afterAll(async () => {
  await f?.stop();
});

describe('periodic', () => {
  it('builds every period on a real worker and keeps its rhythm across a restart', async () => {
    const builds = await f.waitForBuilds('tick', 2);
    const props = builds[0]?.properties as Record<string, [unknown, string]>;
    expect(props.scheduler).toEqual(['tick', 'Scheduler']);
    expect(props.kind).toEqual(['periodic', 'Scheduler']);
    const objectid = await f.master.data.state.objectId('tick', 'Periodic');
    const lastBuild = await f.master.data.state.get(objectid, 'last_build');
    expect(typeof lastBuild).toBe('number');
    await f.stopMaster();
    await f.startMaster(config);
    const before = (await f.builds('tick')).length;
    await f.waitForBuilds('tick', before + 1);
    expect(Number(await f.master.data.state.get(objectid, 'last_build'))).toBeGreaterThan(
      Number(lastBuild),
    );
  });
});

describe('forceScheduler with typed parameters and codebases', () => {
  const force = (params: Record<string, unknown>) =>
    httpJson<{ result?: [number, Record<string, number>]; error?: { message: string } }>(
      'POST',
      `${f.base}/api/v2/forceschedulers/force`,
      { jsonrpc: '2.0', method: 'force', id: 1, params },
    );

  it('refuses bad values with every problem, by full name', async () => {
    const refused = await force({ jobs: 'x', lib_branch: 'dev' });
    expect(refused.status).toBe(400);
    expect(refused.json.error?.message).toBe(
      `force scheduler "force" refused the request: lib_branch: 'dev' does not belong to list of available choices 'main', 'stable'; jobs: expected an integer, got "x"; deploy_env: 'env' needs to be specified`,
    );
  });

  it('builds both codebases with the given properties', async () => {
    const forced = await force({
      app_branch: 'feature',
      app_revision: 'abc123',
      lib_branch: 'stable',
      jobs: '8',
      deploy_enabled: true,
      deploy_env: 'staging',
      username: 'Ann <ann@example.invalid>',
    });
    expect(forced.status).toBe(200);
    const [build] = await f.waitForBuilds('multi', 1);
    const log = await f.stepLog(Number(build?.buildid), 'show');
    expect(log).toContain('app=feature@abc123 lib=stable jobs=8');
    const props = build?.properties as Record<string, [unknown, string]>;
    expect(props.deploy).toEqual([{ enabled: true, env: 'staging' }, 'Force Build Form']);
    expect(props.owner).toEqual(['Ann <ann@example.invalid>', 'Force Build Form']);
    const buildset = await f.master.data.buildsets.get(forced.json.result?.[0] ?? 0);
    expect(buildset?.sourcestamps.map((s) => [s.codebase, s.branch, s.repository])).toEqual([
      ['app', 'feature', ''],
      ['lib', 'stable', 'https://example.invalid/lib.git'],
    ]);
    await waitFor(() => f.events.includes(`buildsets/${buildset?.bsid}/complete`));
  });
});
