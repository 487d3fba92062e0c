import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  baseChanges,
  githubChanges,
  gitlabChanges,
  HookError,
  type HookRequest,
} from './hook-dialects.js';

const GITHUB = {
  secret: 's3cret',
  strict: true,
  codebase: null,
  skips: ['\\[ *skip *ci *\\]', '\\[ *ci *skip *\\]'],
  pullrequestRef: 'merge' as const,
};

function githubRequest(
  event: string,
  payload: unknown,
  secret: string | null = 's3cret',
): HookRequest {
  const body = Buffer.from(JSON.stringify(payload));
  const headers: HookRequest['headers'] = {
    'content-type': 'application/json',
    'x-github-event': event,
  };
  if (secret !== null) {
    headers['x-hub-signature-256'] =
      `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  }
  return { headers, body, query: {} };
}

const push = {
  ref: 'refs/heads/main',
  repository: { html_url: 'https://github.com/o/app', full_name: 'o/app', name: 'app' },
  head_commit: { message: 'second' },
  commits: [
    {
      id: 'a'.repeat(40),
      message: 'first',
      timestamp: '2026-01-02T03:04:05Z',
      url: 'https://github.com/o/app/commit/a',
      author: { name: 'Ann', email: 'ann@example.invalid' },
      committer: { name: 'Bob', email: 'bob@example.invalid' },
      added: ['src/new.ts'],
      modified: ['README.md'],
      removed: [],
    },
    {
      id: 'b'.repeat(40),
      message: 'second',
      timestamp: '2026-01-02T03:05:05Z',
      url: 'https://github.com/o/app/commit/b',
      author: { name: 'Ann', email: 'ann@example.invalid' },
      committer: { name: 'Ann', email: 'ann@example.invalid' },
      added: [],
      modified: [],
      removed: ['old.ts'],
      distinct: false,
    },
  ],
};

function status(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof HookError) return error.status;
    throw error;
  }
}

describe('GitHub hook', () => {
  it('turns a signed push into one change per commit', () => {
    const changes = githubChanges(githubRequest('push', push), GITHUB);
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatchObject({
      author: 'Ann <ann@example.invalid>',
      committer: 'Bob <bob@example.invalid>',
      revision: 'a'.repeat(40),
      branch: 'main',
      files: ['src/new.ts', 'README.md'],
      comments: 'first',
      repository: 'https://github.com/o/app',
      project: 'o/app',
      category: null,
      whenTimestamp: Date.parse('2026-01-02T03:04:05Z'),
      properties: { github_distinct: true, event: 'push' },
    });
    expect(changes[1]?.properties).toEqual({ github_distinct: false, event: 'push' });
  });

  it('answers 403 to a wrong or missing signature, and accepts the form encoding', () => {
    expect(status(() => githubChanges(githubRequest('push', push, 'wrong'), GITHUB))).toBe(403);
    expect(status(() => githubChanges(githubRequest('push', push, null), GITHUB))).toBe(403);
    const request = githubRequest('push', push, null);
    request.headers['x-hub-signature-256'] = 'sha1=abc';
    expect(status(() => githubChanges(request, GITHUB))).toBe(403);
    // No secret, not strict: unsigned requests are taken.
    expect(
      githubChanges(githubRequest('push', push, null), { ...GITHUB, secret: null, strict: false }),
    ).toHaveLength(2);
    const body = Buffer.from(`payload=${encodeURIComponent(JSON.stringify(push))}`);
    const form: HookRequest = {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        'x-hub-signature-256': `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`,
      },
      body,
      query: {},
    };
    expect(githubChanges(form, GITHUB)).toHaveLength(2);
  });

  it('skips deleted branches, non-branch refs, [ci skip] and pings; tags get category "tag"', () => {
    expect(githubChanges(githubRequest('push', { ...push, deleted: true }), GITHUB)).toEqual([]);
    expect(githubChanges(githubRequest('push', { ...push, ref: 'refs/notes/x' }), GITHUB)).toEqual(
      [],
    );
    expect(
      githubChanges(
        githubRequest('push', { ...push, head_commit: { message: 'wip [ci skip]' } }),
        GITHUB,
      ),
    ).toEqual([]);
    expect(githubChanges(githubRequest('ping', { zen: 'hi' }), GITHUB)).toEqual([]);
    const tag = githubChanges(
      githubRequest('push', {
        ...push,
        ref: 'refs/tags/v1',
        created: true,
        head_commit: push.commits[0],
      }),
      GITHUB,
    );
    expect(tag).toHaveLength(1);
    expect(tag[0]).toMatchObject({ branch: 'v1', category: 'tag' });
    expect(status(() => githubChanges(githubRequest('star', {}), GITHUB))).toBe(400);
  });

  it('turns an opened pull request into a change on refs/pull/N/merge', () => {
    const pr = {
      action: 'opened',
      number: 7,
      sender: { login: 'ann' },
      repository: { html_url: 'https://github.com/o/app' },
      pull_request: {
        title: 'Fix',
        body: 'details',
        commits: 2,
        created_at: '2026-01-02T03:04:05Z',
        head: { sha: 'c'.repeat(40), ref: 'fix' },
        base: { ref: 'main', repo: { full_name: 'o/app' } },
        _links: { html: { href: 'https://github.com/o/app/pull/7' } },
      },
    };
    const [change] = githubChanges(githubRequest('pull_request', pr), GITHUB);
    expect(change).toMatchObject({
      branch: 'refs/pull/7/merge',
      revision: 'c'.repeat(40),
      category: 'pull',
      author: 'ann',
      comments: 'GitHub Pull Request #7 (2 commits)\nFix\ndetails',
      properties: {
        basename: 'main',
        event: 'pull_request',
        pullrequesturl: 'https://github.com/o/app/pull/7',
      },
    });
    expect(
      githubChanges(githubRequest('pull_request', { ...pr, action: 'closed' }), GITHUB),
    ).toEqual([]);
  });
});

describe('GitLab hook', () => {
  const payload = {
    object_kind: 'push',
    ref: 'refs/heads/dev',
    repository: { name: 'app', url: 'git@gitlab.invalid:o/app.git' },
    commits: [
      {
        id: 'd'.repeat(40),
        message: 'change',
        timestamp: '2026-01-02T03:04:05+00:00',
        url: 'https://gitlab.invalid/o/app/-/commit/d',
        author: { name: 'Cy', email: 'cy@example.invalid' },
        added: ['x'],
        modified: [],
        removed: [],
      },
    ],
  };
  const request = (token?: string): HookRequest => ({
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { 'x-gitlab-token': token }),
    },
    body: Buffer.from(JSON.stringify(payload)),
    query: { codebase: 'app' },
  });

  it('checks the token, then gives one change per distinct commit', () => {
    const config = { secret: 'tok', codebase: null };
    expect(status(() => gitlabChanges(request('nope'), config))).toBe(403);
    expect(status(() => gitlabChanges(request(), config))).toBe(403);
    const [change] = gitlabChanges(request('tok'), config);
    expect(change).toMatchObject({
      branch: 'dev',
      revision: 'd'.repeat(40),
      author: 'Cy <cy@example.invalid>',
      repository: 'git@gitlab.invalid:o/app.git',
      project: 'app',
      category: 'push',
      codebase: 'app',
      files: ['x'],
    });
  });
});

describe('base hook', () => {
  it('reads form fields (files and properties as JSON) or a JSON body', () => {
    const form: HookRequest = {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(
        new URLSearchParams({
          who: 'dev',
          branch: 'main',
          revision: 'abc',
          comments: 'hi',
          files: '["a.c","b.c"]',
          properties: '{"ticket":"T-1"}',
          when_timestamp: '1700000000',
        }).toString(),
      ),
      query: {},
    };
    expect(baseChanges(form, { auth: null })[0]).toMatchObject({
      author: 'dev',
      branch: 'main',
      revision: 'abc',
      files: ['a.c', 'b.c'],
      properties: { ticket: 'T-1' },
      whenTimestamp: 1_700_000_000_000,
    });
    const json: HookRequest = {
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
      },
      body: Buffer.from(JSON.stringify({ author: 'a', files: ['x'], codebase: 'lib' })),
      query: {},
    };
    expect(baseChanges(json, { auth: { username: 'u', password: 'p' } })[0]).toMatchObject({
      author: 'a',
      files: ['x'],
      codebase: 'lib',
    });
    expect(
      status(() =>
        baseChanges(
          { ...json, headers: { 'content-type': 'application/json' } },
          { auth: { username: 'u', password: 'p' } },
        ),
      ),
    ).toBe(403);
    expect(status(() => baseChanges({ ...json, body: Buffer.from('{}') }, { auth: null }))).toBe(
      400,
    );
  });
});
