import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirs, makeDirsSync } from './make-dirs.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ym-mkdirs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('makeDirs', () => {
  it('creates missing parents and accepts existing directories', async () => {
    await makeDirs(path.join(root, 'a', 'b', 'c'));
    await makeDirs(path.join(root, 'a', 'b'));
    makeDirsSync(path.join(root, 'x', 'y'));
    expect((await stat(path.join(root, 'a', 'b', 'c'))).isDirectory()).toBe(true);
    expect((await stat(path.join(root, 'x', 'y'))).isDirectory()).toBe(true);
  });

  it('fails (instead of hanging like Node’s recursive mkdir) on impossible paths', async () => {
    await expect(makeDirs('/proc/no-such-dir/x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => makeDirsSync('/proc/no-such-dir/x')).toThrow(/ENOENT/);
    await writeFile(path.join(root, 'file'), '');
    await expect(makeDirs(path.join(root, 'file', 'sub'))).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
    await expect(makeDirs(path.join(root, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
