/**
 * `masterShellCommand` (Buildbot's `MasterShellCommand`): runs a command on the master,
 * in its basedir (or `workdir` under it), with the master's environment plus `env`
 * (`${VAR}` expands from the master's environment, as in Buildbot). Output streams into
 * the `stdio` log as it comes.
 *
 * The child runs in its own process group. States: spawned → exited; a stop of the build
 * or `maxTime` kills the whole group (SIGKILL) and the step ends CANCELLED (stop) or
 * FAILURE (maxTime); the child never outlives the step.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { RenderableString } from '../config/types.js';
import { Results, type Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { renderCommandAsync, renderEnvAsync } from './renderables.js';
import { describeCommand, shownCommand } from './shell-command.js';

export interface MasterShellCommandOptions {
  command: RenderableString | RenderableString[];
  env: Record<string, RenderableString>;
  /** Relative to the master's basedir; `null`: the basedir. */
  workdir: string | null;
  /** Milliseconds; `null`: no limit. */
  maxTimeMs: number | null;
  description: string | null;
  descriptionDone: string | null;
}

/** `${VAR}` in an env value, from the master's environment (unset: ""). */
function expandEnv(value: string, environment: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{([^}]*)\}/g, (_match, name: string) => environment[name] ?? '');
}

export class MasterShellCommandStep extends BuildStep {
  private rendered: string | string[] | null = null;

  constructor(
    name: string,
    flags: StepFlags,
    readonly options: MasterShellCommandOptions,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.options.descriptionDone : this.options.description;
    if (custom) return custom;
    return `${done ? 'Ran' : 'Running'} ${describeCommand(this.rendered ?? this.options.command)}`;
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const o = this.options;
    const command = await renderCommandAsync(o.command, runtime);
    const extra = await renderEnvAsync(o.env, runtime);
    this.rendered = shownCommand(command, runtime);
    const cwd = path.resolve(runtime.masterBasedir, o.workdir ?? '.');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries(extra)) env[name] = expandEnv(value, process.env);
    const argv = Array.isArray(command) ? command : ['/bin/sh', '-c', command];
    const log = await runtime.addLog('stdio');
    log.addHeader(Array.isArray(command) ? argv.join(' ') : command);
    log.addHeader(` in dir ${cwd}`);
    if (runtime.stopping) return Results.CANCELLED;

    const [program, ...args] = argv;
    if (program === undefined || program === '') {
      log.addHeader('empty command');
      return Results.FAILURE;
    }
    const killed: { for: 'stop' | 'maxTime' | null } = { for: null };
    const outcome = await new Promise<{ rc: number; error?: string }>((resolve) => {
      const child = spawn(program, args, {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const kill = (why: 'stop' | 'maxTime', reason: string) => {
        if (killed.for !== null || child.exitCode !== null || child.pid === undefined) return;
        killed.for = why;
        log.addHeader(`\n${reason}, attempting to kill`);
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const unsubscribe = runtime.onStop((reason) =>
        kill('stop', `command interrupted: ${reason}`),
      );
      const timer =
        o.maxTimeMs === null
          ? null
          : setTimeout(
              () => kill('maxTime', `command timed out: ${o.maxTimeMs! / 1000} seconds elapsed`),
              o.maxTimeMs,
            );
      child.stdout.setEncoding('utf8').on('data', (text: string) => log.addStdout(text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => log.addStderr(text));
      child.on('error', (error) => {
        if (timer) clearTimeout(timer);
        unsubscribe();
        resolve({ rc: -1, error: error.message });
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        unsubscribe();
        resolve({ rc: signal === null ? (code ?? -1) : -1 });
      });
    });
    if (outcome.error !== undefined) log.addStderr(`${outcome.error}\n`);
    if (killed.for !== null) log.addHeader('process killed by signal 9');
    log.addHeader(`program finished with exit code ${outcome.rc}`);
    await log.flush();
    if (killed.for === 'stop') return Results.CANCELLED;
    return outcome.rc === 0 && killed.for === null ? Results.SUCCESS : Results.FAILURE;
  }
}
