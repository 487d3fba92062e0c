/**
 * `shell`: run a command line or argv in `workdir` (buildbot-worker's WorkerShellCommand).
 * Owns one RunProcess; `interrupt` kills its whole process group.
 */
import type { LogfileSpec } from '@yardmaster/protocol';
import { RunProcess, type CommandWord } from '../run-process.js';
import { ArgsReader, WorkerCommand, type CommandContext } from './base.js';

export class ShellCommand extends WorkerCommand {
  readonly #process: RunProcess;

  constructor(context: CommandContext, rawArgs: unknown) {
    super(context);
    const args = new ArgsReader('shell', rawArgs);
    const workdir = args.requiredString('workdir');
    const command = parseCommand(args);
    const timeout = args.optionalSeconds('timeout');
    const maxTime = args.optionalSeconds('maxTime');
    const sigtermTime = args.optionalNumber('sigtermTime');
    const initialStdin = args.optionalString('initial_stdin');
    const interruptSignal = args.optionalString('interruptSignal');
    const logfiles = parseLogfiles(args);
    const env = args.raw('env');
    if (env !== undefined && env !== null && (typeof env !== 'object' || Array.isArray(env))) {
      throw new Error('shell command env must be a map');
    }
    args.check();
    this.#process = new RunProcess({
      command,
      workdir,
      basedir: context.basedir,
      environ: context.environ,
      env: env as Record<string, unknown> | null | undefined,
      sendUpdate: (updates) => context.sendUpdate(updates),
      whenWritable: () => context.whenWritable?.(),
      logger: context.logger,
      sendStdout: args.flag('want_stdout', true),
      sendStderr: args.flag('want_stderr', true),
      sendRC: true,
      timeout,
      maxTime,
      sigtermTime,
      initialStdin,
      logEnviron: args.flag('logEnviron', true),
      logfiles,
      usePTY: args.raw('usePTY') === true,
      interruptSignal,
    });
  }

  protected override async start(): Promise<void> {
    await this.#process.start();
  }

  protected override interrupt(): void {
    this.interrupted = true;
    this.#process.kill('command interrupted');
  }
}

function parseCommand(args: ArgsReader): string | CommandWord[] {
  const command = args.raw('command');
  if (command === undefined) {
    args.requiredString('command'); // records it as missing
    return '';
  }
  if (typeof command === 'string') return command;
  if (!Array.isArray(command) || command.length === 0) {
    throw new Error('shell command "command" must be a string or a non-empty list');
  }
  return command.map((word: unknown, index): CommandWord => {
    if (typeof word === 'string') return { real: word, fake: word };
    if (typeof word === 'number') return { real: String(word), fake: String(word) };
    if (
      Array.isArray(word) &&
      word.length === 3 &&
      word[0] === 'obfuscated' &&
      typeof word[1] === 'string' &&
      typeof word[2] === 'string'
    ) {
      return { real: word[1], fake: word[2] };
    }
    throw new Error(
      `shell command "command"[${index}] must be a string or ['obfuscated', real, fake]`,
    );
  });
}

function parseLogfiles(args: ArgsReader): Record<string, LogfileSpec> {
  const logfiles = args.raw('logfiles');
  if (logfiles === undefined || logfiles === null) return {};
  if (typeof logfiles !== 'object' || Array.isArray(logfiles)) {
    throw new Error('shell command logfiles must be a map of name to file');
  }
  const out: Record<string, LogfileSpec> = {};
  for (const [name, spec] of Object.entries(logfiles as Record<string, unknown>)) {
    if (typeof spec === 'string') out[name] = spec;
    else if (
      typeof spec === 'object' &&
      spec !== null &&
      typeof (spec as { filename?: unknown }).filename === 'string'
    ) {
      const { filename, follow } = spec as { filename: string; follow?: unknown };
      out[name] = { filename, follow: Boolean(follow) };
    } else {
      throw new Error(`shell command logfiles[${JSON.stringify(name)}] must be a file name`);
    }
  }
  return out;
}
