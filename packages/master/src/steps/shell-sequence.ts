/**
 * `shellSequence`: several commands in one step, one after another in the same workdir
 * (Buildbot's `ShellSequence`). Each command has its own result flags (`ShellArg`); the
 * step's result is computed from them as a build's is from its steps, and a command whose
 * flags say halt ends the sequence. Output goes to `stdio`, or to the command's `logname`.
 */
import type { RenderableString, ShellArgConfig } from '../config/types.js';
import type { LogWriter } from '../process/log-writer.js';
import { Results, worstResult, type Result } from '../results.js';
import {
  BuildStep,
  DEFAULT_STEP_FLAGS,
  stepOutcome,
  type StepFlags,
  type StepRuntime,
} from './build-step.js';
import { commandResult } from './command-result.js';
import { renderCommandAsync, renderEnvAsync } from './renderables.js';
import { describeCommand, shellArgs, shownCommand, type ShellSettings } from './shell-command.js';

export interface ShellSequenceOptions extends ShellSettings {
  commands: ShellArgConfig[];
  env: Record<string, RenderableString>;
  description: string | null;
  descriptionDone: string | null;
}

export class ShellSequenceStep extends BuildStep {
  /** The last command run (Buildbot's `last_command`), for the state string. */
  private last: string | string[] | null = null;

  constructor(
    name: string,
    flags: StepFlags,
    readonly options: ShellSequenceOptions,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.options.descriptionDone : this.options.description;
    if (custom) return custom;
    return this.last === null ? "'shell sequence'" : describeCommand(this.last);
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const env = await renderEnvAsync(this.options.env, runtime);
    const logs = new Map<string, LogWriter>();
    const logFor = async (name: string): Promise<LogWriter> => {
      let log = logs.get(name);
      if (!log) {
        log = await runtime.addLog(name);
        logs.set(name, log);
      }
      return log;
    };
    let overall: Result = Results.SUCCESS;
    for (const arg of this.options.commands) {
      if (runtime.stopping) return Results.CANCELLED;
      const command = await renderCommandAsync(arg.command, runtime);
      // Buildbot's shouldRunTheCommand: an empty command is skipped.
      if (command.length === 0) continue;
      this.last = shownCommand(command, runtime);
      await runtime.setState(this.describe(false));
      const log = await logFor(arg.logname ?? 'stdio');
      const result = await runtime.runCommand(
        'shell',
        shellArgs(runtime, this.options, command, env),
        {
          log,
        },
      );
      const commandOutcome = commandResult(result, runtime.stopping);
      const flags: StepFlags = { ...DEFAULT_STEP_FLAGS, ...argFlags(arg) };
      const { buildResult, terminate } = stepOutcome(flags, commandOutcome);
      overall = worstResult(overall, buildResult);
      if (terminate) break;
    }
    return overall;
  }
}

function argFlags(arg: ShellArgConfig): Partial<StepFlags> {
  return {
    haltOnFailure: arg.haltOnFailure,
    flunkOnFailure: arg.flunkOnFailure,
    warnOnFailure: arg.warnOnFailure,
    warnOnWarnings: arg.warnOnWarnings,
    flunkOnWarnings: arg.flunkOnWarnings,
  };
}
