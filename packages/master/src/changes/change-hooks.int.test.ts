/**
 * Scenario: change hooks on a real master's web port. A GitHub push with a real
 * `X-Hub-Signature-256` HMAC becomes changes that an `anyBranchScheduler` builds (one
 * buildset per branch) on a real worker; a wrong signature is a 403 and stores nothing;
 * GitLab checks its token; `yardmaster sendchange` (the built CLI) posts to
 * `/change_hook/base` with its user and password, and a change of another codebase
 * reaches the scheduler that builds that codebase.
 */
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnProcess } from '@yardmaster/testkit';
import { startChangeFixture, type ChangeFixture } from '../../test/change-fixture.js';
import {
  anyBranchScheduler,
  buildFactory,
  builder,
  changeFilter,
  defineConfig,
  interpolate,
  shellCommand,
  singleBranchScheduler,
  worker,
} from '../config/index.js';
import { EMPTY_SPEC } from '../data/result-spec.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/yardmaster.js');
const SECRET = 'hook-secret';
let f: ChangeFixture;

async function post(
  pathname: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${f.base}${pathname}`, { method: 'POST', body, headers });
  return { status: response.status, text: await response.text() };
}

function githubPush(branch: string, revisions: string[]): string {
  return JSON.stringify({
    ref: `refs/heads/${branch}`,
    repository: { html_url: 'https://github.com/o/app', full_name: 'o/app', name: 'app' },
    head_commit: { message: `change ${revisions.at(-1) ?? ''}` },
    commits: revisions.map((id) => ({
      id,
      message: `change ${id}`,
      timestamp: '2026-01-02T03:04:05Z',
      url: `https://github.com/o/app/commit/${id}`,
      author: { name: 'Ann', email: 'ann@example.invalid' },
      committer: { name: 'Ann', email: 'ann@example.invalid' },
      added: ['src/a.ts'],
      modified: [],
      removed: [],
    })),
  });
}

function signed(body: string, secret = SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  };
}

beforeAll(async () => {
  f = await startChangeFixture(
    defineConfig({
      workers: [worker('w1', { password: 'pw1', maxBuilds: 2 })],
      www: {
        changeHooks: {
          github: { secret: SECRET },
          gitlab: { secret: 'gl-token' },
          base: { auth: { username: 'change', password: 'changepw' } },
        },
      },
      builders: [
        builder({
          name: 'any',
          workerNames: ['w1'],
          collapseRequests: false,
          factory: buildFactory([
            shellCommand({
              name: 'show',
              command: interpolate('echo "on %(src::branch)s at %(src::revision)s"'),
            }),
          ]),
        }),
        builder({
          name: 'docs',
          workerNames: ['w1'],
          collapseRequests: false,
          factory: buildFactory([
            shellCommand({
              name: 'show',
              command: interpolate(
                'echo "docs %(src:docs:branch)s %(src:docs:revision)s ticket=%(prop:ticket)s"',
              ),
            }),
          ]),
        }),
      ],
      schedulers: [
        anyBranchScheduler({
          name: 'any',
          builderNames: ['any'],
          changeFilter: changeFilter({ repository: 'https://github.com/o/app' }),
        }),
        singleBranchScheduler({
          name: 'docs',
          builderNames: ['docs'],
          changeFilter: changeFilter({ codebase: 'docs', branch: 'main' }),
          codebases: { docs: { repository: 'https://example.invalid/docs.git' } },
        }),
      ],
    }),
    [{ name: 'w1', password: 'pw1' }],
  );
});

afterAll(async () => {
  await f?.stop();
});

describe('change hooks', () => {
  it('refuses a GitHub push with a wrong signature (403) and stores nothing', async () => {
    const body = githubPush('main', ['a'.repeat(40)]);
    const bad = await post('/change_hook/github', body, signed(body, 'not-the-secret'));
    expect(bad.status).toBe(403);
    expect(bad.text).toMatch(/signature does not match/);
    const unsigned = await post('/change_hook/github', body, {
      'content-type': 'application/json',
      'x-github-event': 'push',
    });
    expect(unsigned.status).toBe(403);
    const tampered = await post('/change_hook/github', body.replace('Ann', 'Eve'), signed(body));
    expect(tampered.status).toBe(403);
    expect((await f.master.data.changes.list(EMPTY_SPEC)).total).toBe(0);
  });

  it('builds a signed push on each branch, one buildset per branch', async () => {
    const main = githubPush('main', ['1'.repeat(40), '2'.repeat(40)]);
    const dev = githubPush('dev', ['3'.repeat(40)]);
    const first = await post('/change_hook/github', main, signed(main));
    expect(first).toEqual({ status: 202, text: '2 change(s) found' });
    expect((await post('/change_hook/github', dev, signed(dev))).status).toBe(202);
    const builds = await f.waitForBuilds('any', 3);
    const shown = await Promise.all(builds.map((b) => f.stepLog(Number(b.buildid), 'show')));
    const lines = shown.map((text) => text.split('\n').find((line) => line.startsWith('on ')));
    expect(lines.sort()).toEqual([
      `on dev at ${'3'.repeat(40)}`,
      `on main at ${'1'.repeat(40)}`,
      `on main at ${'2'.repeat(40)}`,
    ]);
    const { items: changes } = await f.master.data.changes.list(EMPTY_SPEC);
    expect(changes.map((c) => [c.branch, c.revision, c.files, c.properties.event])).toEqual([
      ['main', '1'.repeat(40), ['src/a.ts'], ['push', 'Change']],
      ['main', '2'.repeat(40), ['src/a.ts'], ['push', 'Change']],
      ['dev', '3'.repeat(40), ['src/a.ts'], ['push', 'Change']],
    ]);
    expect(changes[1]?.parent_changeids).toEqual([changes[0]?.changeid]);
    const props = builds[0]?.properties as Record<string, [unknown, string]>;
    expect(props.github_distinct).toEqual([true, 'Change']);
    expect(props.scheduler).toEqual(['any', 'Scheduler']);
    expect(f.events.filter((e) => /^changes\/\d+\/new$/.test(e))).toHaveLength(3);
  });

  it('checks the GitLab token; pings and unknown dialects change nothing', async () => {
    const payload = JSON.stringify({
      object_kind: 'push',
      ref: 'refs/heads/main',
      repository: { name: 'lab', url: 'https://gitlab.invalid/o/lab.git' },
      commits: [],
    });
    const wrong = await post('/change_hook/gitlab', payload, {
      'content-type': 'application/json',
      'x-gitlab-token': 'nope',
    });
    expect(wrong.status).toBe(403);
    const right = await post('/change_hook/gitlab', payload, {
      'content-type': 'application/json',
      'x-gitlab-token': 'gl-token',
    });
    expect(right).toEqual({ status: 202, text: 'no change found' });
    const ping = JSON.stringify({ zen: 'hi' });
    expect(
      (await post('/change_hook/github', ping, { ...signed(ping), 'x-github-event': 'ping' }))
        .status,
    ).toBe(202);
    expect((await post('/change_hook/bitbucket', '{}', {})).status).toBe(404);
    expect((await f.master.data.changes.list(EMPTY_SPEC)).total).toBe(3);
  });

  it('yardmaster sendchange posts to /change_hook/base; a docs change builds the docs codebase', async () => {
    const args = [
      CLI,
      'sendchange',
      '--master',
      f.base,
      '--who',
      'dev <dev@example.invalid>',
      '--branch',
      'main',
      '--revision',
      'd0c5',
      '--codebase',
      'docs',
      '--repository',
      'https://example.invalid/docs.git',
      '--comments',
      'docs update',
      '--property',
      'ticket:DOC-7',
      'guide.md',
    ];
    const refused = spawnProcess(process.execPath, [...args, '--auth', 'change:wrong'], {
      name: 'sendchange (wrong auth)',
    });
    expect((await refused.exited).code).toBe(1);
    expect(refused.output()).toMatch(/HTTP 403/);
    const sent = spawnProcess(process.execPath, [...args, '--auth', 'change:changepw'], {
      name: 'sendchange',
    });
    expect((await sent.exited).code).toBe(0);
    expect(sent.output()).toContain('1 change(s) found');
    const [docs] = await f.waitForBuilds('docs', 1);
    expect(await f.stepLog(Number(docs?.buildid), 'show')).toContain('docs main d0c5 ticket=DOC-7');
    const { items } = await f.master.data.changes.list(EMPTY_SPEC);
    expect(items.at(-1)).toMatchObject({
      author: 'dev <dev@example.invalid>',
      codebase: 'docs',
      files: ['guide.md'],
      properties: { ticket: ['DOC-7', 'Change'] },
    });
    // The docs change is not of the "any" scheduler's repository: still three builds there.
    expect(await f.builds('any')).toHaveLength(3);
  });
});
