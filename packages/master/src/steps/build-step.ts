/**
 * The base of every step: its name, Buildbot's result flags, and what it needs from
 * the running build (`StepRuntime`). A step's `run` returns a result; a failing command
 * is a FAILURE result, never an exception.
 */
import type { Result } from '../results.js';
import { Results } from '../results.js';
import type { LogWriter } from '../process/log-writer.js';
import type { RemoteCommandResult, UpdateArgs } from '../process/remote-command.js';

export interface StepFlags {
  haltOnFailure: boolean;
  flunkOnFailure: boolean;
  warnOnFailure: boolean;
  flunkOnWarnings: boolean;
  warnOnWarnings: boolean;
  alwaysRun: boolean;
}

export const DEFAULT_STEP_FLAGS: StepFlags = {
  haltOnFailure: false,
  flunkOnFailure: true,
  warnOnFailure: false,
  flunkOnWarnings: false,
  warnOnWarnings: false,
  alwaysRun: false,
};

export interface CommandOptions {
  /** Sends stdout/stderr/header updates to this log. */
  log?: LogWriter;
  onUpdate?: (args: UpdateArgs) => void;
}

export interface StepRuntime {
  readonly workerName: string;
  readonly builderName: string;
  /** The worker's path separator rules (posix unless the worker runs Windows). */
  workerPath(...parts: string[]): string;
  addLog(name: string, type?: 's' | 't'): Promise<LogWriter>;
  runCommand(
    commandName: string,
    args: Record<string, unknown>,
    options?: CommandOptions,
  ): Promise<RemoteCommandResult>;
  setState(text: string): Promise<void>;
  getProperty(name: string): unknown;
  setProperty(name: string, value: unknown, source: string): void;
  /** The build's first source stamp, if any. */
  readonly sourcestamp: {
    branch: string | null;
    revision: string | null;
    repository: string;
  } | null;
  /** True once the build was asked to stop. */
  readonly stopping: boolean;
}

export abstract class BuildStep {
  constructor(
    readonly name: string,
    readonly flags: StepFlags,
  ) {}

  abstract run(runtime: StepRuntime): Promise<Result>;

  /** The state string while running and when done (Buildbot's description/descriptionDone). */
  abstract describe(done: boolean): string;
}

/** Buildbot's `computeResultAndTermination`: how a step's result changes the build's. */
export function stepOutcome(
  flags: StepFlags,
  result: Result,
): { buildResult: Result; terminate: boolean } {
  let buildResult: Result = result;
  let terminate = false;
  if (result === Results.FAILURE) {
    buildResult = Results.SUCCESS;
    if (flags.warnOnFailure) buildResult = Results.WARNINGS;
    if (flags.flunkOnFailure) buildResult = Results.FAILURE;
    if (flags.haltOnFailure) terminate = true;
  } else if (result === Results.WARNINGS) {
    buildResult = flags.warnOnWarnings ? Results.WARNINGS : Results.SUCCESS;
    if (flags.flunkOnWarnings) buildResult = Results.FAILURE;
  } else if (
    result === Results.EXCEPTION ||
    result === Results.RETRY ||
    result === Results.CANCELLED
  ) {
    terminate = true;
  }
  return { buildResult, terminate };
}
