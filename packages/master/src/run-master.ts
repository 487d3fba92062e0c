/**
 * Runs a master in this process until SIGTERM/SIGINT: loads the config, starts, and
 * on the first signal stops cleanly (running builds are re-queued); a second signal
 * exits at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from './config/load-config.js';
import { Master } from './master.js';
import type { StartOptions } from './cli-options.js';
import { createLogger, type Logger } from './logger.js';

export async function startMaster(
  options: StartOptions,
  log: Logger = createLogger(),
): Promise<Master> {
  const basedir = path.resolve(options.basedir);
  fs.mkdirSync(basedir, { recursive: true });
  const configPath =
    options.config ??
    (fs.existsSync(path.join(basedir, 'master.config.ts')) ? basedir : process.cwd());
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
