/**
 * Python's `glob.glob(pattern, recursive=True)` (3.11), for the `glob` command:
 * - `*`, `?` and `[…]` match within one path component (fnmatch rules); names starting with
 *   '.' only match a pattern component that starts with '.';
 * - a `**` component matches any number of directories (including none);
 * - a pattern without magic returns itself if the path exists (lexists);
 * - results keep the pattern's form (relative patterns give relative paths); relative
 *   patterns are resolved against `cwd` (the worker basedir) for file system access.
 * Directories are listed in sorted order. Unlike Python, `**` does not descend into symbolic
 * links to directories (so a link cycle cannot explode the search).
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export async function pythonGlob(pattern: string, cwd: string): Promise<string[]> {
  const results: string[] = [];
  for await (const match of iglob(pattern, cwd, false)) results.push(match);
  return results;
}

async function* iglob(pattern: string, cwd: string, dirOnly: boolean): AsyncGenerator<string> {
  const [dirname, basename] = splitPath(pattern);
  if (!hasMagic(pattern)) {
    if (basename ? await lexists(cwd, pattern) : await isDir(cwd, dirname)) yield pattern;
    return;
  }
  if (!dirname) {
    const names = isRecursive(basename)
      ? glob2(cwd, '', dirOnly)
      : glob1(cwd, '', basename, dirOnly);
    yield* names;
    return;
  }
  const dirs: AsyncIterable<string> | string[] =
    dirname !== pattern && hasMagic(dirname) ? iglob(dirname, cwd, true) : [dirname];
  for await (const dir of dirs) {
    let names: AsyncIterable<string>;
    if (!hasMagic(basename)) names = glob0(cwd, dir, basename);
    else if (isRecursive(basename)) names = glob2(cwd, dir, dirOnly);
    else names = glob1(cwd, dir, basename, dirOnly);
    for await (const name of names) yield joinPath(dir, name);
  }
}

async function* glob0(cwd: string, dir: string, basename: string): AsyncGenerator<string> {
  if (basename ? await lexists(cwd, joinPath(dir, basename)) : await isDir(cwd, dir)) {
    yield basename;
  }
}

async function* glob1(
  cwd: string,
  dir: string,
  pattern: string,
  dirOnly: boolean,
): AsyncGenerator<string> {
  const regex = fnmatchRegex(pattern);
  const hiddenOk = isHidden(pattern);
  for (const name of await listDir(cwd, dir, dirOnly)) {
    if (!hiddenOk && isHidden(name)) continue;
    if (regex.test(name)) yield name;
  }
}

async function* glob2(cwd: string, dir: string, dirOnly: boolean): AsyncGenerator<string> {
  yield '';
  yield* rlistDir(cwd, dir, dirOnly);
}

async function* rlistDir(cwd: string, dir: string, dirOnly: boolean): AsyncGenerator<string> {
  for (const name of await listDir(cwd, dir, dirOnly)) {
    if (isHidden(name)) continue;
    yield name;
    const sub = dir ? joinPath(dir, name) : name;
    if (await isRealDir(cwd, sub)) {
      for await (const below of rlistDir(cwd, sub, dirOnly)) yield joinPath(name, below);
    }
  }
}

async function listDir(cwd: string, dir: string, dirOnly: boolean): Promise<string[]> {
  try {
    const entries = await readdir(resolve(cwd, dir), { withFileTypes: true });
    const names: string[] = [];
    for (const entry of entries) {
      if (
        dirOnly &&
        !(
          entry.isDirectory() ||
          (entry.isSymbolicLink() && (await isDir(cwd, joinPath(dir, entry.name))))
        )
      ) {
        continue;
      }
      names.push(entry.name);
    }
    return names.sort();
  } catch {
    return [];
  }
}

/** Python's fnmatch.translate for one component: *, ?, [seq], [!seq]; anchored. */
export function fnmatchRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '*') {
      while (pattern.charAt(i + 1) === '*') i++;
      out += '[\\s\\S]*';
    } else if (char === '?') {
      out += '[\\s\\S]';
    } else if (char === '[') {
      let j = i + 1;
      if (pattern.charAt(j) === '!') j++;
      if (pattern.charAt(j) === ']') j++;
      while (j < pattern.length && pattern.charAt(j) !== ']') j++;
      if (j >= pattern.length) {
        out += '\\[';
      } else {
        let body = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        body = body.replace(/\[/g, '\\[').replace(/\]/g, '\\]');
        out += `[${body}]`;
        i = j;
      }
    } else {
      out += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${out})$`, 'u');
}

function hasMagic(text: string): boolean {
  return /[*?[]/.test(text);
}

function isRecursive(pattern: string): boolean {
  return pattern === '**';
}

function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/** os.path.split: (head without trailing slashes unless all slashes, tail). */
function splitPath(p: string): [string, string] {
  const index = p.lastIndexOf('/') + 1;
  let head = p.slice(0, index);
  const tail = p.slice(index);
  if (head && !/^\/+$/.test(head)) head = head.replace(/\/+$/, '');
  return [head, tail];
}

/** os.path.join(a, b) for POSIX. */
function joinPath(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  if (a === '' || a.endsWith('/')) return a + b;
  return `${a}/${b}`;
}

function resolve(cwd: string, p: string): string {
  return path.resolve(cwd, p === '' ? '.' : p);
}

async function lexists(cwd: string, p: string): Promise<boolean> {
  try {
    await lstat(resolve(cwd, p));
    return true;
  } catch {
    return false;
  }
}

async function isDir(cwd: string, p: string): Promise<boolean> {
  try {
    return (await stat(resolve(cwd, p))).isDirectory();
  } catch {
    return false;
  }
}

async function isRealDir(cwd: string, p: string): Promise<boolean> {
  try {
    return (await lstat(resolve(cwd, p))).isDirectory();
  } catch {
    return false;
  }
}
