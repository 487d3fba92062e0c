/**
 * The offline demo that `npm start` runs: one local worker and two builders, started by
 * hand from the web UI (force scheduler "force").
 *
 * Environment (the demo launcher sets these; the fallbacks let `yardmaster checkconfig`
 * check this file on its own):
 *   YARDMASTER_DEMO_PASSWORD     password of worker "local-1"
 *   YARDMASTER_DEMO_REPO_URL     repository the "git-demo" builder checks out (the launcher
 *                                creates a local one, so the demo needs no network)
 *   YARDMASTER_DEMO_WWW_PORT     web UI and REST API port (default 8010)
 *   YARDMASTER_DEMO_WORKER_PORT  worker protocol port (default 9989)
 */
import {
  buildFactory,
  builder,
  defineConfig,
  forceScheduler,
  git,
  shellCommand,
  worker,
} from '@yardmaster/master';

const password = process.env.YARDMASTER_DEMO_PASSWORD ?? 'demo-password';
const repoUrl = process.env.YARDMASTER_DEMO_REPO_URL ?? 'file:///tmp/yardmaster-demo/repo.git';

/** A port from the environment; a bad value is passed on, so validation reports it. */
function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
}

export default defineConfig({
  title: 'Yardmaster demo',
  workers: [worker('local-1', { password, maxBuilds: 2 })],
  builders: [
    builder({
      name: 'hello',
      description: 'A few shell commands on the local worker',
      workerNames: ['local-1'],
      tags: ['demo'],
      factory: buildFactory([
        shellCommand({ name: 'hello', command: 'echo "Hello from Yardmaster on $(hostname)"' }),
        shellCommand({ command: ['uname', '-a'], description: 'which machine is this?' }),
        shellCommand({ command: 'ls -la', timeout: '30s' }),
      ]),
    }),
    builder({
      name: 'git-demo',
      description: 'Checks out a local git repository and shows its history',
      workerNames: ['local-1'],
      tags: ['demo', 'git'],
      factory: buildFactory([
        git({ repourl: repoUrl, mode: 'full', method: 'clobber' }),
        shellCommand({ name: 'history', command: ['git', 'log', '--oneline', '-n', '5'] }),
        shellCommand({ command: 'ls -la' }),
      ]),
    }),
  ],
  schedulers: [
    forceScheduler({
      name: 'force',
      builderNames: ['hello', 'git-demo'],
      properties: [{ name: 'greeting', type: 'string', default: 'hello', label: 'Greeting' }],
    }),
  ],
  www: { port: portFromEnv('YARDMASTER_DEMO_WWW_PORT', 8010) },
  workerPort: portFromEnv('YARDMASTER_DEMO_WORKER_PORT', 9989),
});
