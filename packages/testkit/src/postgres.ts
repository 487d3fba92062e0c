/**
 * A real PostgreSQL server for tests, from Debian's binaries, in a temp dir on a free
 * loopback port. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` user (runuser).
 *
 * Owns: the data directory and the server process (tracked by spawnProcess, so a leaked
 * server fails the leak check). States: stopped → running → stopped; `restart()` keeps
 * the data and the port (for tests that restart the database under a running master).
 * Databases made with `createDatabase` are dropped by the test's cleanup.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { makeTempDir, onCleanup } from './temp-dir.js';
import { spawnProcess, type SpawnedProcess } from './spawn-process.js';
import { waitFor } from './wait-for.js';

export interface PostgresServer {
  readonly port: number;
  /** URL of the `postgres` database as the superuser. */
  readonly adminUrl: string;
  url(database: string): string;
  /** Creates a database (optionally from a template) and drops it at cleanup; returns its URL. */
  createDatabase(name?: string, template?: string): Promise<string>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions[0];
  if (!version) {
    throw new Error(
      'PostgreSQL server binaries were not found under /usr/lib/postgresql; install Debian\'s "postgresql" package (.ci/run does)',
    );
  }
  return path.join(root, version, 'bin');
}

const asRoot = process.getuid?.() === 0;

function command(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

async function query(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Starts a private PostgreSQL server. `settings` are extra `-c name=value` server settings
 * (benchmarks load `pg_stat_statements` this way).
 */
export async function startPostgres(
  settings: Readonly<Record<string, string>> = {},
): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const base = await makeTempDir('ym-postgres-');
  const dataDir = path.join(base, 'data');
  const socketDir = path.join(base, 'socket');
  mkdirSync(dataDir);
  mkdirSync(socketDir);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    for (const dir of [base, dataDir, socketDir]) chownSync(dir, uid, gid);
  }
  const [initCmd, initArgs] = command(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  const port = await freePort();
  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  let proc: SpawnedProcess | null = null;

  const launch = async () => {
    const [cmd, args] = command(path.join(bin, 'postgres'), [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=64MB',
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ]);
    proc = spawnProcess(cmd, args, { name: 'postgres', stopGraceMs: 10_000 });
    const started = proc;
    await waitFor(
      async () => {
        if (!started.running) throw new Error(`postgres exited:\n${started.output()}`);
        await query(adminUrl, 'select 1');
        return true;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: () => `PostgreSQL to accept connections on port ${port}:\n${started.output()}`,
      },
    );
  };

  const shutdown = async () => {
    const running = proc;
    proc = null;
    if (!running) return;
    running.kill('SIGINT'); // fast shutdown: ends sessions, no waiting for clients
    await Promise.race([running.exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    await running.stop();
  };

  await launch();
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    adminUrl,
    url,
    async createDatabase(name, template) {
      const db = name ?? `test_${process.pid}_${Date.now()}_${counter++}`;
      await query(adminUrl, `CREATE DATABASE "${db}"${template ? ` TEMPLATE "${template}"` : ''}`);
      onCleanup(`drop database ${db}`, () =>
        query(adminUrl, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined),
      );
      return url(db);
    },
    restart: async () => {
      await shutdown();
      await launch();
    },
    stop: shutdown,
  };
}

/** Creates a fresh database on the server whose admin URL is `adminUrl`; dropped at cleanup. */
export async function createTestDatabase(adminUrl: string): Promise<string> {
  const db = `test_${process.pid}_${Date.now()}_${counter++}`;
  await query(adminUrl, `CREATE DATABASE "${db}"`);
  onCleanup(`drop database ${db}`, () =>
    query(adminUrl, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${db}`;
  return url.toString();
}
