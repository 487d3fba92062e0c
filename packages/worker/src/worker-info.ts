/**
 * The answer to `get_worker_info`, with the keys buildbot-worker sends: the contents of the
 * files in BASEDIR/info/ (admin, host, access_uri…), os_* from /etc/os-release, environ,
 * system, basedir, numcpus, version, worker_commands and delete_leftover_dirs.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { COMMAND_VERSION, WORKER_COMMAND_NAMES, type WorkerInfo } from '@yardmaster/protocol';

export const WORKER_VERSION = 'yardmaster-0.1.0';

export interface WorkerInfoOptions {
  basedir: string;
  environ: Readonly<Record<string, string>>;
  deleteLeftoverDirs?: boolean;
  osReleaseFile?: string;
}

export async function collectWorkerInfo(options: WorkerInfoOptions): Promise<WorkerInfo> {
  const files: Record<string, string> = {};
  const infoDir = path.join(options.basedir, 'info');
  try {
    for (const name of (await readdir(infoDir)).sort()) {
      const file = path.join(infoDir, name);
      if ((await stat(file)).isFile()) files[name] = await readFile(file, 'utf8');
    }
  } catch {
    // No info directory: nothing to describe.
  }
  Object.assign(files, await readOsRelease(options.osReleaseFile ?? '/etc/os-release'));
  return {
    ...files,
    environ: { ...options.environ },
    system: process.platform === 'win32' ? 'nt' : 'posix',
    basedir: options.basedir,
    numcpus: Math.max(1, cpus().length),
    version: WORKER_VERSION,
    worker_commands: Object.fromEntries(
      WORKER_COMMAND_NAMES.map((name) => [name, COMMAND_VERSION]),
    ),
    delete_leftover_dirs: options.deleteLeftoverDirs ?? false,
  };
}

/** /etc/os-release as `os_<key lowercased>` → value (quotes stripped), like buildbot-worker. */
export async function readOsRelease(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    if (equals < 0) continue;
    const value = line.slice(equals + 1);
    if (value) out[`os_${line.slice(0, equals).toLowerCase()}`] = value.replace(/^"+|"+$/g, '');
  }
  return out;
}
