import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { TarError, extractArchive, extractTarFile } from './tar-extract.js';

function tree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ym-tar-src-'));
  mkdirSync(path.join(dir, 'sub/deeper'), { recursive: true });
  writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
  writeFileSync(path.join(dir, 'sub/deeper', `${'long-name-'.repeat(12)}.txt`), 'beta\n');
  writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('a.txt', path.join(dir, 'link'));
  return dir;
}

describe('extractArchive', () => {
  it('unpacks GNU and PAX archives, gzip or not: files, long names, modes, symlinks', async () => {
    const source = tree();
    for (const format of ['gnu', 'pax']) {
      for (const compress of [null, 'gz'] as const) {
        const archive = path.join(mkdtempSync(path.join(tmpdir(), 'ym-tar-')), 'x.tar');
        execFileSync('tar', [
          `--format=${format}`,
          compress === 'gz' ? '-czf' : '-cf',
          archive,
          '-C',
          source,
          '.',
        ]);
        const out = mkdtempSync(path.join(tmpdir(), 'ym-tar-out-'));
        await extractArchive(archive, out, compress);
        expect(readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('alpha\n');
        expect(
          readFileSync(path.join(out, 'sub/deeper', `${'long-name-'.repeat(12)}.txt`), 'utf8'),
        ).toBe('beta\n');
        expect(statSync(path.join(out, 'run.sh')).mode & 0o777).toBe(0o755);
        expect(readlinkSync(path.join(out, 'link'))).toBe('a.txt');
      }
    }
  });

  it('refuses members that would land outside the destination', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'ym-tar-evil-'));
    writeFileSync(path.join(work, 'evil.txt'), 'x');
    const archive = path.join(work, 'evil.tar');
    execFileSync('tar', ['-cf', archive, '-P', '--transform', 's,^,../,', '-C', work, 'evil.txt']);
    const out = path.join(work, 'out');
    expect(() => extractTarFile(archive, out)).toThrow(TarError);
  });
});
