/**
 * `gitPoller` (Buildbot's `GitPoller`): polls a remote git repository and adds a change
 * for each new commit on the branches (or tags) it follows.
 *
 * A poll: `git init --bare` of its work directory, `git ls-remote --refs`, a fetch of the
 * followed refs into `refs/buildbot/<url>/<branch>`, then for each ref the commits that
 * are new since the last seen revisions (`git log NEW ^SEEN…`, oldest first).
 *
 * State (object state `lastRev`: ref → revision, in the database): the revisions seen at
 * the last poll. The changes of a branch and the new `lastRev` are written in one
 * transaction (compare-and-set), so after a restart, or when another master takes the
 * poller over, nothing is added twice and nothing is missed. The first poll only records
 * the heads (history is not built), as Buildbot does.
 *
 * A failing `git` (network, bad URL, missing program) is logged and the poll retried with
 * a doubling delay (5 s, 10 s, … up to the larger of the interval and 30 minutes); it
 * never stops the master. One poll at a time, and one at a time per work directory among
 * the pollers of this process (they share `gitpoller-work` by default); `stop()` kills a
 * running git and waits.
 * Runs on one master at a time (singleton `changesource:<name>`). States: stopped →
 * waiting ⇄ polling → stopped.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { GitPollerConfig } from '../config/change-types.js';
import type { ChangeInput } from '../data/changes.js';
import type { DataApi } from '../data/data-api.js';
import { StateConflictError } from '../data/state.js';
import type { Logger } from '../logger.js';
import type { SingletonService } from '../process/singleton-services.js';
import { systemClock, type Clock, type TimerHandle } from '../schedulers/clock.js';
import { startMatcher } from '../schedulers/change-filter.js';
import { SerialQueue } from '../schedulers/change-consumer.js';

export interface GitPollerDeps {
  data: DataApi;
  log: Logger;
  /** The master's basedir: a relative `workdir` is inside it. */
  basedir: string;
  clock?: Clock;
}

/** A git command that failed: its arguments, exit code and stderr. */
export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(
      `git ${args.join(' ')} failed${code === null ? '' : ` (exit ${String(code)})`}: ${stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}`,
    );
    this.name = 'GitCommandError';
  }
}

type LastRev = Record<string, string>;

/** One queue per work directory in this process (module state: pollers come and go). */
const workdirQueues = new Map<string, SerialQueue>();

function workdirQueue(workdir: string): SerialQueue {
  let queue = workdirQueues.get(workdir);
  if (!queue) workdirQueues.set(workdir, (queue = new SerialQueue()));
  return queue;
}

const RETRY_BASE_MS = 5_000;
const RETRY_CAP_MS = 30 * 60_000;

export class GitPoller {
  private readonly clock: Clock;
  private objectid = 0;
  private timer: TimerHandle | null = null;
  private polling: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private active = false;
  /** Consecutive failed polls; 0 after a good one. */
  failures = 0;
  /** The last failure's message, or null after a good poll (for the API and tests). */
  lastError: string | null = null;
  /** Polls that finished (good or not), for tests. */
  polls = 0;
  /** Polls that succeeded, for tests. */
  successes = 0;

  constructor(
    readonly config: GitPollerConfig,
    private readonly deps: GitPollerDeps,
  ) {
    this.clock = deps.clock ?? systemClock();
  }

  get name(): string {
    return this.config.name;
  }

  get workdir(): string {
    return path.resolve(this.deps.basedir, this.config.workdir);
  }

  describe(): string {
    const { branches } = this.config;
    let text = `GitPoller watching the remote git repository ${this.config.repourl}`;
    if (this.config.onlyTags) text += ', tags';
    else if (branches.kind === 'all') text += ', branches: ALL';
    else if (branches.kind === 'list') text += `, branches: ${branches.names.join(', ')}`;
    else text += `, refs matching ${branches.pattern}`;
    return text;
  }

  service(): SingletonService {
    return {
      name: `changesource:${this.name}`,
      start: () => this.activate(),
      stop: () => this.deactivate(),
    };
  }

  async activate(): Promise<void> {
    this.objectid = await this.deps.data.state.objectId(this.name, 'GitPoller');
    this.active = true;
    this.schedule(this.config.pollAtLaunch ? 0 : this.config.pollInterval);
  }

  async deactivate(): Promise<void> {
    this.active = false;
    this.timer?.cancel();
    this.timer = null;
    this.abort?.abort();
    await this.polling;
  }

  /** Polls now (unless a poll runs: then waits for it). For tests and `pollAtLaunch`. */
  pollNow(): Promise<void> {
    this.polling ??= this.runPoll().finally(() => (this.polling = null));
    return this.polling;
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    if (!this.active) return;
    this.timer = this.clock.setTimeout(async () => {
      this.timer = null;
      await this.pollNow();
      if (!this.active) return;
      if (this.failures === 0) this.schedule(this.config.pollInterval);
      else {
        const cap = Math.max(this.config.pollInterval, RETRY_CAP_MS);
        this.schedule(Math.min(RETRY_BASE_MS * 2 ** (this.failures - 1), cap));
      }
    }, ms);
  }

  private async runPoll(): Promise<void> {
    this.abort = new AbortController();
    try {
      const signal = this.abort.signal;
      // Pollers sharing a work directory (the default) take turns: git locks its config
      // and refs, and two fetches into one repository would fail each other.
      await workdirQueue(this.workdir).run(() => this.poll(signal));
      this.successes += 1;
      if (this.failures > 0) {
        this.deps.log.info(
          { changeSource: this.name },
          `git poller ${this.name}: polling works again after ${this.failures} failure(s)`,
        );
      }
      this.failures = 0;
      this.lastError = null;
    } catch (error) {
      if (!this.active && this.abort.signal.aborted) return;
      this.failures += 1;
      this.lastError = error instanceof Error ? error.message : String(error);
      const log = this.failures === 1 ? this.deps.log.error : this.deps.log.warn;
      log.call(
        this.deps.log,
        { err: error, changeSource: this.name, failures: this.failures },
        `git poller ${this.name}: poll failed (${this.failures} in a row): ${this.lastError}; retrying with backoff`,
      );
    } finally {
      this.polls += 1;
      this.abort = null;
    }
  }

  private git(args: string[], signal: AbortSignal, cwd?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.config.gitbin,
        args,
        {
          cwd,
          signal,
          maxBuffer: 256 * 1024 * 1024,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        },
        (error, stdout, stderr) => {
          if (error) {
            const code = (error as NodeJS.ErrnoException & { code?: number | string }).code;
            reject(new GitCommandError(args, code ?? null, stderr || error.message));
          } else resolve(stdout);
        },
      );
    });
  }

  /** Full ref → the tracking ref in the work directory. */
  private trackerRef(ref: string): string {
    const url = encodeURIComponent(this.config.repourl).replace(/~/g, '%7E');
    return `refs/buildbot/${url}/${removeHeads(ref)}`;
  }

  /** The remote refs this poller follows. */
  private followed(remoteRefs: string[]): string[] {
    const { branches, onlyTags } = this.config;
    if (onlyTags) return remoteRefs.filter((ref) => ref.startsWith('refs/tags/'));
    switch (branches.kind) {
      case 'all':
        return remoteRefs.filter((ref) => ref.startsWith('refs/heads/'));
      case 'match': {
        const regex = startMatcher(branches.pattern);
        return remoteRefs.filter((ref) => regex.test(ref));
      }
      case 'list': {
        const wanted = new Set(branches.names.map((name) => `refs/heads/${removeHeads(name)}`));
        return remoteRefs.filter((ref) => wanted.has(ref)).sort();
      }
    }
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const { data } = this.deps;
    const workdir = this.workdir;
    await mkdir(workdir, { recursive: true });
    if (!existsSync(path.join(workdir, 'HEAD'))) {
      await this.git(['init', '--bare', '--quiet', workdir], signal);
    }
    const listing = await this.git(['ls-remote', '--refs', this.config.repourl], signal);
    const remoteRefs = listing
      .split('\n')
      .filter((line) => line.includes('\t'))
      .map((line) => line.split('\t')[1] ?? '')
      .filter((ref) => ref !== '');
    const refs = this.followed(remoteRefs);
    if (refs.length > 0) {
      await this.git(
        [
          'fetch',
          '--quiet',
          '--no-tags',
          '--',
          this.config.repourl,
          ...refs.map((ref) => `+${ref}:${this.trackerRef(ref)}`),
        ],
        signal,
        workdir,
      );
    }
    const revs: LastRev = {};
    for (const ref of refs) {
      revs[ref] = (await this.git(['rev-parse', this.trackerRef(ref)], signal, workdir)).trim();
    }

    const stored = (await data.state.get(this.objectid, 'lastRev')) as LastRev | undefined;
    if (stored === undefined) {
      // First poll: remember the heads, build nothing (Buildbot's behaviour).
      await this.saveState(stored, revs);
      this.deps.log.info(
        { changeSource: this.name, refs: Object.keys(revs) },
        `git poller ${this.name}: first poll, following ${Object.keys(revs).length} ref(s) from their current heads`,
      );
      return;
    }
    let lastRev: LastRev = { ...stored };
    for (const ref of refs) {
      if (signal.aborted) return;
      const newRev = revs[ref] ?? '';
      const changes = await this.changesFor(ref, newRev, lastRev, signal, workdir);
      const next = { ...lastRev, [ref]: newRev };
      if (changes.length === 0 && lastRev[ref] === newRev) continue;
      try {
        await data.changes.add(changes, {
          objectid: this.objectid,
          name: 'lastRev',
          expected: lastRev,
          value: next,
        });
      } catch (error) {
        if (error instanceof StateConflictError) {
          this.deps.log.info(
            { changeSource: this.name },
            `git poller ${this.name}: another master polled meanwhile; reading its state next poll`,
          );
          return;
        }
        throw error;
      }
      if (changes.length > 0) {
        this.deps.log.info(
          { changeSource: this.name, branch: ref, changes: changes.length },
          `git poller ${this.name}: ${changes.length} new change(s) on ${removeHeads(ref)}`,
        );
      }
      lastRev = next;
    }
    // Refs gone from the remote are forgotten (a branch made again later is then new).
    if (Object.keys(lastRev).some((ref) => !(ref in revs))) await this.saveState(lastRev, revs);
  }

  private async saveState(expected: LastRev | undefined, value: LastRev): Promise<void> {
    await this.deps.data.state
      .setIf({ objectid: this.objectid, name: 'lastRev', expected, value })
      .catch((error: unknown) => {
        if (!(error instanceof StateConflictError)) throw error;
      });
  }

  private async changesFor(
    ref: string,
    newRev: string,
    lastRev: LastRev,
    signal: AbortSignal,
    workdir: string,
  ): Promise<ChangeInput[]> {
    const seen = [...new Set(Object.values(lastRev))].sort();
    let revList: string[];
    if (seen.length === 0) {
      // Nothing seen to compare with (the first ref of a poller that followed none so
      // far): its head is the change, not the repository's whole history.
      revList = [newRev];
    } else {
      const listing = await this.git(
        ['log', '--ignore-missing', '--format=%H', newRev, ...seen.map((rev) => `^${rev}`), '--'],
        signal,
        workdir,
      );
      revList = listing
        .split('\n')
        .filter((line) => line !== '')
        .reverse();
    }
    if (this.config.buildPushesWithNoCommits && revList.length === 0 && lastRev[ref] !== newRev) {
      revList = [newRev];
    }
    const changes: ChangeInput[] = [];
    for (const rev of revList) {
      const details = await this.git(
        [
          'log',
          '--no-walk',
          '--name-only',
          '--format=%ct%x00%aN <%aE>%x00%cN <%cE>%x00%s%n%b%x00',
          rev,
          '--',
        ],
        signal,
        workdir,
      );
      const [timestamp = '', author = '', committer = '', comments = '', rest = ''] =
        details.split('\0');
      const files = rest
        .split('\n')
        .map((line) => unquoteGitPath(line))
        .filter((line) => line !== '');
      changes.push({
        author,
        committer,
        comments: comments.replace(/\n+$/, ''),
        revision: rev,
        branch: removeHeads(ref),
        files,
        whenTimestamp:
          this.config.usetimestamps && /^\d+$/.test(timestamp.trim())
            ? Number(timestamp.trim()) * 1000
            : null,
        repository: this.config.repourl,
        project: this.config.project,
        category: this.config.category,
        codebase: this.config.codebase,
      });
    }
    return changes;
  }
}

/** `refs/heads/main` → `main`; other refs as they are. */
export function removeHeads(ref: string): string {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}

/** git quotes unusual paths as C strings ("a\303\251.txt"); undo it. */
function unquoteGitPath(line: string): string {
  const match = /^"(.*)"$/.exec(line);
  if (!match) return line;
  const bytes: number[] = [];
  const text = match[1] ?? '';
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char));
      continue;
    }
    const next = text[index + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(text.slice(index + 1, index + 4), 8));
      index += 3;
    } else {
      const escapes: Record<string, number> = { n: 10, t: 9, '"': 34, '\\': 92 };
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      index += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
