import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { makeTempDir } from '@yardmaster/testkit';
import { describe, expect, it } from 'vitest';

import { checkConfigCommand } from './checkconfig.js';
import type { CommandOutput } from './checkconfig.js';

function capture(): CommandOutput & { out: string; err: string } {
  const output = {
    out: '',
    err: '',
    stdout: (text: string) => {
      output.out += text;
    },
    stderr: (text: string) => {
      output.err += text;
    },
  };
  return output;
}

async function writeConfig(text: string): Promise<string> {
  const dir = await makeTempDir('checkconfig');
  const file = path.join(dir, 'master.config.ts');
  await writeFile(file, text);
  return file;
}

describe('checkConfigCommand', () => {
  it('prints a summary and returns 0 for a valid config', async () => {
    const file = await writeConfig(`
import { buildFactory, builder, defineConfig, forceScheduler, worker } from '@yardmaster/master';
export default defineConfig({
  workers: [worker('a', { password: 'p' }), worker('b', { password: 'p' })],
  builders: [builder({ name: 'app', workerNames: ['a', 'b'], factory: buildFactory([]) })],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['app'] })],
});
`);
    const output = capture();
    expect(await checkConfigCommand(file, output)).toBe(0);
    expect(output.out).toBe(`${file} is valid: 2 workers, 1 builder, 1 scheduler\n`);
    expect(output.err).toBe('');
  });

  it('accepts the directory that holds the config', async () => {
    const file = await writeConfig('export default {};\n');
    const output = capture();
    expect(await checkConfigCommand(path.dirname(file), output)).toBe(0);
    expect(output.out).toBe(`${file} is valid: 0 workers, 0 builders, 0 schedulers\n`);
  });

  it('prints every problem to stderr and returns 2 for an invalid config', async () => {
    const file = await writeConfig(`export default {
  workers: [{ type: 'worker', name: 'a', password: 'p' }],
  builders: [{ type: 'builder', name: 'app', workerNames: ['b'], factory: { type: 'buildFactory', steps: [] } }],
};
`);
    const output = capture();
    expect(await checkConfigCommand(file, output)).toBe(2);
    expect(output.out).toBe('');
    expect(output.err).toBe(
      `${file} has 1 problem:\n  builders[0].workerNames[0]: unknown worker "b" (known: a)\n`,
    );
  });

  it('returns 2 for a file that does not exist or does not load', async () => {
    const file = await writeConfig('export default {;\n');
    const output = capture();
    expect(await checkConfigCommand(file, output)).toBe(2);
    expect(output.err).toContain(`${file} failed to load:`);

    const missing = capture();
    expect(await checkConfigCommand(path.join(path.dirname(file), 'nope.ts'), missing)).toBe(2);
    expect(missing.err).toContain('does not exist');
  });
});
