import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fnmatchRegex, pythonGlob } from './glob.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ym-glob-'));
  await mkdir(path.join(root, 'src', 'deep'), { recursive: true });
  await mkdir(path.join(root, '.hidden'));
  for (const file of [
    'a.txt',
    'b.log',
    '.dot.txt',
    'src/c.txt',
    'src/deep/d.txt',
    '.hidden/e.txt',
  ]) {
    await writeFile(path.join(root, file), file);
  }
  await symlink(root, path.join(root, 'src', 'loop'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pythonGlob', () => {
  it('matches within a directory, skipping hidden names', async () => {
    expect(await pythonGlob(path.join(root, '*.txt'), '/')).toEqual([path.join(root, 'a.txt')]);
    expect(await pythonGlob(path.join(root, '.*.txt'), '/')).toEqual([path.join(root, '.dot.txt')]);
    expect(await pythonGlob(path.join(root, '[ab].*'), '/')).toEqual([
      path.join(root, 'a.txt'),
      path.join(root, 'b.log'),
    ]);
  });

  it('matches ** recursively, without following symlinked directories', async () => {
    // 'src/loop' (a link to root) is matched as a directory but not descended into.
    expect(await pythonGlob('**/*.txt', root)).toEqual([
      'a.txt',
      'src/c.txt',
      'src/deep/d.txt',
      'src/loop/a.txt',
    ]);
    expect(await pythonGlob('src/**', root)).toEqual([
      'src/',
      'src/c.txt',
      'src/deep',
      'src/deep/d.txt',
      'src/loop',
    ]);
    expect(await pythonGlob('*/', root)).toEqual(['src/']);
  });

  it('returns a pattern without magic only if it exists', async () => {
    expect(await pythonGlob('a.txt', root)).toEqual(['a.txt']);
    expect(await pythonGlob('nope.txt', root)).toEqual([]);
    expect(await pythonGlob(path.join(root, 'missing', '*'), '/')).toEqual([]);
  });
});

describe('fnmatchRegex', () => {
  it('follows fnmatch rules', () => {
    expect(fnmatchRegex('*.c').test('x.c')).toBe(true);
    expect(fnmatchRegex('?.c').test('xy.c')).toBe(false);
    expect(fnmatchRegex('[!a]*').test('abc')).toBe(false);
    expect(fnmatchRegex('[]]').test(']')).toBe(true);
    expect(fnmatchRegex('[').test('[')).toBe(true);
    expect(fnmatchRegex('a+(b)').test('a+(b)')).toBe(true);
  });
});
