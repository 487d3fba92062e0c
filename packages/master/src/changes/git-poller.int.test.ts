/**
 * Scenario: a real git repository polled by `gitPoller`, a `singleBranchScheduler` that
 * builds each commit on a real worker (checkout + `%(src::branch)s`), a `trigger` step
 * that waits for a `triggerable` scheduler's build, and a `dependent` scheduler after it.
 * Then the master stops, commits land while it is down, and it starts again: every commit
 * is built once, none twice. A poller of a repository that does not exist fails, is
 * reported and retried, and the master keeps working.
 */
import { Results } from '../results.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommit, makeGitRepo, makeTempDir, waitFor, type GitRepo } from '@yardmaster/testkit';
import { startChangeFixture, type ChangeFixture } from '../../test/change-fixture.js';
import {
  buildFactory,
  builder,
  defineConfig,
  dependent,
  git,
  gitPoller,
  interpolate,
  shellCommand,
  singleBranchScheduler,
  trigger,
  triggerable,
  worker,
  type MasterConfigInput,
} from '../config/index.js';
import { EMPTY_SPEC } from '../data/result-spec.js';

const { SUCCESS } = Results;

let repo: GitRepo;
let f: ChangeFixture;
let config: MasterConfigInput;

function makeConfig(repourl: string): MasterConfigInput {
  return defineConfig({
    // app builds one at a time on w1 (a checkout per build); tests and deploy run on w2.
    workers: [
      worker('w1', { password: 'pw1', maxBuilds: 1 }),
      worker('w2', { password: 'pw2', maxBuilds: 2 }),
    ],
    builders: [
      builder({
        name: 'app',
        workerNames: ['w1'],
        collapseRequests: false,
        factory: buildFactory([
          git({ repourl, mode: 'full', method: 'clobber' }),
          shellCommand({
            name: 'show',
            command: interpolate(
              'echo "branch=%(src::branch)s revision=%(src::revision)s tier=%(prop:tier)s"; cat version.txt',
            ),
          }),
          trigger({
            schedulerNames: ['tests'],
            waitForFinish: true,
            setProperties: { from: interpolate('%(prop:buildername)s #%(prop:buildnumber)s') },
            copyProperties: ['tier'],
          }),
        ]),
      }),
      builder({
        name: 'tests',
        workerNames: ['w2'],
        collapseRequests: false,
        factory: buildFactory([
          shellCommand({
            name: 'report',
            command: interpolate('echo "tests of %(src::revision)s from %(prop:from)s"'),
          }),
        ]),
      }),
      builder({
        name: 'deploy',
        workerNames: ['w2'],
        collapseRequests: false,
        factory: buildFactory([
          shellCommand({ name: 'ship', command: interpolate('echo "ship %(src::revision)s"') }),
        ]),
      }),
    ],
    changeSources: [
      gitPoller({ repourl, branches: ['main'], pollInterval: 0.2, pollAtLaunch: true }),
      gitPoller({
        name: 'broken',
        repourl: 'file:///nonexistent/yardmaster/repo.git',
        branches: true,
        pollInterval: 0.2,
        pollAtLaunch: true,
      }),
    ],
    schedulers: [
      singleBranchScheduler({
        name: 'main',
        branch: 'main',
        builderNames: ['app'],
        properties: { tier: 'ci' },
      }),
      triggerable({ name: 'tests', builderNames: ['tests'] }),
      dependent({ name: 'after-main', upstream: 'main', builderNames: ['deploy'] }),
    ],
  });
}

beforeAll(async () => {
  repo = await makeGitRepo(await makeTempDir('ym-poll-repo-'), { 'version.txt': 'v1\n' });
  config = makeConfig(repo.url);
  f = await startChangeFixture(config, [
    { name: 'w1', password: 'pw1' },
    { name: 'w2', password: 'pw2' },
  ]);
  // The first poll only records the heads.
  await waitFor(
    () =>
      f.master.schedulerManager
        ?.gitPollers()
        .every((p) => (p.name === 'broken' ? p.polls > 0 : p.successes > 0)),
    { message: 'first polls' },
  );
});

afterAll(async () => {
  await f?.stop();
});

describe('gitPoller → singleBranchScheduler → trigger → dependent', () => {
  let sha: string;

  it('builds a new commit on a real worker, with the change source stamp and properties', async () => {
    sha = await gitCommit(repo, { 'version.txt': 'v2\n', 'src/a.ts': 'x\n' }, 'second\n\nbody');
    const [app] = await f.waitForBuilds('app', 1);
    expect(app?.results).toBe(SUCCESS);
    const props = app?.properties as Record<string, [unknown, string]>;
    expect(props.scheduler).toEqual(['main', 'Scheduler']);
    expect(props.tier).toEqual(['ci', 'Scheduler']);
    expect(props.branch).toEqual(['main', 'Build']);
    expect(props.revision).toEqual([sha, 'Build']);
    expect(props.got_revision?.[0]).toBe(sha);
    const log = await f.stepLog(Number(app?.buildid), 'show');
    expect(log).toContain(`branch=main revision=${sha} tier=ci`);
    expect(log).toContain('v2');

    // The change row, with its files, and the build's changes.
    const { items: changes } = await f.master.data.changes.list(EMPTY_SPEC);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      revision: sha,
      branch: 'main',
      author: 'Yardmaster Test <test@yardmaster.invalid>',
      comments: 'second\nbody',
      files: ['src/a.ts', 'version.txt'],
      repository: repo.url,
    });
    const buildChanges = await f.master.data.changes.list(EMPTY_SPEC, {
      buildid: Number(app?.buildid),
    });
    expect(buildChanges.items.map((c) => c.changeid)).toEqual([changes[0]?.changeid]);
    expect(f.events).toContain(`changes/${changes[0]?.changeid}/new`);

    // The REST API: the change's builds, and the change sources with the master running them.
    const rest = async (pathname: string) =>
      (await fetch(`${f.base}/api/v2${pathname}`)).json() as Promise<Record<string, unknown>>;
    const changeBuilds = (await rest(`/changes/${changes[0]?.changeid}/builds`)).builds as {
      buildid: number;
    }[];
    // The app build (and the deploy build, which reuses the change's source stamp).
    expect(changeBuilds.map((b) => b.buildid)).toContain(app?.buildid);
    const sources = (await rest('/changesources')).changesources as {
      name: string;
      master: { masterid: number } | null;
    }[];
    expect(sources.map((source) => [source.name, source.master?.masterid])).toEqual([
      [repo.url, f.master.masterid],
      ['broken', f.master.masterid],
    ]);
  });

  it('the trigger step waited for the triggered build, which got the revision and properties', async () => {
    const [tests] = await f.waitForBuilds('tests', 1);
    const [app] = await f.builds('app');
    expect(tests?.results).toBe(SUCCESS);
    const props = tests?.properties as Record<string, [unknown, string]>;
    expect(props.from).toEqual([`app #${String(app?.number)}`, 'Trigger']);
    expect(props.tier).toEqual(['ci', 'Trigger']);
    expect(props.scheduler).toEqual(['tests', 'Scheduler']);
    expect(await f.stepLog(Number(tests?.buildid), 'report')).toContain(`tests of ${sha} from app`);
    // The trigger step finished after the triggered build, with a link to it.
    const request = await f.master.data.buildsets.getRequest(Number(tests?.buildrequestid));
    const buildset = await f.master.data.buildsets.get(request?.buildsetid ?? 0);
    expect(buildset?.parent_buildid).toBe(app?.buildid);
    expect(buildset?.parent_relationship).toBe('Triggered from');
    expect(request?.waited_for).toBe(true);
    const steps = await f.master.data.steps.list(EMPTY_SPEC, { buildid: Number(app?.buildid) });
    const step = steps.items.find((s) => s.name === 'trigger');
    expect(step?.results).toBe(SUCCESS);
    expect(step?.state_string).toBe('triggered tests, 1 success');
    expect(step?.urls.map((u) => u.name)).toEqual([
      `tests #${String(tests?.buildrequestid)}`,
      `success: tests #${String(tests?.number)}`,
    ]);
    expect(Number(step?.complete_at)).toBeGreaterThanOrEqual(Number(tests?.complete_at));
  });

  it('dependent built the same source stamp after the upstream buildset succeeded', async () => {
    const [deploy] = await f.waitForBuilds('deploy', 1);
    expect(deploy?.results).toBe(SUCCESS);
    expect(await f.stepLog(Number(deploy?.buildid), 'ship')).toContain(`ship ${sha}`);
    expect((deploy?.properties as Record<string, unknown>).scheduler).toEqual([
      'after-main',
      'Scheduler',
    ]);
  });

  it('reports the broken poller and keeps retrying without stopping the master', async () => {
    const broken = f.master.schedulerManager?.gitPollers().find((p) => p.name === 'broken');
    expect(broken?.failures).toBeGreaterThan(0);
    expect(broken?.lastError).toMatch(/git ls-remote --refs file:\/\/\/nonexistent/);
  });

  it('after a restart, commits made while it was down are built once each', async () => {
    await f.stopMaster();
    const second = await gitCommit(repo, { 'version.txt': 'v3\n' }, 'third');
    const third = await gitCommit(repo, { 'version.txt': 'v4\n' }, 'fourth');
    await f.startMaster(config);
    const builds = await f.waitForBuilds('app', 3, 40_000);
    expect(builds.map((b) => (b.properties as Record<string, [unknown]>).revision?.[0])).toEqual([
      sha,
      second,
      third,
    ]);
    expect(builds.map((b) => b.results)).toEqual([SUCCESS, SUCCESS, SUCCESS]);
    await f.waitForBuilds('deploy', 3, 40_000);
    // Polls keep coming: still exactly three changes, three app builds.
    const polls = f.master.schedulerManager?.gitPollers()[0]?.polls ?? 0;
    await waitFor(() => (f.master.schedulerManager?.gitPollers()[0]?.polls ?? 0) > polls + 2);
    const { items: changes } = await f.master.data.changes.list(EMPTY_SPEC);
    expect(changes.map((c) => c.revision)).toEqual([sha, second, third]);
    expect(await f.builds('app')).toHaveLength(3);
    expect(f.events.filter((e) => /^changes\/\d+\/new$/.test(e))).toHaveLength(2);
  });
});
