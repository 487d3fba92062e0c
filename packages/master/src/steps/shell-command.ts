/**
 * `shellCommand`: runs one command on the worker and stores its output in the `stdio` log.
 * The command and env values may be `interpolate('...')`: they are rendered when the step
 * starts, from the build's properties and source stamp.
 */
import type { RenderableString } from '../config/types.js';
import type { Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { commandResult } from './command-result.js';
import { renderCommand, renderEnv, renderableText } from './renderables.js';

export interface ShellCommandOptions {
  command: RenderableString | RenderableString[];
  workdir: string;
  env: Record<string, RenderableString>;
  /** Seconds without output before the worker kills the command. */
  timeoutSeconds: number | null;
  /** Seconds in all before the worker kills the command. */
  maxTimeSeconds: number | null;
  logEnviron: boolean;
  wantStdout: boolean;
  wantStderr: boolean;
  description: string | null;
  descriptionDone: string | null;
}

/** The `shell` remote command's arguments, with the command and env already rendered. */
export function shellArgs(
  runtime: StepRuntime,
  o: ShellCommandOptions,
  command: string | string[],
  env: Record<string, string>,
) {
  return {
    workdir: runtime.workerPath(o.workdir),
    env,
    want_stdout: o.wantStdout,
    want_stderr: o.wantStderr,
    logfiles: {},
    timeout: o.timeoutSeconds,
    maxTime: o.maxTimeSeconds,
    sigtermTime: null,
    usePTY: false,
    logEnviron: o.logEnviron,
    initial_stdin: null,
    interruptSignal: 'KILL',
    command,
  };
}

export class ShellCommandStep extends BuildStep {
  /** The command as sent to the worker, once the step has started. */
  private rendered: string | string[] | null = null;

  constructor(
    name: string,
    flags: StepFlags,
    readonly options: ShellCommandOptions,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.options.descriptionDone : this.options.description;
    if (custom) return custom;
    const words = this.rendered ?? this.options.command;
    const command = Array.isArray(words)
      ? words.map(renderableText).join(' ')
      : renderableText(words);
    const short = command.length > 40 ? `${command.slice(0, 37)}...` : command;
    return `'${short}'`;
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const command = renderCommand(this.options.command, runtime);
    const env = renderEnv(this.options.env, runtime);
    this.rendered = command;
    const log = await runtime.addLog('stdio');
    const result = await runtime.runCommand(
      'shell',
      shellArgs(runtime, this.options, command, env),
      { log },
    );
    return commandResult(result, runtime.stopping);
  }
}
