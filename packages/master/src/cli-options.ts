/**
 * Flags and environment variables of `yardmaster start` (and `demo`): what differs per
 * deployment can be set without editing the config. A flag beats the environment,
 * which beats the config file.
 */
import { parseArgs } from 'node:util';
import { YardmasterError } from './errors.js';

export interface StartOptions {
  config: string | null;
  basedir: string;
  webPort?: number;
  webHost?: string;
  workerPort?: number;
  workerHost?: string;
  dbUrl?: string;
  masterName?: string;
  masterExpiryMs?: number;
  /** On SIGTERM, how long running builds may take to finish (ms; default 0: re-queue at once). */
  drainTimeoutMs?: number;
}

export const START_HELP = `Usage: yardmaster start [options]

Runs a master until SIGTERM or SIGINT.

Options (flag / environment variable):
  --config FILE        master.config.ts to load          YARDMASTER_CONFIG
                       (default: master.config.ts in the basedir, then in the current directory)
  --basedir DIR        where the SQLite database lives    YARDMASTER_BASEDIR   (default: ./.yardmaster)
  --web-port N         REST API and web UI port           YARDMASTER_WEB_PORT  (default: 8010)
  --web-host HOST      address the web port listens on    YARDMASTER_WEB_HOST  (default: 127.0.0.1)
  --worker-port N      worker protocol port               YARDMASTER_WORKER_PORT (default: 9989)
  --worker-host HOST   address the worker port listens on YARDMASTER_WORKER_HOST
  --db-url URL         database (sqlite:///path)          YARDMASTER_DB_URL
  --name NAME          this master's name                 YARDMASTER_MASTER_NAME (default: host:basedir)
  --master-expiry SECS several masters: a master silent    YARDMASTER_MASTER_EXPIRY (default: 15)
                       this long is expired by the others
  --drain-timeout SECS on SIGTERM, running builds get     YARDMASTER_DRAIN_TIMEOUT (default: 0)
                       this long to finish before they
                       are interrupted and re-queued;
                       0: do not wait, interrupt them at
                       once (they end RETRY and run again)
  -h, --help           show this help
`;

export class UsageError extends YardmasterError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** Seconds ≥ 0 (0 is meaningful: do not wait), in ms. */
function secondsOrZero(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value.trim() === '' ? NaN : value);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`${name} must be a number of seconds, 0 or more, got "${value}"`);
  }
  return n * 1000;
}

function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${name} must be a port number from 0 to 65535, got "${value}"`);
  }
  return Number(value);
}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${name} must be a number of seconds above 0, got "${value}"`);
  }
  return n * 1000;
}

export function parseStartOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
): StartOptions & { help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        basedir: { type: 'string' },
        'web-port': { type: 'string' },
        'web-host': { type: 'string' },
        'worker-port': { type: 'string' },
        'worker-host': { type: 'string' },
        'db-url': { type: 'string' },
        name: { type: 'string' },
        'master-expiry': { type: 'string' },
        'drain-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}\nRun "yardmaster start --help" for the options.`,
    );
  }
  const v = parsed.values;
  const pick = (flag: string | undefined, variable: string) => flag ?? (env[variable] || undefined);
  return {
    help: v.help === true,
    config: pick(v.config, 'YARDMASTER_CONFIG') ?? null,
    basedir: pick(v.basedir, 'YARDMASTER_BASEDIR') ?? '.yardmaster',
    webPort: port('--web-port', pick(v['web-port'], 'YARDMASTER_WEB_PORT')),
    webHost: pick(v['web-host'], 'YARDMASTER_WEB_HOST'),
    workerPort: port('--worker-port', pick(v['worker-port'], 'YARDMASTER_WORKER_PORT')),
    workerHost: pick(v['worker-host'], 'YARDMASTER_WORKER_HOST'),
    dbUrl: pick(v['db-url'], 'YARDMASTER_DB_URL'),
    masterName: pick(v.name, 'YARDMASTER_MASTER_NAME'),
    masterExpiryMs: seconds(
      '--master-expiry',
      pick(v['master-expiry'], 'YARDMASTER_MASTER_EXPIRY'),
    ),
    drainTimeoutMs: secondsOrZero(
      '--drain-timeout',
      pick(v['drain-timeout'], 'YARDMASTER_DRAIN_TIMEOUT'),
    ),
  };
}
