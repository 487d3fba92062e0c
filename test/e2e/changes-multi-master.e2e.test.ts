/**
 * Two master processes on one PostgreSQL database share a git poller and a
 * single-branch scheduler (each runs on one master at a time). The master running the
 * poller is killed with SIGKILL; commits pushed while it is dead are found by the other
 * master once it takes the poller over, and every commit is built exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freshPostgresDatabase,
  gitCommit,
  makeGitRepo,
  makeTempDir,
  waitFor,
  type GitRepo,
  type SpawnedProcess,
} from '@yardmaster/testkit';
import {
  startMaster,
  startWorker,
  waitForConnected,
  Results,
  type RunningMaster,
} from './harness.js';

const { SUCCESS } = Results;

interface Build {
  buildid: number;
  complete: boolean;
  results: number | null;
  properties: Record<string, [unknown, string]>;
}

let repo: GitRepo;
let a: RunningMaster;
let b: RunningMaster;
const workers: SpawnedProcess[] = [];

const config = (repourl: string) => `
import { buildFactory, builder, defineConfig, git, gitPoller, shellCommand, singleBranchScheduler, worker } from '@yardmaster/master';
export default defineConfig({
  title: 'changes on two masters',
  workers: [worker('w1', { password: 'p1' }), worker('w2', { password: 'p2' })],
  builders: [
    builder({
      name: 'app',
      workerNames: ['w1', 'w2'],
      collapseRequests: false,
      factory: buildFactory([git({ repourl: '${repourl}', mode: 'full', method: 'clobber' }), shellCommand({ command: 'cat version.txt' })]),
    }),
  ],
  changeSources: [gitPoller({ repourl: '${repourl}', branches: ['main'], pollInterval: 0.3, pollAtLaunch: true })],
  schedulers: [singleBranchScheduler({ name: 'main', branch: 'main', builderNames: ['app'] })],
});
`;

async function appBuilds(master: RunningMaster): Promise<Build[]> {
  return (
    await master.get<{ builds: Build[] }>('/builders/app/builds?order=buildid&property=revision')
  ).builds;
}

beforeAll(async () => {
  repo = await makeGitRepo(await makeTempDir('ym-mm-repo-'), { 'version.txt': 'v1\n' });
  const dbUrl = await freshPostgresDatabase();
  [a, b] = await Promise.all([
    startMaster(config(repo.url), { dbUrl, name: 'master-a', masterExpiry: 3 }),
    startMaster(config(repo.url), { dbUrl, name: 'master-b', masterExpiry: 3 }),
  ]);
  workers.push(await startWorker([a, b], 'w1', 'p1'));
  workers.push(await startWorker([b, a], 'w2', 'p2'));
  await waitForConnected(a, ['w1', 'w2']);
  // One of them polled first and recorded the current head.
  await Promise.any(
    [a, b].map((m) => m.process.waitForOutput(/first poll, following 1 ref/, 20_000)),
  );
}, 90_000);

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await a?.stop().catch(() => undefined);
  await b?.stop().catch(() => undefined);
});

describe('a git poller and its scheduler on two masters', () => {
  it('builds each commit once, also across a SIGKILL of the master that polls', async () => {
    const first = await gitCommit(repo, { 'version.txt': 'v2\n' }, 'second');
    await waitFor(async () => (await appBuilds(b)).some((x) => x.complete), {
      timeoutMs: 30_000,
      message: 'the build of the first commit',
    });

    // Who polls? Kill that master.
    const { changesources } = await b.get<{
      changesources: { master: { name: string } | null }[];
    }>('/changesources');
    const holder = changesources[0]?.master?.name;
    expect(['master-a', 'master-b']).toContain(holder);
    const [dead, alive] = holder === 'master-a' ? [a, b] : [b, a];
    await dead.crash();
    const second = await gitCommit(repo, { 'version.txt': 'v3\n' }, 'third');
    const third = await gitCommit(repo, { 'version.txt': 'v4\n' }, 'fourth');

    const builds = await waitFor(
      async () => {
        const all = await appBuilds(alive);
        return all.filter((x) => x.complete).length >= 3 ? all : null;
      },
      { timeoutMs: 45_000, message: 'the builds of the commits made while a master was dead' },
    );
    // A few more polls: still one build per commit.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const final = await appBuilds(alive);
    expect(final).toHaveLength(3);
    expect(final.map((x) => x.properties.revision?.[0])).toEqual([first, second, third]);
    expect(builds.every((x) => x.results === SUCCESS || !x.complete)).toBe(true);
    const { changes } = await alive.get<{ changes: { revision: string }[] }>('/changes');
    expect(changes.map((c) => c.revision)).toEqual([first, second, third]);
    const after = await alive.get<{
      changesources: { master: { name: string } | null }[];
    }>('/changesources');
    const { schedulers } = await alive.get<{
      schedulers: { name: string; master: { name: string } | null }[];
    }>('/schedulers');
    expect(schedulers.map((x) => [x.name, x.master?.name])).toEqual([
      ['main', holder === 'master-a' ? 'master-b' : 'master-a'],
    ]);
    expect(after.changesources[0]?.master?.name).toBe(
      holder === 'master-a' ? 'master-b' : 'master-a',
    );
  });
});
