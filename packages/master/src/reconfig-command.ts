/**
 * `yardmaster reconfig [--basedir DIR]`: asks the master running in DIR to reload its
 * config (Buildbot's `buildbot reconfig`), by SIGHUP to the pid in `DIR/master.pid`, then
 * waits for its answer in `DIR/reconfig.json` (run-master.ts) and prints it. Exit status 0
 * when the new config is in effect, 2 when it was refused (every problem is printed; the
 * old config stays), 1 when no master answered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PID_FILE, RECONFIG_STATUS_FILE, type ReconfigStatus } from './run-master.js';
import { UsageError } from './cli-options.js';

export const RECONFIG_HELP = `Usage: yardmaster reconfig [--basedir DIR] [--timeout SECS]

Reloads the config of the master running in DIR without a restart: sends it SIGHUP (its pid
is in DIR/master.pid) and prints the outcome. Added, removed and changed builders, workers,
schedulers, locks and reporters take effect; running builds keep their config. An invalid
config is refused with every problem listed and the running one stays (exit status 2).

Options:
  --basedir DIR    the master's basedir      YARDMASTER_BASEDIR (default: ./.yardmaster)
  --timeout SECS   how long to wait for the answer (default: 60)
  -h, --help       show this help
`;

function readStatus(file: string): ReconfigStatus | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ReconfigStatus;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function reconfigCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: { stdout: (text: string) => void; stderr: (text: string) => void } = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
): Promise<number> {
  let values: { basedir?: string; timeout?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        basedir: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    out.stdout(RECONFIG_HELP);
    return 0;
  }
  const basedir = path.resolve(
    values.basedir ?? positionals[0] ?? env.YARDMASTER_BASEDIR ?? '.yardmaster',
  );
  const timeoutMs = Number(values.timeout ?? '60') * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`);
  }
  const pidFile = path.join(basedir, PID_FILE);
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    out.stderr(
      `yardmaster: no ${pidFile}: is a master running with --basedir ${basedir}? (yardmaster start writes it)\n`,
    );
    return 1;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    out.stderr(`yardmaster: ${pidFile} names process ${pid}, which is not running\n`);
    return 1;
  }
  const statusFile = path.join(basedir, RECONFIG_STATUS_FILE);
  const before = readStatus(statusFile);
  const seen = before?.pid === pid ? before.seq : 0;
  process.kill(pid, 'SIGHUP');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = readStatus(statusFile);
    if (status?.pid === pid && status.seq > seen) {
      if (status.ok) {
        out.stdout(`${status.message}\n`);
        return 0;
      }
      out.stderr(`${status.message}\n`);
      return 2;
    }
    if (!alive(pid)) {
      out.stderr(`yardmaster: the master (pid ${pid}) exited during the reconfig\n`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  out.stderr(
    `yardmaster: no answer from the master (pid ${pid}) within ${timeoutMs / 1000} s; see its log\n`,
  );
  return 1;
}
