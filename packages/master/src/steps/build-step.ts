/**
 * The base of every step: its name, Buildbot's result flags, what decides whether it runs
 * (`doStepIf`), is hidden (`hideStepIf`) and which locks it holds, and what it needs from
 * the running build (`StepRuntime`). A step's `run` returns a result; a failing command
 * is a FAILURE result, never an exception.
 */
import type { HideStepIfFn, LockAccessConfig, RenderableBoolean } from '../config/types.js';
import type { Result } from '../results.js';
import { Results } from '../results.js';
import type { LogWriter } from '../process/log-writer.js';
import type { RemoteCommandResult, UpdateArgs } from '../process/remote-command.js';
import type { CommandSink } from '../workers/worker-connection.js';
import type { RenderContext } from './renderables.js';
import type { SourceStampEntity } from '../data/buildsets.js';
import type { TriggerServices } from './trigger.js';

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
  /** Sends `log` updates (shell `logfiles`) to the log of their name. */
  logfiles?: Readonly<Record<string, LogWriter>>;
  onUpdate?: (args: UpdateArgs) => void;
  /** Transfer handlers (upload writes, download reads) for this command. */
  sink?: Partial<CommandSink>;
}

export interface StepRuntime extends RenderContext {
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
  /** The worker's info (what it reported when it attached). */
  readonly workerInfo: Readonly<Record<string, unknown>>;
  /** A secret's value, remembered so it is redacted from what the build stores. */
  getSecret(name: string): string;
  /** Every property: name → value. */
  allProperties(): Record<string, unknown>;
  /** `text` with the build's secrets replaced by `<NAME>`. */
  redact(text: string): string;
  /** The master's basedir (uploads, downloads, `masterShellCommand`). */
  readonly masterBasedir: string;
  /** Adds a link to the step. */
  addUrl(name: string, url: string): Promise<void>;
  /** Calls `handler` if the build is stopped while the step runs; returns an unsubscribe. */
  onStop(handler: (reason: string) => void): () => void;
  /** The build's id (the parent of what a `trigger` step starts). */
  readonly buildid: number;
  /** Every source stamp of the build, one per codebase. */
  readonly sourcestamps: readonly SourceStampEntity[];
  /** This master's triggerable schedulers, for the `trigger` step; absent: none. */
  readonly triggers?: TriggerServices | undefined;
}

export abstract class BuildStep {
  /** Run the step only when true (a renderer is asked when the step is reached). */
  doStepIf: RenderableBoolean = true;
  /** Hide the finished step (a renderer is asked with the step's result). */
  hideStepIf: RenderableBoolean<HideStepIfFn> = false;
  /** Locks held while the step runs. */
  locks: LockAccessConfig[] = [];

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
