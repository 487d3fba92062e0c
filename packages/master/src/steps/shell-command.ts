/**
 * `shellCommand`: runs one command on the worker and stores its output in the `stdio` log.
 * The command and env values may be `interpolate('...')` or `renderer(fn)`: they are
 * rendered when the step starts, from the build's properties, source stamp, worker info
 * and secrets.
 *
 * Extras, as Buildbot's `ShellCommand` / `WarningCountingShellCommand`: `logfiles` (files
 * the worker watches while the command runs, each shown as its own log) and warning
 * counting (`warningPattern`: matching lines go to a `warnings (N)` log, the count to the
 * `warnings-count` property, and the step is WARNINGS, or FAILURE beyond `maxWarnCount`).
 */
import { logChunkText } from '@yardmaster/protocol';
import type { RenderableString } from '../config/types.js';
import { compileWarningPattern } from '../config/warning-pattern.js';
import type { LogWriter } from '../process/log-writer.js';
import type { UpdateArgs } from '../process/remote-command.js';
import { Results, worstResult, type Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { commandResult } from './command-result.js';
import { renderCommandAsync, renderEnvAsync, renderableText } from './renderables.js';

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
  /** Files on the worker (relative to `workdir`) shown as extra logs. */
  logfiles?: Record<string, { filename: string; follow: boolean }>;
  /** Lines matching it are warnings; `null`: no counting. */
  warningPattern?: string | null;
  maxWarnCount?: number | null;
}

/** The parts of the options the `shell` remote command needs. */
export type ShellSettings = Pick<
  ShellCommandOptions,
  | 'workdir'
  | 'timeoutSeconds'
  | 'maxTimeSeconds'
  | 'logEnviron'
  | 'wantStdout'
  | 'wantStderr'
  | 'logfiles'
>;

/** The `shell` remote command's arguments, with the command and env already rendered. */
export function shellArgs(
  runtime: StepRuntime,
  o: ShellSettings,
  command: string | string[],
  env: Record<string, string>,
) {
  return {
    workdir: runtime.workerPath(o.workdir),
    env,
    want_stdout: o.wantStdout,
    want_stderr: o.wantStderr,
    logfiles: o.logfiles ?? {},
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

/** `'make -j4 test'`, shortened to 40 characters, as the state string shows it. */
export function describeCommand(words: RenderableString | RenderableString[]): string {
  const command = Array.isArray(words)
    ? words.map(renderableText).join(' ')
    : renderableText(words);
  const short = command.length > 40 ? `${command.slice(0, 37)}...` : command;
  return `'${short}'`;
}

/**
 * A rendered command as state strings may show it: secrets replaced first, so shortening
 * it for display can never cut a secret in two.
 */
export function shownCommand(
  command: string | string[],
  runtime: Pick<StepRuntime, 'redact'>,
): string | string[] {
  return Array.isArray(command)
    ? command.map((word) => runtime.redact(word))
    : runtime.redact(command);
}

/** Whole lines of stdout and stderr, as they arrive (partial lines are held). */
export class LineCollector {
  private readonly partial = { stdout: '', stderr: '' };

  constructor(private readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void) {}

  update(updates: UpdateArgs): void {
    for (const [key, value] of updates) {
      if (key !== 'stdout' && key !== 'stderr') continue;
      const text = this.partial[key] + logChunkText(value);
      const lines = text.split('\n');
      this.partial[key] = lines.pop() ?? '';
      for (const line of lines) this.onLine(line, key);
    }
  }

  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.onLine(this.partial[stream], stream);
      this.partial[stream] = '';
    }
  }
}

/** Buildbot's `WarningCountingShellCommand` bookkeeping for one command. */
export class WarningCounter {
  private readonly pattern: RegExp;
  readonly warnings: string[] = [];

  constructor(pattern: string) {
    this.pattern = compileWarningPattern(pattern);
  }

  line(line: string): void {
    if (this.pattern.test(line)) this.warnings.push(line);
  }

  /** Adds the `warnings (N)` log and the `warnings-count` property; the step's result. */
  async finish(runtime: StepRuntime, result: Result, maxWarnCount: number | null): Promise<Result> {
    const count = this.warnings.length;
    if (count > 0) {
      const log = await runtime.addLog(`warnings (${count})`, 't');
      log.addText('o', `${this.warnings.join('\n')}\n`);
      await log.flush();
    }
    const previous = runtime.getProperty('warnings-count');
    runtime.setProperty(
      'warnings-count',
      (typeof previous === 'number' ? previous : 0) + count,
      'WarningCountingShellCommand',
    );
    if (maxWarnCount !== null && count > maxWarnCount) return worstResult(result, Results.FAILURE);
    if (count > 0) return worstResult(result, Results.WARNINGS);
    return result;
  }
}

/** Creates one log per `logfiles` entry, at the start of the step (as Buildbot does). */
export async function logfileLogs(
  runtime: StepRuntime,
  logfiles: Record<string, unknown> | undefined,
): Promise<Record<string, LogWriter>> {
  const logs: Record<string, LogWriter> = {};
  for (const name of Object.keys(logfiles ?? {})) logs[name] = await runtime.addLog(name);
  return logs;
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
    return describeCommand(this.rendered ?? this.options.command);
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const command = await renderCommandAsync(this.options.command, runtime);
    const env = await renderEnvAsync(this.options.env, runtime);
    this.rendered = shownCommand(command, runtime);
    const log = await runtime.addLog('stdio');
    const logfiles = await logfileLogs(runtime, this.options.logfiles);
    const pattern = this.options.warningPattern ?? null;
    const counter = pattern === null ? null : new WarningCounter(pattern);
    const lines = counter && new LineCollector((line) => counter.line(line));
    const result = await runtime.runCommand(
      'shell',
      shellArgs(runtime, this.options, command, env),
      { log, logfiles, onUpdate: lines ? (updates) => lines.update(updates) : undefined },
    );
    const outcome = commandResult(result, runtime.stopping);
    if (!counter || !lines) return outcome;
    lines.flush();
    return counter.finish(runtime, outcome, this.options.maxWarnCount ?? null);
  }
}
