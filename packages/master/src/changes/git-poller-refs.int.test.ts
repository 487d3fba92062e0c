/**
 * The git poller against real repositories, on its own (in-memory SQLite, a hand-driven
 * clock): which refs it follows (a list, every branch, a regular expression, tags), new
 * branches, pushes without new commits, refs that disappear, and the retry delays of a
 * failing git.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { git, gitCommit, makeGitRepo, makeTempDir, type GitRepo } from '@yardmaster/testkit';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from '../data/data-api.js';
import { EMPTY_SPEC } from '../data/result-spec.js';
import { gitPollerSchema } from '../config/schema.js';
import { gitPoller } from '../config/index.js';
import type { GitPollerOptions } from '../config/types.js';
import { ManualClock } from '../schedulers/clock.js';
import { GitPoller } from './git-poller.js';

let handle: DatabaseHandle;
let data: DataApi;
let repo: GitRepo;
let basedir: string;
let clock: ManualClock;

beforeEach(async () => {
  handle = await openDatabase('sqlite://', '/tmp');
  clock = new ManualClock(1_700_000_000_000);
  data = new DataApi({
    db: handle.db,
    bus: new InProcessBus(() => undefined),
    now: () => clock.now(),
  });
  repo = await makeGitRepo(await makeTempDir('ym-refs-repo-'), { 'a.txt': '1\n' });
  basedir = await makeTempDir('ym-refs-master-');
});

afterEach(async () => {
  await handle.close();
});

function poller(options: Partial<GitPollerOptions>): GitPoller {
  const config = gitPollerSchema.parse(gitPoller({ repourl: repo.url, ...options }));
  return new GitPoller(config, { data, log: pino({ level: 'silent' }), basedir, clock });
}

async function changes(): Promise<[string | null, string | null, string[]][]> {
  const { items } = await data.changes.list(EMPTY_SPEC);
  return items.map((c) => [c.branch, c.revision, c.files]);
}

describe('gitPoller refs', () => {
  it('follows every branch: new commits, a new branch, a branch moved without commits', async () => {
    const p = poller({ branches: true, buildPushesWithNoCommits: true });
    await p.activate();
    await p.pollNow();
    expect(await changes()).toEqual([]);
    const c2 = await gitCommit(repo, { 'b.txt': '2\n' }, 'on main');
    await git(repo.path, ['checkout', '-q', '-b', 'feature']);
    const c3 = await gitCommit(repo, { 'c.txt': '3\n' }, 'on feature');
    await git(repo.path, ['branch', 'other', repo.head]);
    await p.pollNow();
    // As Buildbot: refs in name order, each against every revision seen so far, so c2
    // (new, and reachable from feature) is feature's; main and other moved to commits
    // seen before: a change each only with buildPushesWithNoCommits.
    expect(await changes()).toEqual([
      ['feature', c2, ['b.txt']],
      ['feature', c3, ['c.txt']],
      ['main', c2, ['b.txt']],
      ['other', repo.head, ['a.txt']],
    ]);
    await p.pollNow();
    expect(await changes()).toHaveLength(4);
    // A deleted branch is forgotten.
    await git(repo.path, ['branch', '-D', 'other']);
    await p.pollNow();
    const objectid = await data.state.objectId(repo.url, 'GitPoller');
    expect(Object.keys((await data.state.get(objectid, 'lastRev')) as object).sort()).toEqual([
      'refs/heads/feature',
      'refs/heads/main',
    ]);
    await p.deactivate();
  });

  it('follows refs by regular expression, or only tags', async () => {
    const releases = poller({ name: 'rel', branches: '^refs/heads/release/' });
    const tags = poller({ name: 'tags', onlyTags: true, workdir: 'tags-work' });
    await releases.activate();
    await tags.activate();
    await releases.pollNow();
    await tags.pollNow();
    await git(repo.path, ['checkout', '-q', '-b', 'release/1.0']);
    const r1 = await gitCommit(repo, { 'r.txt': 'r\n' }, 'release');
    await git(repo.path, ['tag', 'v1.0']);
    await git(repo.path, ['checkout', '-q', 'main']);
    await gitCommit(repo, { 'x.txt': 'x\n' }, 'on main later');
    await releases.pollNow();
    await tags.pollNow();
    // Both followed nothing so far: the first ref each finds is one change, its head.
    expect(await changes()).toEqual([
      ['release/1.0', r1, ['r.txt']],
      ['refs/tags/v1.0', r1, ['r.txt']],
    ]);
    const t2 = await gitCommit(repo, { 't.txt': 't\n' }, 'tagged');
    await git(repo.path, ['tag', 'v2.0']);
    await tags.pollNow();
    expect((await changes()).at(-1)).toEqual(['refs/tags/v2.0', t2, ['t.txt']]);
    await releases.deactivate();
    await tags.deactivate();
  });

  it('retries a failing git 5 s, 10 s, 20 s later and recovers', async () => {
    const p = poller({ repourl: `${repo.url}-missing`, pollInterval: '10m', pollAtLaunch: true });
    await p.activate();
    await clock.advance(0);
    expect(p.failures).toBe(1);
    expect(clock.pending()).toEqual([clock.now() + 5_000]);
    await clock.advance(5_000);
    expect(p.failures).toBe(2);
    expect(clock.pending()).toEqual([clock.now() + 10_000]);
    await clock.advance(10_000);
    expect(p.failures).toBe(3);
    expect(clock.pending()).toEqual([clock.now() + 20_000]);
    expect(p.lastError).toMatch(/git ls-remote/);
    await p.deactivate();
    expect(clock.pending()).toEqual([]);
  });
});
