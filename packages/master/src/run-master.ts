/**
 * Runs a master in this process until SIGTERM/SIGINT: loads the config, starts, and
 * on the first signal stops cleanly (running builds are re-queued); a second signal
 * exits at once.
 *
 * `runMaster` (what `yardmaster start` runs) also writes `<basedir>/master.pid` and reloads
 * the config on SIGHUP (`yardmaster reconfig`, docs/decisions/0006-config-reload.md): the
 * file is read again and validated; a valid config is applied, an invalid one is refused
 * with every problem logged and the old one stays. Each outcome is written to
 * `<basedir>/reconfig.json` with a sequence number the reconfig command waits for.
 * Reloads run one at a time; a SIGHUP during one queues one more.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from './config/load-config.js';
import { ConfigError } from './config/config-error.js';
import { Master } from './master.js';
import type { StartOptions } from './cli-options.js';
import { createLogger, type Logger } from './logger.js';
import { describeChanges } from './process/reconfig.js';
import { releaseStartup } from './startup-heap.js';

export const PID_FILE = 'master.pid';
export const RECONFIG_STATUS_FILE = 'reconfig.json';

/** What `<basedir>/reconfig.json` holds after each reload. */
export interface ReconfigStatus {
  /** Counts reloads since the master started (0: none yet). */
  seq: number;
  /** The master's pid, so a status from an earlier run is not taken for an answer. */
  pid: number;
  /** Epoch milliseconds. */
  at: number;
  ok: boolean;
  message: string;
  problems?: { path: string; message: string }[];
}

/** Where `startMaster` finds the config: --config, else the basedir's, else the cwd's. */
function configPathOf(options: StartOptions, basedir: string): string {
  return (
    options.config ??
    (fs.existsSync(path.join(basedir, 'master.config.ts')) ? basedir : process.cwd())
  );
}

export async function startMaster(
  options: StartOptions,
  log: Logger = createLogger(),
): Promise<Master> {
  const basedir = path.resolve(options.basedir);
  fs.mkdirSync(basedir, { recursive: true });
  const configPath = configPathOf(options, basedir);
  const config = await loadConfig(configPath);
  const master = new Master({
    config,
    basedir,
    webPort: options.webPort,
    webHost: options.webHost,
    workerPort: options.workerPort,
    workerHost: options.workerHost,
    dbUrl: options.dbUrl,
    masterName: options.masterName,
    masterExpiryMs: options.masterExpiryMs,
    drainTimeoutMs: options.drainTimeoutMs,
    logger: log,
  });
  await master.start();
  return master;
}

/** Waits for SIGTERM or SIGINT, then runs `shutdown`; resolves with the exit code. */
export function untilSignal(shutdown: () => Promise<void>, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn(`${signal} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log.info(`${signal} received: stopping (send it again to exit at once)`);
      shutdown().then(
        () => resolve(0),
        (error: unknown) => {
          log.error({ err: error }, 'stopping failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * Loads the config again and applies it; an invalid one is refused (logged with every
 * problem) and the running config stays. Never throws: the outcome is the status.
 */
export async function reloadConfig(
  master: Master,
  configPath: string,
  log: Logger,
): Promise<Omit<ReconfigStatus, 'seq' | 'pid' | 'at'>> {
  try {
    const config = await loadConfig(configPath);
    const changes = await master.reconfig(config);
    return { ok: true, message: `configuration updated: ${describeChanges(changes)}` };
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error(`reconfig refused, the running configuration stays: ${error.message}`);
      return {
        ok: false,
        message: `reconfig refused, the running configuration stays: ${error.message}`,
        problems: [...error.problems],
      };
    }
    const message = error instanceof Error ? error.message : String(error);
    log.error({ err: error }, `reconfig failed: ${message}`);
    return { ok: false, message: `reconfig failed: ${message}` };
  }
}

/**
 * `yardmaster start`: starts a master, writes its pid file, reloads on SIGHUP, and runs
 * until SIGTERM/SIGINT; resolves with the exit code.
 */
export async function runMaster(options: StartOptions, log: Logger): Promise<number> {
  let master: Master;
  try {
    master = await startMaster(options, log);
  } finally {
    releaseStartup(); // held by bin/yardmaster.js during start-up
  }
  const basedir = path.resolve(options.basedir);
  const configPath = configPathOf(options, basedir);
  const pidFile = path.join(basedir, PID_FILE);
  const statusFile = path.join(basedir, RECONFIG_STATUS_FILE);
  fs.writeFileSync(pidFile, `${process.pid}\n`);
  let seq = 0;
  let reloading: Promise<void> | null = null;
  let again = false;
  const reload = (): void => {
    if (reloading) {
      again = true;
      return;
    }
    reloading = (async () => {
      do {
        again = false;
        log.info('SIGHUP received: reloading the configuration');
        const outcome = await reloadConfig(master, configPath, log);
        seq += 1;
        const status: ReconfigStatus = { seq, pid: process.pid, at: Date.now(), ...outcome };
        const temporary = `${statusFile}.${process.pid}`;
        fs.writeFileSync(temporary, `${JSON.stringify(status, null, 2)}\n`);
        fs.renameSync(temporary, statusFile);
      } while (again);
      reloading = null;
    })();
  };
  process.on('SIGHUP', reload);
  try {
    return await untilSignal(async () => {
      process.off('SIGHUP', reload);
      await reloading;
      await master.stop();
    }, log);
  } finally {
    fs.rmSync(pidFile, { force: true });
  }
}
