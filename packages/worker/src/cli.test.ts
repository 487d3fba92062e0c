import { describe, expect, it } from 'vitest';
import { parseWorkerArgs, UsageError, workerMain } from './cli.js';
import { masterUrl, workerEnvironment } from './agent.js';

describe('parseWorkerArgs', () => {
  it('reads flags, with environment fallbacks', () => {
    expect(
      parseWorkerArgs(['--master', 'a:9989,[::1]:9990', '--name', 'w1', '--basedir', '/tmp/w'], {
        YARDMASTER_WORKER_PASSWORD: 'secret',
      }),
    ).toEqual({
      masters: ['a:9989', '[::1]:9990'],
      name: 'w1',
      password: 'secret',
      passwordFromArgv: false,
      basedir: '/tmp/w',
      maxAuthFailures: undefined,
      verbose: false,
    });
    const fromEnv = parseWorkerArgs([], {
      YARDMASTER_MASTER: 'ws://master.example:9989',
      YARDMASTER_WORKER_NAME: 'w2',
      YARDMASTER_WORKER_PASSWORD: 'p',
      YARDMASTER_WORKER_BASEDIR: 'rel',
    });
    expect(fromEnv).toMatchObject({
      masters: ['ws://master.example:9989'],
      name: 'w2',
      basedir: expect.stringMatching(/\/rel$/) as unknown,
    });
  });

  it('lists every problem at once', () => {
    expect(() => parseWorkerArgs(['--master', 'nohost', '--max-auth-failures', '0'], {})).toThrow(
      UsageError,
    );
    try {
      parseWorkerArgs(['--master', 'nohost,h:99999'], {});
    } catch (error) {
      expect((error as Error).message.split('\n')).toEqual([
        'master "nohost" must be HOST:PORT (for example localhost:9989)',
        'master "h:99999" must be HOST:PORT (for example localhost:9989)',
        'missing --name NAME (or YARDMASTER_WORKER_NAME)',
        'missing the password: set YARDMASTER_WORKER_PASSWORD (or --password)',
        'missing --basedir DIR (or YARDMASTER_WORKER_BASEDIR)',
      ]);
    }
  });

  it('rejects unknown flags and names with a colon', () => {
    expect(() => parseWorkerArgs(['--bogus'], {})).toThrow(/Unknown option '--bogus'/);
    expect(() =>
      parseWorkerArgs(
        ['--master', 'h:1', '--name', 'a:b', '--password', 'p', '--basedir', '/x'],
        {},
      ),
    ).toThrow(/must not contain ':'/);
  });

  it('returns help', () => {
    expect(parseWorkerArgs(['--help'], {})).toBe('help');
  });
});

describe('workerMain', () => {
  it('exits 2 with the usage on bad arguments and 0 on --help', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const deps = {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
    };
    await expect(workerMain(['--master'], {}, deps)).resolves.toBe(2);
    expect(err.join('')).toMatch(/^yardmaster-worker: .*\n\nUsage: yardmaster-worker/s);
    await expect(workerMain(['-h'], {}, deps)).resolves.toBe(0);
    expect(out.join('')).toContain('YARDMASTER_WORKER_PASSWORD');
  });
});

describe('helpers', () => {
  it('builds master URLs and hides the password from commands', () => {
    expect(masterUrl('localhost:9989')).toBe('ws://localhost:9989');
    expect(masterUrl('wss://m.example/ws')).toBe('wss://m.example/ws');
    expect(
      workerEnvironment({ PATH: '/bin', YARDMASTER_WORKER_PASSWORD: 'x', EMPTY: undefined }),
    ).toEqual({ PATH: '/bin' });
  });
});
