/**
 * `yardmaster demo` (what `npm start` runs): a master on the embedded defaults with the
 * offline example config, a local git repository to build, and one local worker process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { StartOptions } from './cli-options.js';
import { startMaster, untilSignal } from './run-master.js';
import { createLogger } from './logger.js';

const DEMO_WORKER = 'local-1';

function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
}

/** A small git repository with a script to build, made once in the basedir. */
export function ensureDemoRepository(dir: string): string {
  if (!fs.existsSync(path.join(dir, '.git'))) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      '# demo project\n\nBuilt by the Yardmaster demo.\n',
    );
    fs.writeFileSync(
      path.join(dir, 'test.sh'),
      '#!/bin/sh\necho "running the tests of the demo project"\nls -l\necho "all good"\n',
      { mode: 0o755 },
    );
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git(
      '-c',
      'user.name=Yardmaster demo',
      '-c',
      'user.email=demo@localhost',
      'commit',
      '-q',
      '-m',
      'demo project',
    );
  }
  return `file://${dir}`;
}

function workerBin(): string {
  const entry = fileURLToPath(import.meta.resolve('@yardmaster/worker'));
  return path.resolve(path.dirname(entry), '../bin/yardmaster-worker.js');
}

export async function runDemo(options: StartOptions): Promise<number> {
  const log = createLogger();
  const basedir = path.resolve(options.basedir);
  fs.mkdirSync(basedir, { recursive: true });
  const passwordFile = path.join(basedir, 'demo-worker-password');
  if (!fs.existsSync(passwordFile))
    fs.writeFileSync(passwordFile, randomBytes(12).toString('hex'), { mode: 0o600 });
  const password = fs.readFileSync(passwordFile, 'utf8').trim();
  process.env.YARDMASTER_DEMO_PASSWORD = password;
  try {
    process.env.YARDMASTER_DEMO_REPO_URL = ensureDemoRepository(path.join(basedir, 'demo-repo'));
  } catch (error) {
    log.warn(
      { err: String(error) },
      'could not create the demo git repository (is git installed?); the git-demo builder will fail',
    );
  }
  const master = await startMaster(
    {
      ...options,
      config: options.config ?? path.join(repoRoot(), 'examples/demo/master.config.ts'),
    },
    log,
  );

  const worker: ChildProcess = spawn(
    process.execPath,
    [
      workerBin(),
      '--master',
      `127.0.0.1:${master.workerPort}`,
      '--name',
      DEMO_WORKER,
      '--basedir',
      path.join(basedir, `worker-${DEMO_WORKER}`),
    ],
    {
      env: { ...process.env, YARDMASTER_WORKER_PASSWORD: password },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  worker.on('exit', (code, signal) => {
    if (!stopping) log.warn(`the demo worker exited (${signal ?? `code ${code ?? '?'}`})`);
  });
  let stopping = false;

  const host = options.webHost ?? master.config.www.host;
  const web = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${master.webPort}`;
  process.stderr.write(
    `\nYardmaster demo is running.\n` +
      `  web and REST API : ${web}/api/v2/builders\n` +
      `  worker port      : ${master.workerPort} (worker "${DEMO_WORKER}" started)\n` +
      `  force a build    : curl -s -X POST -H 'content-type: application/json' \\\n` +
      `                       -d '{"jsonrpc":"2.0","method":"force","id":1,"params":{"builderNames":["hello"]}}' \\\n` +
      `                       ${web}/api/v2/forceschedulers/force\n` +
      `  Ctrl-C stops it; state is kept in ${basedir}\n\n`,
  );

  return untilSignal(async () => {
    stopping = true;
    const exited = new Promise<void>((resolve) => {
      if (worker.exitCode !== null || worker.signalCode !== null) resolve();
      else worker.once('exit', () => resolve());
    });
    worker.kill('SIGTERM');
    await master.stop();
    await exited;
  }, log);
}
