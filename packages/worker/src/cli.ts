/**
 * `yardmaster-worker` / `yardmaster worker`: parse arguments and environment, run a
 * WorkerAgent until SIGTERM/SIGINT (or the master's `shutdown`), then exit.
 * Exit codes: 0 stopped cleanly, 1 gave up (refused credentials), 2 bad arguments.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WorkerAgent, workerEnvironment } from './agent.js';
import { createStderrLogger, type WorkerLogger } from './logger.js';
import { makeDirsSync } from './make-dirs.js';

export const USAGE = `Usage: yardmaster-worker --master HOST:PORT[,HOST2:PORT] --name NAME --basedir DIR [options]

Connects to a Yardmaster (or Buildbot) master over msgpack_experimental_v7 and runs the
commands its builds ask for. Runs until SIGTERM or SIGINT.

Options (each has an environment fallback):
  --master HOST:PORT[,…]  master(s) to connect to, tried in turn     YARDMASTER_MASTER
  --name NAME             worker name, as in the master config        YARDMASTER_WORKER_NAME
  --password PASS         worker password (prefer the environment     YARDMASTER_WORKER_PASSWORD
                          variable: arguments show up in ps)
  --basedir DIR           directory for builds (created if missing)   YARDMASTER_WORKER_BASEDIR
  --max-auth-failures N   exit after N refused logins in a row (default: keep retrying)
  --verbose               log debug messages too
  -h, --help              show this help
`;

export interface ParsedWorkerArgs {
  masters: string[];
  name: string;
  password: string;
  passwordFromArgv: boolean;
  basedir: string;
  maxAuthFailures: number | undefined;
  verbose: boolean;
}

export class UsageError extends Error {
  readonly code = 'USAGE';
  override name = 'UsageError';
}

/** Parse argv + env; returns 'help' for --help; throws UsageError listing every problem. */
export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedWorkerArgs | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        master: { type: 'string' },
        name: { type: 'string' },
        password: { type: 'string' },
        basedir: { type: 'string' },
        'max-auth-failures': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values['help']) return 'help';

  const problems: string[] = [];
  const pick = (key: string, envName: string): string | undefined => {
    const value = values[key];
    if (typeof value === 'string') return value;
    const fromEnv = env[envName];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };

  const masterText = pick('master', 'YARDMASTER_MASTER');
  const masters: string[] = [];
  if (masterText === undefined) problems.push('missing --master HOST:PORT (or YARDMASTER_MASTER)');
  else {
    for (const entry of masterText.split(',').map((item) => item.trim())) {
      const problem = checkMaster(entry);
      if (problem) problems.push(problem);
      else masters.push(entry);
    }
  }
  const name = pick('name', 'YARDMASTER_WORKER_NAME');
  if (name === undefined) problems.push('missing --name NAME (or YARDMASTER_WORKER_NAME)');
  else if (name.includes(':'))
    problems.push(`worker name "${name}" must not contain ':' (HTTP Basic auth)`);
  const password = pick('password', 'YARDMASTER_WORKER_PASSWORD');
  if (password === undefined)
    problems.push('missing the password: set YARDMASTER_WORKER_PASSWORD (or --password)');
  const basedir = pick('basedir', 'YARDMASTER_WORKER_BASEDIR');
  if (basedir === undefined) problems.push('missing --basedir DIR (or YARDMASTER_WORKER_BASEDIR)');

  let maxAuthFailures: number | undefined;
  const maxText = values['max-auth-failures'];
  if (typeof maxText === 'string') {
    maxAuthFailures = Number(maxText);
    if (!Number.isInteger(maxAuthFailures) || maxAuthFailures < 1) {
      problems.push(`--max-auth-failures must be a positive integer, got "${maxText}"`);
    }
  }

  if (
    problems.length > 0 ||
    name === undefined ||
    password === undefined ||
    basedir === undefined
  ) {
    throw new UsageError(problems.join('\n'));
  }
  return {
    masters,
    name,
    password,
    passwordFromArgv: typeof values['password'] === 'string',
    basedir: path.resolve(basedir),
    maxAuthFailures,
    verbose: values['verbose'] === true,
  };
}

function checkMaster(entry: string): string | undefined {
  if (/^wss?:\/\//i.test(entry)) {
    try {
      new URL(entry);
      return undefined;
    } catch {
      return `master "${entry}" is not a valid URL`;
    }
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d+)$/.exec(entry);
  const port = Number(match?.[2]);
  if (!match || !(port >= 1 && port <= 65535)) {
    return `master "${entry}" must be HOST:PORT (for example localhost:9989)`;
  }
  return undefined;
}

export interface WorkerMainDeps {
  logger?: WorkerLogger;
  /** Where --help and usage errors go (default process.stdout / process.stderr). */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Signal source (default process). */
  signals?: Pick<NodeJS.Process, 'once' | 'removeListener'>;
}

/** Run the worker until SIGTERM/SIGINT or the master's shutdown; resolves with the exit code. */
export async function workerMain(
  argv: string[],
  env: NodeJS.ProcessEnv,
  deps: WorkerMainDeps = {},
): Promise<number> {
  const stdout = deps.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = deps.stderr ?? ((text: string) => void process.stderr.write(text));
  let parsed: ParsedWorkerArgs | 'help';
  try {
    parsed = parseWorkerArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr(
      `yardmaster-worker: ${error.message.split('\n').join('\nyardmaster-worker: ')}\n\n${USAGE}`,
    );
    return 2;
  }
  if (parsed === 'help') {
    stdout(USAGE);
    return 0;
  }
  const logger = deps.logger ?? createStderrLogger({ level: parsed.verbose ? 'debug' : 'info' });
  if (parsed.passwordFromArgv) {
    logger.warn('--password is visible to other users in ps; prefer YARDMASTER_WORKER_PASSWORD');
  }
  try {
    if (!statSync(parsed.basedir, { throwIfNoEntry: false })) {
      makeDirsSync(parsed.basedir);
      logger.info(`created basedir ${parsed.basedir}`);
    } else if (!statSync(parsed.basedir).isDirectory()) {
      stderr(`yardmaster-worker: basedir ${parsed.basedir} exists and is not a directory\n`);
      return 2;
    }
  } catch (error) {
    stderr(
      `yardmaster-worker: cannot create basedir ${parsed.basedir}: ${(error as Error).message}\n`,
    );
    return 2;
  }

  const agent = new WorkerAgent({
    masters: parsed.masters,
    name: parsed.name,
    password: parsed.password,
    basedir: parsed.basedir,
    logger,
    maxAuthFailures: parsed.maxAuthFailures,
    environ: workerEnvironment(env),
  });
  const signals = deps.signals ?? process;
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info(`received ${signal}, stopping`);
    void agent.stop();
  };
  signals.once('SIGTERM', onSignal);
  signals.once('SIGINT', onSignal);
  try {
    agent.start();
    const reason = await agent.finished;
    return reason === 'gave-up' ? 1 : 0;
  } finally {
    signals.removeListener('SIGTERM', onSignal);
    signals.removeListener('SIGINT', onSignal);
  }
}
