import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** File contents by path relative to the repository root; `null` deletes the file. */
export type GitFiles = Record<string, string | null>;

export interface GitRepo {
  /** Absolute path of the working tree. */
  path: string;
  /** `file://` URL of the repository, usable by `git clone` and by git pollers. */
  url: string;
  /** Full sha of the branch head after the last commit. */
  head: string;
  /** The branch the commits are on. */
  branch: string;
}

export interface MakeGitRepoOptions {
  /** Further commits made after the first one, in order. */
  commits?: Array<{ files: GitFiles; message?: string }>;
  /** Name of the initial branch. Default `main`. */
  branch?: string;
  /** Message of the first commit. Default `initial commit`. */
  message?: string;
}

// Keeps the host's global and system git configuration (signing, hooks, templates) out.
const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs git in `cwd` and returns its trimmed stdout; the error names the command and stderr. */
export function git(cwd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'git',
      args,
      { cwd, env: gitEnv, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr.trim() || error.message}`, {
              cause: error,
            }),
          );
        } else {
          resolvePromise(stdout.trim());
        }
      },
    );
  });
}

/**
 * Creates a real git repository in `dir` (made if missing) with a local user.name and
 * user.email, commits `files` on `options.branch` (default `main`), then each of
 * `options.commits`, and returns its path, `file://` URL and head sha.
 */
export async function makeGitRepo(
  dir: string,
  files: GitFiles,
  options: MakeGitRepoOptions = {},
): Promise<GitRepo> {
  const path = resolve(dir);
  const branch = options.branch ?? 'main';
  await mkdir(path, { recursive: true });
  await git(path, ['init', '--quiet', `--initial-branch=${branch}`]);
  await git(path, ['config', 'user.name', 'Yardmaster Test']);
  await git(path, ['config', 'user.email', 'test@yardmaster.invalid']);
  await git(path, ['config', 'commit.gpgsign', 'false']);
  let head = await gitCommit(path, files, options.message ?? 'initial commit');
  for (const [index, commit] of (options.commits ?? []).entries()) {
    head = await gitCommit(path, commit.files, commit.message ?? `commit ${index + 2}`);
  }
  return { path, url: pathToFileURL(path).href, head, branch };
}

/**
 * Writes `files` into the repository (`null` deletes), stages everything and commits on the
 * current branch, even when nothing changed. Returns the new head sha.
 */
export async function gitCommit(
  repo: string | { path: string },
  files: GitFiles,
  message: string,
): Promise<string> {
  const root = typeof repo === 'string' ? resolve(repo) : repo.path;
  for (const [name, content] of Object.entries(files)) {
    const target = join(root, name);
    const inside = normalize(name);
    if (
      isAbsolute(name) ||
      inside.startsWith('..') ||
      inside === '.git' ||
      inside.startsWith('.git/')
    ) {
      throw new Error(
        `gitCommit: "${name}" is not a path inside the working tree; use a relative path`,
      );
    }
    if (content === null) {
      await rm(target, { force: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
  await git(root, ['add', '--all']);
  await git(root, ['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message]);
  return git(root, ['rev-parse', 'HEAD']);
}
