/** workerMain end to end against TestMaster: runs until SIGTERM/SIGINT, then exits 0. */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workerMain } from './cli.js';
import { silentLogger } from './logger.js';
import { processGroupAlive, streamText, TestMaster, waitFor } from './test-utils.js';

let master: TestMaster;
let basedir: string;

beforeEach(async () => {
  master = await TestMaster.start({ workers: { w1: 'pw' } });
  basedir = await mkdtemp(path.join(tmpdir(), 'ym-cli-'));
});

afterEach(async () => {
  await master.close();
  await rm(basedir, { recursive: true, force: true });
});

function fakeSignals() {
  const emitter = new EventEmitter();
  return {
    emitter,
    signals: {
      once: (event: string, listener: (signal: NodeJS.Signals) => void) =>
        emitter.once(event, listener),
      removeListener: (event: string, listener: (signal: NodeJS.Signals) => void) =>
        emitter.removeListener(event, listener),
    } as unknown as Pick<NodeJS.Process, 'once' | 'removeListener'>,
  };
}

describe('workerMain', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops running commands and exits 0 on %s',
    async (signal) => {
      const { emitter, signals } = fakeSignals();
      const exit = workerMain(
        ['--master', master.address, '--name', 'w1', '--basedir', path.join(basedir, 'new')],
        { YARDMASTER_WORKER_PASSWORD: 'pw', PATH: process.env['PATH'] },
        { logger: silentLogger, signals },
      );
      const connection = await master.waitForConnection(0);
      expect(connection.authorization).toBe(`Basic ${Buffer.from('w1:pw').toString('base64')}`);
      const info = (await connection.request('get_worker_info')) as {
        environ: Record<string, string>;
      };
      expect(info.environ).not.toHaveProperty('YARDMASTER_WORKER_PASSWORD');
      const record = await connection.startCommand('shell', {
        workdir: '.',
        command: 'echo $$; sleep 100',
      });
      const pid = await waitFor(
        () => Number(streamText(record, 'stdout').trim()) || undefined,
        5000,
        'pid',
      );
      emitter.emit(signal, signal);
      await expect(exit).resolves.toBe(0);
      await connection.closed;
      expect(emitter.listenerCount('SIGTERM') + emitter.listenerCount('SIGINT')).toBe(0);
      await waitFor(() => !processGroupAlive(pid), 5000, `process group ${pid} to die`);
    },
  );

  it('exits 1 after --max-auth-failures refused logins', async () => {
    const { signals } = fakeSignals();
    const code = await workerMain(
      [
        '--master',
        master.address,
        '--name',
        'w1',
        '--basedir',
        basedir,
        '--max-auth-failures',
        '1',
      ],
      { YARDMASTER_WORKER_PASSWORD: 'wrong' },
      { logger: silentLogger, signals },
    );
    expect(code).toBe(1);
  });
});
