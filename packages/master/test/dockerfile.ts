/**
 * What a Dockerfile test can check without a Docker engine: a parser for the Dockerfile
 * syntax our images use (stages, continuation lines, comments, flags, JSON and shell
 * forms), a `.dockerignore` matcher with Docker's rules (`**`, `*`, `?`, `!` exceptions,
 * last match wins, a path is excluded when it or a parent directory matches), and a
 * `COPY` from the build context into a directory that stands for the image's root.
 * Stateless.
 */
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface Instruction {
  keyword: string;
  /** The arguments after the flags, as written. */
  args: string;
  flags: Record<string, string>;
  line: number;
}

export interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    // Continuation lines; comment lines inside them are dropped, as Docker does.
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      const next = lines[i] ?? '';
      if (!/^\s*#/.test(next)) line += next;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`line ${first}: not an instruction: ${line}`);
    const keyword = (match[1] ?? '').toUpperCase();
    let rest = (match[2] ?? '').trim();
    const flags: Record<string, string> = {};
    for (;;) {
      const flag = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
      if (!flag) break;
      flags[flag[1] ?? ''] = flag[2] ?? '';
      rest = rest.slice(flag[0].length);
    }
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`line ${first}: bad FROM: ${rest}`);
      stages.push({ image: from[1] ?? '', name: from[2] ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${first}: ${keyword} before FROM`);
    stage.instructions.push({ keyword, args: rest, flags, line: first });
  }
  return stages;
}

/** The words of an exec-form (JSON array) or shell-form argument list. */
export function words(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return args.split(/\s+/).filter(Boolean);
}

/** `ENV A=1 B=2` (and the old `ENV A 1` form) of a stage, in order. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of stage.instructions) {
    if (instruction.keyword !== 'ENV') continue;
    if (!instruction.args.includes('=')) {
      const [name = '', ...value] = instruction.args.split(/\s+/);
      env[name] = value.join(' ');
      continue;
    }
    for (const pair of instruction.args.match(/\S+=("[^"]*"|\S*)/g) ?? []) {
      const at = pair.indexOf('=');
      env[pair.slice(0, at)] = pair.slice(at + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` is any number of directories, `**` at the end anything.
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** A `.dockerignore`: true for the context-relative paths it excludes. */
export function dockerignore(text: string): (relative: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exception = line.startsWith('!');
      const pattern = path.posix.normalize(line.slice(exception ? 1 : 0).replace(/^\/+/, ''));
      return { exception, regexp: globToRegExp(pattern) };
    });
  return (relative) => {
    const parts = relative.split('/');
    // The path and each of its parent directories: excluding a directory excludes its files.
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regexp.test(candidate))) excluded = !rule.exception;
    }
    return excluded;
  };
}

/**
 * `COPY <sources…> <dest>` from the context: files and directory contents that the
 * `.dockerignore` lets through, into `root` + the destination resolved against `workdir`.
 * Returns the number of files copied; throws when a source is missing or excluded.
 */
export function copyFromContext(options: {
  context: string;
  sources: string[];
  dest: string;
  workdir: string;
  root: string;
  ignored: (relative: string) => boolean;
}): number {
  const { context, sources, root, ignored } = options;
  const destination = path.posix.resolve(options.workdir, options.dest);
  const intoDirectory = options.dest.endsWith('/') || sources.length > 1;
  let copied = 0;
  const copyTree = (from: string, relative: string, to: string) => {
    if (ignored(relative)) return;
    if (lstatSync(from).isDirectory()) {
      mkdirSync(to, { recursive: true });
      for (const entry of readdirSync(from)) {
        copyTree(path.join(from, entry), `${relative}/${entry}`, path.join(to, entry));
      }
    } else {
      mkdirSync(path.dirname(to), { recursive: true });
      copyFileSync(from, to);
      copied++;
    }
  };
  for (const source of sources) {
    const relative = path.posix.normalize(source).replace(/\/$/, '');
    const from = path.join(context, relative);
    if (!existsSync(from)) throw new Error(`COPY ${source}: not in the build context`);
    if (ignored(relative)) throw new Error(`COPY ${source}: excluded by the .dockerignore`);
    const isDirectory = lstatSync(from).isDirectory();
    const target = path.join(
      root,
      isDirectory || !intoDirectory
        ? destination
        : path.posix.join(destination, path.basename(relative)),
    );
    copyTree(from, relative, target);
  }
  return copied;
}
