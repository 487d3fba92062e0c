/**
 * Yardmaster's side of the Buildbot 3.7 peer benchmark (../shared/bench/buildbot-peer/):
 * the same workers, builders and force scheduler as its master.cfg, so the harness's
 * bench.sh can drive this master (MASTER_CMD) with the same unmodified buildbot-workers.
 *
 * Settings, as master.cfg reads them: an environment variable (bench.sh exports every
 * `BB_*` of peer.env), else the `peer.env` file, else the default below. peer.env is looked
 * for at $BB_PEER_ENV, then in the master's basedir (`--basedir` / YARDMASTER_BASEDIR), then
 * in `<basedir>/../master/` (setup.sh's layout when the basedir is `<scratch>/ym`).
 *
 * Only msgpack_experimental_v7 is served (on BB_MSGPACK_PORT); Yardmaster has no PB port,
 * so the harness must run with BENCH_PROTOS=msgpack-quiet (or msgpack).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import {
  buildFactory,
  builder,
  defineConfig,
  forceScheduler,
  interpolate,
  shellCommand,
  worker,
} from '@yardmaster/master';

/** The basedir this master was started with (`--basedir DIR`, `--basedir=DIR`, env). */
function masterBasedir(): string {
  const argv = process.argv;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--basedir') return path.resolve(argv[index + 1] ?? '.');
    if (arg.startsWith('--basedir=')) return path.resolve(arg.slice('--basedir='.length));
  }
  return path.resolve(process.env.YARDMASTER_BASEDIR ?? '.yardmaster');
}

/** KEY=VALUE lines of the first peer.env found (an empty map when there is none). */
function readPeerEnv(): Map<string, string> {
  const basedir = masterBasedir();
  const candidates = [
    process.env.BB_PEER_ENV,
    path.join(basedir, 'peer.env'),
    path.join(basedir, '..', 'master', 'peer.env'),
  ];
  const settings = new Map<string, string>();
  const file = candidates.find((candidate) => candidate !== undefined && existsSync(candidate));
  if (file === undefined) return settings;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    const equals = line.indexOf('=');
    if (line === '' || line.startsWith('#') || equals < 0) continue;
    settings.set(line.slice(0, equals), line.slice(equals + 1));
  }
  return settings;
}

const peerEnv = readPeerEnv();

/** master.cfg's `setting()`: environment, then peer.env, then the default. */
function setting(key: string, fallback: string): string {
  return process.env[key] || peerEnv.get(key) || fallback;
}

/** A numeric setting; a bad value is passed on as NaN, so validation reports it. */
function numberSetting(key: string, fallback: number): number {
  return Number(setting(key, String(fallback)));
}

const workerCount = numberSetting('BB_WORKERS', 4);
const workerPassword = setting('BB_WORKER_PASS', 'pass');
const workerNames = Array.from({ length: workerCount }, (_, index) => `w${index + 1}`);

/** master.cfg's `shell(name, command)`: every step halts the build when it fails. */
function shell(name: string, command: Parameters<typeof shellCommand>[0]['command']) {
  return shellCommand({ name, command, haltOnFailure: true });
}

export default defineConfig({
  title: 'bbpeer',
  workers: workerNames.map((name) => worker(name, { password: workerPassword, maxBuilds: 1 })),
  builders: [
    builder({
      name: 'noop',
      workerNames,
      factory: buildFactory([shell('true', ['true'])]),
    }),
    builder({
      name: 'logs',
      workerNames,
      // Output size and line come from the force properties (defaults below).
      factory: buildFactory([
        shell('yes', interpolate('yes %(prop:log_line)s | head -c %(prop:log_bytes)s')),
      ]),
    }),
    builder({
      name: 'steps10',
      workerNames,
      factory: buildFactory(
        Array.from({ length: 10 }, (_, index) => shell(`step${index + 1}`, ['true'])),
      ),
    }),
  ],
  schedulers: [
    forceScheduler({
      name: 'force',
      builderNames: ['noop', 'logs', 'steps10'],
      properties: [
        { name: 'log_bytes', type: 'string', default: setting('BB_LOG_BYTES', '20000000') },
        // one log line = this text + '\n': 79 characters make 80-byte lines
        { name: 'log_line', type: 'string', default: setting('BB_LOG_LINE', 'x'.repeat(79)) },
      ],
    }),
  ],
  // As master.cfg: 200 identical forces must give 200 builds.
  collapseRequests: false,
  www: { port: numberSetting('BB_WWW_PORT', 18010), host: '127.0.0.1' },
  workerPort: numberSetting('BB_MSGPACK_PORT', 19990),
  workerHost: '127.0.0.1',
});
