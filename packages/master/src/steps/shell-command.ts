/** `shellCommand`: runs one command on the worker and stores its output in the `stdio` log. */
import type { Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { commandResult } from './command-result.js';

export interface ShellCommandOptions {
  command: string | string[];
  workdir: string;
  env: Record<string, string>;
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

export function shellArgs(runtime: StepRuntime, o: ShellCommandOptions, command: string | string[]) {
  return {
    workdir: runtime.workerPath(o.workdir),
    env: o.env,
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
    const command = Array.isArray(this.options.command) ? this.options.command.join(' ') : this.options.command;
    const short = command.length > 40 ? `${command.slice(0, 37)}...` : command;
    return `'${short}'`;
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const log = await runtime.addLog('stdio');
    const result = await runtime.runCommand('shell', shellArgs(runtime, this.options, this.options.command), { log });
    return commandResult(result, runtime.stopping);
  }
}
