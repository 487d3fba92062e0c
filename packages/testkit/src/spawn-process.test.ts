import { execFileSync } from 'node:child_process';

import { afterAll, describe, expect, it } from 'vitest';

import { processGroupAlive, spawnProcess, stopAllProcesses } from './spawn-process.js';
import { waitFor } from './wait-for.js';

/** Live (non-zombie) processes whose command line starts with `marker`. */
function processesNamed(marker: string): string[] {
  const lines = execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => {
    const [stat, command] = line.trim().split(/\s+/);
    return command === marker && stat !== undefined && !stat.startsWith('Z');
  });
}

describe('spawnProcess', () => {
  afterAll(async () => {
    expect(await stopAllProcesses()).toEqual([]);
  });

  it('captures stdout and stderr and reports the exit', async () => {
    const child = spawnProcess('sh', ['-c', 'echo out; echo err >&2; exit 3'], { name: 'echoer' });
    const exit = await child.exited;
    expect(exit).toEqual({ code: 3, signal: null });
    expect(child.stdout()).toBe('out\n');
    expect(child.stderr()).toBe('err\n');
    expect(child.output()).toContain('out\n');
    expect(child.output()).toContain('err\n');
    expect(child.running).toBe(false);
    expect(child.isAlive()).toBe(false);
  });

  it('passes cwd and env', async () => {
    const child = spawnProcess('sh', ['-c', 'pwd; echo "$YM_TEST_VALUE"'], {
      cwd: '/tmp',
      env: { YM_TEST_VALUE: 'hello' },
    });
    await child.exited;
    expect(child.stdout()).toBe('/tmp\nhello\n');
  });

  it('waits for output', async () => {
    const child = spawnProcess('sh', ['-c', 'sleep 0.1; echo "listening on port 4242"; sleep 100']);
    const match = await child.waitForOutput(/listening on port (\d+)/, 5000);
    expect(match[1]).toBe('4242');
    const exit = await child.stop();
    expect(exit.signal).toBe('SIGTERM');
  });

  it('rejects waitForOutput when the process exits first, quoting its output', async () => {
    const child = spawnProcess('sh', ['-c', 'echo booting; echo "bad config" >&2; exit 1'], {
      name: 'master',
    });
    await expect(child.waitForOutput('ready', 5000)).rejects.toThrow(
      /master exited \(code 1, signal none\) before printing \/ready\/.*booting\nbad config/s,
    );
  });

  it('rejects waitForOutput on timeout', async () => {
    const child = spawnProcess('sleep', ['100']);
    await expect(child.waitForOutput(/never/, 50)).rejects.toThrow(
      /did not print \/never\/ within 50 ms/,
    );
    await child.stop();
  });

  it('resolves exited with the error when the command does not exist', async () => {
    const child = spawnProcess('/nonexistent/yardmaster-test-binary', []);
    const exit = await child.exited;
    expect(exit.error?.message).toMatch(/ENOENT/);
    expect(child.isAlive()).toBe(false);
    await expect(child.waitForOutput('x')).rejects.toThrow(/could not start/);
    await child.stop();
  });

  it('stop() kills the whole process group', async () => {
    const marker = `yardmaster-group-test-${process.pid}`;
    // exec -a names the sleeps so we can find them; both run in the shell's group.
    const child = spawnProcess('bash', [
      '-c',
      `(exec -a ${marker} sleep 100) & (exec -a ${marker} sleep 100) & echo started; wait`,
    ]);
    await child.waitForOutput('started');
    await waitFor(() => processesNamed(marker).length === 2, { message: 'both sleeps to start' });
    const pid = child.pid;
    expect(pid).toBeDefined();

    const exit = await child.stop();
    expect(exit.signal).toBe('SIGTERM');
    expect(processGroupAlive(pid ?? -1)).toBe(false);
    expect(processesNamed(marker)).toEqual([]);
  });

  it("sh -c 'sleep 100 & sleep 100' leaves no sleep behind", async () => {
    const child = spawnProcess('sh', ['-c', 'sleep 100 & sleep 100']);
    const pgid = child.pid ?? -1;
    await waitFor(() => groupMembers(pgid).length >= 3, { message: 'sh and both sleeps' });
    await child.stop();
    expect(groupMembers(pgid)).toEqual([]);
  });

  it('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = spawnProcess(
      'sh',
      ['-c', 'trap "" TERM; echo trapped; while :; do sleep 0.05; done'],
      {
        stopGraceMs: 200,
      },
    );
    await child.waitForOutput('trapped');
    const exit = await child.stop();
    expect(exit.signal).toBe('SIGKILL');
    expect(child.isAlive()).toBe(false);
  });

  it('stop() also kills children left behind by an exited leader', async () => {
    const child = spawnProcess('sh', ['-c', 'sleep 100 >/dev/null 2>&1 & echo $!']);
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    const pgid = child.pid ?? -1;
    expect(child.isAlive()).toBe(true); // the background sleep is still in the group
    await child.stop();
    expect(processGroupAlive(pgid)).toBe(false);
  });

  it('stopAllProcesses() reports and stops leftovers', async () => {
    const child = spawnProcess('sleep', ['100'], { name: 'forgotten' });
    const leaked = await stopAllProcesses();
    expect(leaked).toEqual([`forgotten (pid ${child.pid})`]);
    expect(child.isAlive()).toBe(false);
  });
});

/** Live members of process group `pgid`, from ps. */
function groupMembers(pgid: number): string[] {
  const lines = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' }).split(
    '\n',
  );
  return lines.filter((line) => {
    const [, group, stat] = line.trim().split(/\s+/);
    return Number(group) === pgid && stat !== undefined && !stat.startsWith('Z');
  });
}
