import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { git, gitCommit, makeGitRepo } from './git-repo.js';
import { makeTempDir } from './temp-dir.js';

describe('makeGitRepo', () => {
  it('creates a repository with the files committed on main', async () => {
    const dir = await makeTempDir('git');
    const repo = await makeGitRepo(join(dir, 'repo'), {
      'README.md': '# hi\n',
      'src/a.txt': 'a\n',
    });
    expect(repo.path).toBe(join(dir, 'repo'));
    expect(repo.url).toBe(`file://${repo.path}`);
    expect(repo.head).toMatch(/^[0-9a-f]{40}$/);
    expect(repo.branch).toBe('main');
    expect(await git(repo.path, ['rev-parse', 'main'])).toBe(repo.head);
    expect(await git(repo.path, ['config', 'user.email'])).toBe('test@yardmaster.invalid');
    expect((await git(repo.path, ['ls-files'])).split('\n')).toEqual(['README.md', 'src/a.txt']);
    expect(await git(repo.path, ['status', '--porcelain'])).toBe('');
  });

  it('makes further commits and can be cloned through its URL', async () => {
    const dir = await makeTempDir('git');
    const repo = await makeGitRepo(
      join(dir, 'origin'),
      { 'a.txt': 'one\n', 'gone.txt': 'x' },
      {
        branch: 'trunk',
        commits: [{ files: { 'a.txt': 'two\n', 'gone.txt': null }, message: 'second' }],
      },
    );
    expect(await git(repo.path, ['log', '--format=%s'])).toBe('second\ninitial commit');

    const head = await gitCommit(repo, { 'b.txt': 'b\n' }, 'third');
    expect(head).not.toBe(repo.head);
    expect(head).toBe(await git(repo.path, ['rev-parse', 'trunk']));

    const clone = join(dir, 'clone');
    execFileSync('git', ['clone', '--quiet', repo.url, clone]);
    expect(await readFile(join(clone, 'a.txt'), 'utf8')).toBe('two\n');
    expect(await readFile(join(clone, 'b.txt'), 'utf8')).toBe('b\n');
    expect(await git(clone, ['rev-parse', 'HEAD'])).toBe(head);
  });

  it('commits even when nothing changed, and refuses paths outside the tree', async () => {
    const repo = await makeGitRepo(join(await makeTempDir('git'), 'r'), { 'a.txt': 'a' });
    const head = await gitCommit(repo.path, {}, 'empty');
    expect(head).not.toBe(repo.head);
    await expect(gitCommit(repo.path, { '../escape.txt': 'x' }, 'bad')).rejects.toThrow(
      /not a path inside/,
    );
  });
});
