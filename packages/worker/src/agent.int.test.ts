/**
 * The worker agent against a small msgpack master (TestMaster) on 127.0.0.1: attach, worker
 * info, shell commands (output, rc, interrupt killing the whole process group, timeout), file
 * system commands, file transfers both ways, reconnects, refused credentials and shutdown.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkerAgent } from './agent.js';
import { silentLogger } from './logger.js';
import {
  lastRc,
  processGroupAlive,
  streamText,
  TestMaster,
  updateValues,
  waitFor,
  type TestMasterConnection,
} from './test-utils.js';

let master: TestMaster;
let agent: WorkerAgent | undefined;
let basedir: string;

beforeEach(async () => {
  master = await TestMaster.start({ workers: { w1: 'pass' } });
  basedir = await mkdtemp(path.join(tmpdir(), 'ym-worker-'));
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await master.close();
  await rm(basedir, { recursive: true, force: true });
});

function startAgent(
  overrides: Partial<ConstructorParameters<typeof WorkerAgent>[0]> = {},
): WorkerAgent {
  agent = new WorkerAgent({
    masters: [master.address],
    name: 'w1',
    password: 'pass',
    basedir,
    logger: silentLogger,
    initialBackoffMs: 20,
    maxBackoffMs: 200,
    environ: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: basedir, LANG: 'C.UTF-8' },
    ...overrides,
  });
  agent.start();
  return agent;
}

async function attach(): Promise<TestMasterConnection> {
  startAgent();
  const connection = await master.waitForConnection(0);
  await connection.request('print', { message: 'attached' });
  return connection;
}

describe('attach', () => {
  it('sends HTTP Basic credentials and answers print, keepalive and get_worker_info', async () => {
    await writeFile(path.join(basedir, 'admin'), 'unused');
    await mkdir(path.join(basedir, 'info'));
    await writeFile(path.join(basedir, 'info', 'admin'), 'Ada <ada@example.invalid>\n');
    const connection = await attach();
    expect(connection.authorization).toBe(`Basic ${Buffer.from('w1:pass').toString('base64')}`);
    await expect(connection.request('keepalive')).resolves.toBeNull();
    const info = (await connection.request('get_worker_info')) as Record<string, unknown>;
    expect(info).toMatchObject({
      admin: 'Ada <ada@example.invalid>\n',
      basedir,
      system: 'posix',
      version: 'yardmaster-0.1.0',
      delete_leftover_dirs: false,
      environ: { PATH: expect.any(String) as unknown, HOME: basedir, LANG: 'C.UTF-8' },
    });
    expect(info['numcpus']).toBeGreaterThan(0);
    expect(Object.keys(info['worker_commands'] as object)).toEqual([
      'shell',
      'uploadFile',
      'upload_file',
      'uploadDirectory',
      'upload_directory',
      'downloadFile',
      'download_file',
      'mkdir',
      'rmdir',
      'cpdir',
      'stat',
      'glob',
      'listdir',
      'rmfile',
    ]);
    expect(agent?.connected).toBe(true);
  });

  it('answers unknown ops, unknown commands and bad settings with exceptions', async () => {
    const connection = await attach();
    await expect(connection.request('frobnicate')).rejects.toThrow(
      'Command frobnicate does not exist.',
    );
    await expect(
      connection.request('start_command', {
        command_id: 'x',
        command_name: 'frobnicate',
        args: {},
      }),
    ).rejects.toThrow("unrecognized WorkerCommand 'frobnicate'");
    await expect(
      connection.request('start_command', { command_id: 'y', command_name: 'shell', args: {} }),
    ).rejects.toThrow('shell command is missing args: workdir, command');
    await expect(
      connection.request('set_worker_settings', { args: { newline_re: '\\n' } }),
    ).rejects.toThrow('message did not contain obligatory settings for worker');
    await expect(connection.request('interrupt_command', { command_id: 'nope' })).rejects.toThrow(
      'message did not contain obligatory "why" key',
    );
    await expect(
      connection.request('interrupt_command', { command_id: 'nope', why: 'x' }),
    ).resolves.toBeNull();
  });
});

describe('shell', () => {
  it('streams stdout and stderr as lines and reports rc 0, with buildbot-style headers', async () => {
    const connection = await attach();
    await connection.request('set_worker_settings', {
      args: {
        newline_re: '(\\r\\n|\\r(?=.)|\\033\\[u|\\033\\[[0-9]+;[0-9]+[Hf]|\\033\\[2J|\\x08+)',
        max_line_length: 4096,
        buffer_timeout: 5,
        buffer_size: 65536,
      },
    });
    const result = await connection.runCommand('shell', {
      workdir: 'build',
      env: { EXTRA: 'x${HOME}y' },
      want_stdout: true,
      want_stderr: true,
      logfiles: {},
      timeout: 1200,
      maxTime: null,
      logEnviron: true,
      initial_stdin: null,
      interruptSignal: 'KILL',
      command: 'echo hello; printf "a\\r\\nb"; echo oops >&2; echo "$EXTRA"',
    });
    expect(result.failure).toBeNull();
    expect(lastRc(result)).toBe(0);
    expect(streamText(result, 'stdout')).toBe(`hello\na\nbx${basedir}y\n`);
    expect(streamText(result, 'stderr')).toBe('oops\n');
    const header = streamText(result, 'header');
    const workdir = path.join(basedir, 'build');
    expect(header).toContain(`echo hello;`);
    expect(header).toContain(
      ` in dir build (timeout 1200 secs)\n watching logfiles {}\n argv: b'echo hello;`,
    );
    expect(header).toContain(
      ` environment:\n  EXTRA=x${basedir}y\n  HOME=${basedir}\n  LANG=C.UTF-8\n`,
    );
    expect(header).toContain(`  PWD=${workdir}\n using PTY: False\n`);
    expect(header).toMatch(/elapsedTime=\d+\.\d{6}\n$/);
    expect((await stat(workdir)).isDirectory()).toBe(true);
    const keys = result.updates.map((entry) => entry[0]);
    expect(keys.indexOf('rc')).toBeLessThan(keys.lastIndexOf('header'));
    expect(keys.at(-1)).toBe('elapsed');
    for (const value of updateValues(result, 'stdout')) {
      const [text, offsets, times] = value as [string, number[], number[]];
      expect(offsets.length).toBe(times.length);
      expect(text.endsWith('\n')).toBe(true);
    }
  });

  it('runs an argv list without a shell and shows it quoted', async () => {
    const connection = await attach();
    const result = await connection.runCommand('shell', {
      workdir: basedir,
      command: ['printf', '%s|', 'two words', ['obfuscated', 'secret', '<hidden>']],
      logEnviron: false,
    });
    expect(streamText(result, 'stdout')).toBe('two words|secret|\n');
    const header = streamText(result, 'header');
    expect(header.split('\n')[0]).toBe(`printf '%s|' 'two words' '<hidden>'`);
    expect(header).toContain(" argv: [b'printf', b'%s|', b'two words', b'<hidden>']\n");
    expect(header).not.toContain('environment:');
    expect(header).not.toContain('secret');
  });

  it('reports a failing command’s exit code', async () => {
    const connection = await attach();
    const result = await connection.runCommand('shell', {
      workdir: basedir,
      command: 'echo failing; exit 3',
    });
    expect(lastRc(result)).toBe(3);
    expect(result.failure).toBeNull();
  });

  it('reports rc 1 and a message when the program does not exist', async () => {
    const connection = await attach();
    const result = await connection.runCommand('shell', {
      workdir: basedir,
      command: ['./no-such-program'],
    });
    expect(lastRc(result)).toBe(1);
    expect(streamText(result, 'stderr')).toContain('No such file or directory');
  });

  it('interrupt kills the whole process group', async () => {
    const connection = await attach();
    const record = await connection.startCommand('shell', {
      workdir: basedir,
      command: 'echo $$; sleep 100 & sleep 100',
      interruptSignal: 'KILL',
    });
    const pid = await waitFor(
      () => {
        const match = /^(\d+)\n/.exec(streamText(record, 'stdout'));
        return match ? Number(match[1]) : undefined;
      },
      5000,
      'the shell pid',
    );
    expect(processGroupAlive(pid)).toBe(true);
    await connection.request('interrupt_command', {
      builder_name: 'test',
      command_id: record.commandId,
      why: 'stop',
    });
    await expect(record.completed).resolves.toBeNull();
    expect(lastRc(record)).toBe(-1);
    const header = streamText(record, 'header');
    expect(header).toContain('\ncommand interrupted, attempting to kill\n');
    expect(header).toContain('process killed by signal 9\n');
    // No 'elapsed' after an interrupt, as buildbot-worker.
    expect(updateValues(record, 'elapsed')).toEqual([]);
    await waitFor(() => !processGroupAlive(pid), 5000, `process group ${pid} to die`);
  });

  it('kills a command that prints nothing for `timeout` seconds', async () => {
    const connection = await attach();
    const result = await connection.runCommand('shell', {
      workdir: basedir,
      command: 'echo $$; sleep 100',
      timeout: 0.3,
    });
    expect(lastRc(result)).toBe(-1);
    expect(streamText(result, 'header')).toContain(
      "command timed out: 0.3 seconds without output running b'echo $$; sleep 100', attempting to kill",
    );
    const pid = Number(streamText(result, 'stdout').trim());
    await waitFor(() => !processGroupAlive(pid), 5000, `process group ${pid} to die`);
  });

  it('kills a command that runs longer than maxTime', async () => {
    const connection = await attach();
    const result = await connection.runCommand('shell', {
      workdir: basedir,
      command: 'while true; do echo tick; sleep 0.05; done',
      timeout: 10,
      maxTime: 0.3,
    });
    expect(lastRc(result)).toBe(-1);
    const header = streamText(result, 'header');
    expect(header).toContain(' (timeout 10 secs) (maxTime 0.3 secs)\n');
    expect(header).toContain('command timed out: 0.3 seconds elapsed running');
    expect(streamText(result, 'stdout')).toContain('tick\n');
  });

  it('with sigtermTime sends SIGTERM first, then interruptSignal', async () => {
    const connection = await attach();
    const record = await connection.startCommand('shell', {
      workdir: basedir,
      command: "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.05; done",
      sigtermTime: 0.3,
      interruptSignal: 'KILL',
    });
    await waitFor(() => streamText(record, 'stdout').includes('ready'), 5000, 'ready');
    await connection.request('interrupt_command', { command_id: record.commandId, why: 'stop' });
    await expect(record.completed).resolves.toBeNull();
    expect(streamText(record, 'stdout')).toContain('got TERM');
    expect(lastRc(record)).toBe(-1);
    expect(streamText(record, 'header')).toContain('process killed by signal 9\n');
  });

  it('sends logfiles contents as log updates', async () => {
    const connection = await attach();
    const result = await connection.runCommand('shell', {
      workdir: 'build',
      command: 'printf "one\\ntwo\\n" > test.log; echo done',
      logfiles: { 'test.log': 'test.log', follow: { filename: 'other.log', follow: true } },
    });
    expect(lastRc(result)).toBe(0);
    expect(updateValues(result, 'log')).toEqual([
      ['test.log', ['one\ntwo\n', [3, 7], [expect.any(Number), expect.any(Number)]]],
    ]);
    expect(streamText(result, 'header')).toContain(
      " watching logfiles {'test.log': 'test.log', 'follow': {'filename': 'other.log', 'follow': True}}\n",
    );
  });

  it('feeds initial_stdin and honours want_stdout', async () => {
    const connection = await attach();
    const result = await connection.runCommand('shell', {
      workdir: basedir,
      command: 'cat; echo err >&2',
      initial_stdin: 'from stdin\n',
      want_stdout: false,
    });
    expect(streamText(result, 'stdout')).toBe('');
    expect(streamText(result, 'stderr')).toBe('err\n');
    expect(streamText(result, 'header')).toContain(' writing 11 bytes to stdin\n');
  });
});

describe('file system commands', () => {
  it('mkdir, stat, listdir, glob, rmfile, cpdir and rmdir', async () => {
    const connection = await attach();
    const dir = path.join(basedir, 'wb');
    let result = await connection.runCommand('mkdir', {
      paths: [path.join(dir, 'a', 'b'), path.join(dir, 'c')],
    });
    expect(lastRc(result)).toBe(0);
    await writeFile(path.join(dir, 'a', 'file.txt'), 'twelve bytes');

    result = await connection.runCommand('mkdir', { paths: ['/proc/no-such-dir/x'] });
    expect(lastRc(result)).toBe(2);
    expect(result.updates.map((entry) => entry[0])).toEqual(['rc', 'elapsed', 'header']);
    expect(streamText(result, 'header')).toBe(
      'mkdir: No such file or directory: /proc/no-such-dir/x\n',
    );

    result = await connection.runCommand('stat', { path: path.join(dir, 'a', 'file.txt') });
    expect(lastRc(result)).toBe(0);
    const [mode, , , , , , size] = updateValues(result, 'stat')[0] as number[];
    expect(size).toBe(12);
    expect((mode ?? 0) & 0o170000).toBe(0o100000);

    result = await connection.runCommand('stat', { path: path.join(dir, 'missing') });
    expect(lastRc(result)).toBe(2);
    expect(streamText(result, 'header')).toBe(
      `stat: No such file or directory: ${path.join(dir, 'missing')}\n`,
    );

    result = await connection.runCommand('listdir', { path: dir });
    expect(updateValues(result, 'files')).toEqual([['a', 'c']]);

    result = await connection.runCommand('glob', { path: path.join(dir, '**', '*.txt') });
    expect(updateValues(result, 'files')).toEqual([[path.join(dir, 'a', 'file.txt')]]);

    result = await connection.runCommand('cpdir', {
      from_path: path.join(dir, 'a'),
      to_path: path.join(dir, 'copy'),
      logEnviron: false,
    });
    expect(lastRc(result)).toBe(0);
    expect(await readFile(path.join(dir, 'copy', 'file.txt'), 'utf8')).toBe('twelve bytes');
    expect(streamText(result, 'header')).toContain('cp -R -P -p -v');

    result = await connection.runCommand('rmfile', { path: path.join(dir, 'copy', 'file.txt') });
    expect(lastRc(result)).toBe(0);

    result = await connection.runCommand('rmdir', {
      paths: [path.join(dir, 'a'), path.join(dir, 'copy')],
    });
    expect(lastRc(result)).toBe(0);
    expect(streamText(result, 'header')).toContain(`rm -rf ${path.join(dir, 'a')}`);
    result = await connection.runCommand('listdir', { path: dir });
    expect(updateValues(result, 'files')).toEqual([['c']]);
  });
});

describe('file transfer', () => {
  it('upload_file sends the file in blocks, then close and utime', async () => {
    const connection = await attach();
    const file = path.join(basedir, 'build', 'out.bin');
    await mkdir(path.dirname(file));
    const content = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    await writeFile(file, content);
    const result = await connection.runCommand('upload_file', {
      workdir: 'build',
      workersrc: 'out.bin',
      path: file,
      maxsize: null,
      blocksize: 4096,
      keepstamp: true,
    });
    expect(result.failure).toBeNull();
    expect(lastRc(result)).toBe(0);
    expect(Buffer.concat(result.uploaded).equals(content)).toBe(true);
    expect(result.transferOps).toEqual([
      'update_upload_file_write',
      'update_upload_file_write',
      'update_upload_file_write',
      'update_upload_file_close',
      'update_upload_file_utime',
    ]);
    expect(result.utime?.modified_time).toBeCloseTo((await stat(file)).mtimeMs / 1000, 3);
    expect(streamText(result, 'header')).toBe(`sending ${file}\n`);
  });

  it('upload_file of a missing file: rc 1, stderr, close still sent', async () => {
    const connection = await attach();
    const result = await connection.runCommand('upload_file', {
      path: 'missing.txt',
      maxsize: null,
      blocksize: 16384,
    });
    expect(lastRc(result)).toBe(1);
    expect(streamText(result, 'stderr')).toBe(
      `Cannot open file '${path.join(basedir, 'missing.txt')}' for upload\n`,
    );
    expect(result.transferOps).toEqual(['update_upload_file_close']);
  });

  it('upload_file stops at maxsize', async () => {
    const connection = await attach();
    await writeFile(path.join(basedir, 'big.txt'), 'x'.repeat(100));
    const result = await connection.runCommand('upload_file', {
      path: 'big.txt',
      maxsize: 40,
      blocksize: 16,
    });
    expect(lastRc(result)).toBe(1);
    expect(Buffer.concat(result.uploaded).length).toBe(40);
    expect(streamText(result, 'stderr')).toContain('Maximum filesize reached');
  });

  it('download_file reads blocks until empty and writes the file with its mode', async () => {
    const connection = await attach();
    const content = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7) % 256));
    const target = path.join(basedir, 'build', 'sub', 'in.bin');
    const result = await connection.runCommand(
      'download_file',
      {
        path: target,
        maxsize: null,
        blocksize: 16384,
        mode: 0o640,
        workdir: 'build',
        workerdest: 'sub/in.bin',
      },
      { download: content },
    );
    expect(result.failure).toBeNull();
    expect(lastRc(result)).toBe(0);
    expect((await readFile(target)).equals(content)).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    expect(result.transferOps).toEqual([
      'update_read_file',
      'update_read_file',
      'update_read_file',
      'update_read_file',
      'update_read_file_close',
    ]);
  });

  it('upload_file + download_file round trip', async () => {
    const connection = await attach();
    const original = Buffer.from('round trip ✓\n'.repeat(500));
    await writeFile(path.join(basedir, 'a.txt'), original);
    const up = await connection.runCommand('upload_file', {
      path: 'a.txt',
      maxsize: null,
      blocksize: 1000,
    });
    const down = await connection.runCommand(
      'download_file',
      { path: 'b.txt', maxsize: null, blocksize: 777, mode: null },
      { download: Buffer.concat(up.uploaded) },
    );
    expect(lastRc(down)).toBe(0);
    expect((await readFile(path.join(basedir, 'b.txt'))).equals(original)).toBe(true);
  });

  it('upload_directory sends a tar archive and asks to unpack it', async () => {
    const connection = await attach();
    const dir = path.join(basedir, 'dist');
    await mkdir(path.join(dir, 'sub'), { recursive: true });
    await writeFile(path.join(dir, 'a.txt'), 'A');
    await writeFile(path.join(dir, 'sub', 'b.txt'), 'B');
    const result = await connection.runCommand('upload_directory', {
      path: dir,
      maxsize: null,
      blocksize: 1024,
      compress: 'gz',
    });
    expect(lastRc(result)).toBe(0);
    expect(result.transferOps.at(-1)).toBe('update_upload_directory_unpack');
    const listing = execFileSync('tar', ['-tzf', '-'], {
      input: Buffer.concat(result.uploaded),
    }).toString();
    expect(listing.split('\n').filter(Boolean).sort()).toEqual(['a.txt', 'sub/', 'sub/b.txt']);
  });
});

describe('connection', () => {
  it('reconnects after the master closes the socket', async () => {
    const first = await attach();
    first.socket.close(1001, 'master restarting');
    const second = await master.waitForConnection(1);
    await expect(second.request('print', { message: 'attached again' })).resolves.toBeNull();
    expect(agent?.connected).toBe(true);
  });

  it('retries after HTTP 401 and connects once the credentials are accepted', async () => {
    master.refuseWith = 401;
    startAgent();
    await waitFor(() => master.authHeaders.length >= 3, 5000, 'three refused attempts');
    expect(master.connections).toHaveLength(0);
    master.refuseWith = undefined;
    const connection = await master.waitForConnection(0);
    await expect(connection.request('keepalive')).resolves.toBeNull();
  });

  it('gives up after maxAuthFailures refused logins', async () => {
    const worker = startAgent({ password: 'wrong', maxAuthFailures: 2 });
    await expect(worker.finished).resolves.toBe('gave-up');
    expect(master.authHeaders).toHaveLength(2);
  });

  it('tries the masters in turn', async () => {
    const other = await TestMaster.start({ workers: { w1: 'pass' } });
    try {
      other.refuseWith = 503;
      startAgent({ masters: [other.address, master.address] });
      const connection = await master.waitForConnection(0);
      await expect(connection.request('keepalive')).resolves.toBeNull();
      expect(other.authHeaders.length).toBeGreaterThanOrEqual(1);
    } finally {
      await agent?.stop();
      await other.close();
    }
  });

  it('stops on shutdown from the master', async () => {
    const connection = await attach();
    await expect(connection.request('shutdown')).resolves.toBeNull();
    await expect(agent?.finished).resolves.toBe('shutdown');
    await connection.closed;
  });

  it('stop() kills running commands and closes the socket', async () => {
    const connection = await attach();
    const record = await connection.startCommand('shell', {
      workdir: basedir,
      command: 'echo $$; sleep 100',
    });
    const pid = await waitFor(
      () => Number(streamText(record, 'stdout').trim()) || undefined,
      5000,
      'pid',
    );
    await agent?.stop();
    await connection.closed;
    await waitFor(() => !processGroupAlive(pid), 5000, `process group ${pid} to die`);
  });
});
