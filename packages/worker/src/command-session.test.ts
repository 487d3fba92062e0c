import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_WORKER_SETTINGS } from '@yardmaster/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandSession, MAX_UNANSWERED_TEXT, type ActiveSettings } from './command-session.js';
import { silentLogger } from './logger.js';
import { pythonRegexToJs } from './python-regex.js';

const settings: ActiveSettings = {
  newlineRe: pythonRegexToJs(DEFAULT_WORKER_SETTINGS.newline_re),
  maxLineLength: 4096,
  bufferSize: 65536,
  bufferTimeoutMs: 5000,
  lineLists: true,
};

let basedir: string;
beforeAll(async () => {
  basedir = await mkdtemp(path.join(tmpdir(), 'ym-session-'));
});
afterAll(async () => {
  await rm(basedir, { recursive: true, force: true });
});

function session(
  commandName: string,
  args: unknown,
  fail?: (op: string) => boolean,
  active: ActiveSettings = settings,
) {
  const sent: [string, Record<string, unknown>][] = [];
  const created = new CommandSession({
    commandId: '7',
    commandName,
    args,
    basedir,
    environ: {},
    settings: active,
    logger: silentLogger,
    clock: () => 100,
    request: (op, fields) => {
      sent.push([op, fields]);
      return fail?.(op) ? Promise.reject(new Error(`${op} refused`)) : Promise.resolve(null);
    },
  });
  return { created, sent };
}

describe('CommandSession', () => {
  it('sends the updates, then complete with null args', async () => {
    const { created, sent } = session('listdir', { path: basedir });
    created.start();
    await created.done;
    expect(sent).toEqual([
      [
        'update',
        {
          args: [
            ['files', []],
            ['rc', 0],
            ['elapsed', expect.any(Number)],
          ],
          command_id: '7',
        },
      ],
      ['complete', { args: null, command_id: '7' }],
    ]);
    expect(created.state).toBe('completed');
  });

  it('flushes a partial header line before complete', async () => {
    const { created, sent } = session('rmfile', { path: 'missing' });
    created.start();
    await created.done;
    const args = sent.flatMap(([op, fields]) =>
      op === 'update' ? (fields['args'] as unknown[]) : [],
    );
    expect(args).toEqual([
      ['rc', 2],
      ['elapsed', expect.any(Number)],
      ['header', [`rmfile: No such file or directory: missing\n`, [42], [100]]],
    ]);
    expect(sent.at(-1)?.[0]).toBe('complete');
  });

  it('sends log chunks without lists when the master asked for none', async () => {
    const { created, sent } = session('rmfile', { path: 'missing' }, undefined, {
      ...settings,
      lineLists: false,
    });
    created.start();
    await created.done;
    const args = sent.flatMap(([op, fields]) =>
      op === 'update' ? (fields['args'] as unknown[]) : [],
    );
    expect(args).toContainEqual([
      'header',
      [`rmfile: No such file or directory: missing\n`, [], []],
    ]);
  });

  it('puts a failure into complete and still ends', async () => {
    const { created, sent } = session(
      'upload_file',
      { path: path.join(basedir, 'nothing'), maxsize: null, blocksize: 10 },
      (op) => op === 'update_upload_file_close',
    );
    created.start();
    await created.done;
    expect(sent.at(-1)).toEqual([
      'complete',
      { args: 'Error: update_upload_file_close refused', command_id: '7' },
    ]);
  });

  it('refuses unknown commands and bad args before running anything', () => {
    expect(() => session('frobnicate', {})).toThrow("unrecognized WorkerCommand 'frobnicate'");
    expect(() => session('mkdir', { paths: 3 })).toThrow(
      'mkdir command paths must be a list of strings',
    );
    expect(() => session('upload_file', { path: 'x', maxsize: null })).toThrow(
      'upload_file command is missing args: blocksize',
    );
  });

  it('stops reading a process while too much output waits for an answer', async () => {
    const bytes = 8_000_000;
    const waiting: { size: number; answer: () => void }[] = [];
    let unanswered = 0;
    let mostUnanswered = 0;
    let stdout = 0;
    let completed = false;
    const created = new CommandSession({
      commandId: '8',
      commandName: 'shell',
      args: {
        command: `yes ${'y'.repeat(79)} | head -c ${bytes}`,
        workdir: '.',
        logEnviron: false,
      },
      basedir,
      environ: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      settings,
      logger: silentLogger,
      request: (op, fields) => {
        if (op === 'complete') completed = true;
        if (op !== 'update') return Promise.resolve(null);
        let size = 0;
        for (const [key, value] of fields.args as [string, unknown][]) {
          if (key === 'stdout') size += (value as [string])[0].length;
        }
        stdout += size;
        unanswered += size;
        mostUnanswered = Math.max(mostUnanswered, unanswered);
        // A slow master: updates are answered one at a time, every 5 ms.
        return new Promise((resolve) => {
          waiting.push({
            size,
            answer: () => {
              unanswered -= size;
              resolve(null);
            },
          });
        });
      },
    });
    const answering = setInterval(() => waiting.shift()?.answer(), 5);
    try {
      created.start();
      await created.done;
    } finally {
      clearInterval(answering);
    }
    expect(completed).toBe(true);
    expect(stdout).toBe(bytes);
    // 8 MB in 64 KiB messages takes 0.6 s to answer: without flow control most of it would
    // wait at once (7.7 MB in a trial). The bound is soft by a few 64 KiB pieces: the read
    // that crossed it, the buffer's message in the making, and the pipe's and the stream's
    // last contents, read unpaused once the process has exited.
    expect(mostUnanswered).toBeGreaterThanOrEqual(MAX_UNANSWERED_TEXT);
    expect(mostUnanswered).toBeLessThanOrEqual(MAX_UNANSWERED_TEXT + 512 * 1024);
  });

  it('sends nothing once abandoned', async () => {
    const { created, sent } = session('listdir', { path: basedir });
    created.abandon();
    created.start();
    await created.done;
    expect(sent).toEqual([]);
    expect(created.state).toBe('abandoned');
  });
});
