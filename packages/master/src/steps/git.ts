/**
 * `git`: checks out a repository on the worker, as Buildbot's Git step does.
 *
 * incremental: fetch into an existing clone (clone when there is none);
 * full/clobber: remove the work dir and clone again; full/fresh and full/clean: fetch,
 * then `git clean` (-xdf or -df). Sets `got_revision`. The revision comes from the build's
 * source stamp when it has one, else the branch head.
 */
import { logChunkText } from '@yardmaster/protocol';
import { Results, type Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import type { LogWriter } from '../process/log-writer.js';

export interface GitOptions {
  repourl: string;
  branch: string;
  mode: 'incremental' | 'full';
  method: 'clobber' | 'fresh' | 'clean' | 'copy' | null;
  workdir: string;
  timeoutSeconds: number | null;
}

export class GitStep extends BuildStep {
  constructor(
    name: string,
    flags: StepFlags,
    readonly options: GitOptions,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    return done ? 'update' : 'updating';
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const log = await runtime.addLog('stdio');
    const o = this.options;
    const ss = runtime.sourcestamp;
    const branch = ss?.branch ?? o.branch;
    const revision = ss?.revision ?? null;
    const workdir = runtime.workerPath(o.workdir);

    const git = async (args: string[], capture?: { text: string }) => {
      const result = await runtime.runCommand(
        'shell',
        {
          workdir,
          env: { GIT_TERMINAL_PROMPT: '0' },
          want_stdout: true,
          want_stderr: true,
          logfiles: {},
          timeout: o.timeoutSeconds,
          maxTime: null,
          sigtermTime: null,
          usePTY: false,
          logEnviron: false,
          initial_stdin: null,
          interruptSignal: 'KILL',
          command: ['git', ...args],
        },
        {
          log,
          onUpdate: capture
            ? (updates) => {
                for (const [key, value] of updates)
                  if (key === 'stdout') capture.text += logChunkText(value);
              }
            : undefined,
        },
      );
      if (result.interrupted && runtime.stopping) return Results.CANCELLED;
      if (result.failure !== null) return Results.EXCEPTION;
      return result.rc === 0 ? Results.SUCCESS : Results.FAILURE;
    };

    const clobber =
      o.mode === 'full' && (o.method === 'clobber' || o.method === null || o.method === 'copy');
    if (clobber) {
      log.addHeader(`removing ${workdir}`);
      await runtime.runCommand('rmdir', { paths: [workdir] });
    }
    const stat = await runtime.runCommand('stat', { path: runtime.workerPath(o.workdir, '.git') });
    const haveClone = stat.rc === 0;

    let result: Result;
    if (!haveClone) {
      if (!clobber) await runtime.runCommand('rmdir', { paths: [workdir] });
      // Buildbot's default branch 'HEAD' means the remote's default branch: no --branch.
      const branchArgs = branch === 'HEAD' ? [] : ['--branch', branch];
      result = await git(['clone', ...branchArgs, '--', o.repourl, '.']);
      if (result !== Results.SUCCESS) return this.end(log, result);
    } else {
      result = await git(['fetch', '-f', '-t', '--', o.repourl, branch]);
      if (result !== Results.SUCCESS) return this.end(log, result);
      result = await git(['checkout', '-f', 'FETCH_HEAD']);
      if (result !== Results.SUCCESS) return this.end(log, result);
      if (o.mode === 'full' && (o.method === 'fresh' || o.method === 'clean')) {
        result = await git(['clean', o.method === 'fresh' ? '-xdf' : '-df']);
        if (result !== Results.SUCCESS) return this.end(log, result);
      }
    }
    if (revision) {
      result = await git(['reset', '--hard', revision, '--']);
      if (result !== Results.SUCCESS) return this.end(log, result);
    }
    const head = { text: '' };
    result = await git(['rev-parse', 'HEAD'], head);
    if (result !== Results.SUCCESS) return this.end(log, result);
    const gotRevision = head.text.trim();
    runtime.setProperty('got_revision', gotRevision, this.name);
    return this.end(log, Results.SUCCESS);
  }

  private async end(log: LogWriter, result: Result): Promise<Result> {
    await log.flush();
    return result;
  }
}
