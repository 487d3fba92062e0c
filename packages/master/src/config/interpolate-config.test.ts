import path from 'node:path';
import { writeFile } from 'node:fs/promises';

import { makeTempDir } from '@yardmaster/testkit';
import { describe, expect, it } from 'vitest';

import { ConfigError } from './config-error.js';
import { defineConfig } from './define-config.js';
import { buildFactory, builder, interpolate, shellCommand, worker } from './factories.js';
import { loadConfig } from './load-config.js';
import type { ShellCommandOptions } from './types.js';
import { validateConfig } from './validate-config.js';

function withSteps(...steps: ShellCommandOptions[]) {
  return defineConfig({
    workers: [worker('w1', { password: 'p' })],
    builders: [
      builder({
        name: 'app',
        workerNames: ['w1'],
        factory: buildFactory(steps.map((step) => shellCommand(step))),
      }),
    ],
  });
}

function lines(raw: unknown): string[] {
  try {
    validateConfig(raw, 'master.config.ts');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('expected the config to be invalid');
}

const untyped = <T>(value: unknown): T => value as T;

describe('interpolate() in a config', () => {
  it('is a plain descriptor kept as it is in the normalized config', () => {
    expect(interpolate('make %(prop:target)s')).toEqual({
      type: 'interpolate',
      format: 'make %(prop:target)s',
    });
    const config = validateConfig(
      withSteps(
        { command: interpolate('yes %(prop:log_line)s | head -c %(prop:log_bytes)s') },
        { command: ['make', interpolate('%(prop:target:-all)s')], name: 'make' },
        { command: 'env', env: { BRANCH: interpolate('%(src::branch)s'), CI: 'true' } },
        { command: interpolate('%(prop:tool)s --check') },
      ),
      'master.config.ts',
    );
    const steps = config.builders[0]?.factory.steps ?? [];
    expect(steps.map((step) => step.name)).toEqual(['yes', 'make', 'env', 'shell']);
    expect(steps[0]?.type === 'shellCommand' && steps[0].command).toEqual({
      type: 'interpolate',
      format: 'yes %(prop:log_line)s | head -c %(prop:log_bytes)s',
    });
    expect(steps[2]?.type === 'shellCommand' && steps[2].env).toEqual({
      BRANCH: { type: 'interpolate', format: '%(src::branch)s' },
      CI: 'true',
    });
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
  });

  it('reports bad formats and bad descriptors with their paths', () => {
    expect(
      lines(
        withSteps(
          { command: interpolate('yes %(prop:x') },
          { command: ['make', interpolate('%(prop:x)d')] },
          { command: 'x', env: { A: interpolate('%(kw:a)s'), B: untyped(3) } },
          { command: untyped({ type: 'interpolate', format: 3 }) },
          { command: untyped({ type: 'interpolate', fromat: 'x' }) },
        ),
      ),
    ).toEqual([
      'builders[0].factory.steps[0].command: interpolate("yes %(prop:x"): "%(" at offset 4 has no closing ")"',
      'builders[0].factory.steps[1].command[1]: interpolate("%(prop:x)d"): "%(prop:x)" must be followed by "s", as in "%(prop:x)s"',
      'builders[0].factory.steps[2].env.A: interpolate("%(kw:a)s"): unknown selector "kw" in "%(kw:a)s": use prop:NAME, src:CODEBASE:ATTRIBUTE, worker:KEY or secret:NAME',
      'builders[0].factory.steps[2].env.B: expected a string, got 3',
      'builders[0].factory.steps[3].command.format: expected a string, got 3',
      'builders[0].factory.steps[4].command.fromat: unknown key (did you mean "format"?)',
    ]);
  });

  it('is exported to config files by @yardmaster/master', async () => {
    const dir = await makeTempDir('interpolate-config');
    const file = path.join(dir, 'master.config.ts');
    await writeFile(
      file,
      `import { buildFactory, builder, defineConfig, interpolate, shellCommand, worker } from '@yardmaster/master';
export default defineConfig({
  workers: [worker('w1', { password: 'p' })],
  builders: [builder({ name: 'logs', workerNames: ['w1'], factory: buildFactory([
    shellCommand({ command: interpolate('yes %(prop:log_line)s | head -c %(prop:log_bytes)s') }),
  ]) })],
});
`,
    );
    const config = await loadConfig(file);
    expect(config.builders[0]?.factory.steps[0]).toMatchObject({
      command: {
        type: 'interpolate',
        format: 'yes %(prop:log_line)s | head -c %(prop:log_bytes)s',
      },
    });
  });
});
