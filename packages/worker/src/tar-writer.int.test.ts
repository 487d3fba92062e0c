/** tar-writer against GNU tar and Python's tarfile (what a Buildbot master unpacks with). */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTarArchive } from './tar-writer.js';

let root: string;
const longName = `${'n'.repeat(120)}.txt`;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ym-tar-'));
  const src = path.join(root, 'src');
  await mkdir(path.join(src, 'sub', 'empty'), { recursive: true });
  await writeFile(path.join(src, 'a.txt'), 'alpha\n');
  await writeFile(path.join(src, 'sub', 'b.bin'), Buffer.alloc(70_000, 7));
  await writeFile(path.join(src, 'sub', longName), 'long');
  await writeFile(path.join(src, 'été.txt'), 'unicode');
  await symlink('a.txt', path.join(src, 'link'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeTarArchive', () => {
  it.each([
    [null, 'x', '-xf'],
    ['gz', 'x:gz', '-xzf'],
    ['bz2', 'x:bz2', '-xjf'],
  ] as const)(
    'writes archives (compress=%s) that GNU tar and Python tarfile extract',
    async (compress, pyMode, tarFlag) => {
      const archive = path.join(root, `out-${String(compress)}.tar`);
      await writeTarArchive(path.join(root, 'src'), archive, compress);

      const viaTar = path.join(root, `tar-${String(compress)}`);
      await mkdir(viaTar);
      execFileSync('tar', [tarFlag, archive, '-C', viaTar]);
      const tarListing = execFileSync('find', ['.', '-mindepth', '1'], {
        cwd: viaTar,
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean)
        .sort();
      expect(tarListing).toEqual(
        [
          './a.txt',
          './link',
          './sub',
          './sub/b.bin',
          './sub/empty',
          `./sub/${longName}`,
          './été.txt',
        ].sort(),
      );
      expect(execFileSync('cat', [path.join(viaTar, 'link')], { encoding: 'utf8' })).toBe(
        'alpha\n',
      );

      if (spawnSync('/usr/bin/python3', ['-c', 'import tarfile']).status === 0) {
        const names = execFileSync(
          '/usr/bin/python3',
          [
            '-c',
            `import tarfile,sys,json; t=tarfile.open(sys.argv[1], '${pyMode.replace('x', 'r')}'); print(json.dumps(sorted((m.name, m.size) for m in t.getmembers())))`,
            archive,
          ],
          { encoding: 'utf8' },
        );
        expect(JSON.parse(names)).toEqual(
          [
            ['a.txt', 6],
            ['link', 0],
            ['sub', 0],
            ['sub/b.bin', 70_000],
            ['sub/empty', 0],
            [`sub/${longName}`, 4],
            ['été.txt', 7],
          ].sort(),
        );
      }
    },
  );

  it('refuses a path that is not a directory', async () => {
    await expect(
      writeTarArchive(path.join(root, 'src', 'a.txt'), path.join(root, 'x.tar'), null),
    ).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });
});
