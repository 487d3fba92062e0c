import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { makeTempDir } from '@yardmaster/testkit';
import { describe, expect, it } from 'vitest';

import { ConfigError } from './config-error.js';
import { loadConfig, resolveConfigFile } from './load-config.js';

const REPOSITORY = path.resolve(import.meta.dirname, '../../../..');

/** A config that uses the factories of '@yardmaster/master' and a local helper module. */
const TYPESCRIPT_CONFIG = `
import { buildFactory, builder, defineConfig, forceScheduler, shellCommand, worker } from '@yardmaster/master';
import type { MasterConfigInput } from '@yardmaster/master';
import { passwordFor } from './helper.ts';

const config: MasterConfigInput = defineConfig({
  title: 'outside',
  workers: [worker('linux-1', { password: passwordFor('linux-1') })],
  builders: [
    builder({
      name: 'app',
      workerNames: ['linux-1'],
      factory: buildFactory([shellCommand({ command: 'make test', timeout: '5m' })]),
    }),
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['app'] })],
});
export default config;
`;

async function configDir(files: Record<string, string>): Promise<string> {
  const dir = await makeTempDir('config');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

async function loadError(file: string): Promise<ConfigError> {
  const error: unknown = await loadConfig(file).then(
    () => new Error(`expected ${file} to fail`),
    (thrown: unknown) => thrown,
  );
  if (error instanceof ConfigError) return error;
  throw error;
}

describe('loadConfig', () => {
  it('loads a TypeScript config outside the repository that imports @yardmaster/master', async () => {
    const dir = await configDir({
      'master.config.ts': TYPESCRIPT_CONFIG,
      'helper.ts': 'export function passwordFor(name: string): string { return `pw-${name}`; }\n',
    });
    expect(path.relative(REPOSITORY, dir).startsWith('..')).toBe(true);
    expect(dir.startsWith(tmpdir()) || dir.startsWith('/tmp')).toBe(true);

    const config = await loadConfig(path.join(dir, 'master.config.ts'));
    expect(config.title).toBe('outside');
    expect(config.workers[0]?.password).toBe('pw-linux-1');
    const step = config.builders[0]?.factory.steps[0];
    expect(step?.type === 'shellCommand' && step.timeout).toBe(300_000);
  });

  it('loads .mjs, .js and .cjs configs', async () => {
    const dir = await configDir({
      'a.mjs': `import { defineConfig, worker } from '@yardmaster/master';
export default defineConfig({ title: 'mjs', workers: [worker('w', { password: 'p' })] });
`,
      'b.js': `import * as yardmaster from '@yardmaster/master';
export default yardmaster.defineConfig({ title: 'js' });
`,
      'c.cjs': `const { defineConfig } = require('@yardmaster/master');
module.exports = defineConfig({ title: 'cjs' });
`,
    });
    expect((await loadConfig(path.join(dir, 'a.mjs'))).title).toBe('mjs');
    expect((await loadConfig(path.join(dir, 'b.js'))).title).toBe('js');
    expect((await loadConfig(path.join(dir, 'c.cjs'))).title).toBe('cjs');
  });

  it('awaits a default export that is a promise', async () => {
    const dir = await configDir({
      'master.config.ts': `export default Promise.resolve({ title: 'later' });\n`,
    });
    expect((await loadConfig(dir)).title).toBe('later');
  });

  it('runs TypeScript-only syntax and top-level await, keeping line numbers', async () => {
    const dir = await configDir({
      'master.config.ts': [
        "import { defineConfig } from '@yardmaster/master';",
        'enum Size { Small = 1, Large = 4 }',
        'interface Shape { title: string }',
        "const shape: Shape = { title: await Promise.resolve('awaited') };",
        'export default defineConfig({ title: `${shape.title} ${Size.Large}` });',
        '',
      ].join('\n'),
      'broken.ts': ['const ok = 1;', '', 'const bad: = 2;', ''].join('\n'),
    });
    expect((await loadConfig(dir)).title).toBe('awaited 4');
    const broken = path.join(dir, 'broken.ts');
    const error = await loadError(broken);
    expect(error.message).toContain(`${broken}:3:`);
  });

  it('finds master.config.ts (or .js …) in a directory', async () => {
    const dir = await configDir({ 'master.config.mjs': 'export default {};\n' });
    expect(await resolveConfigFile(dir)).toBe(path.join(dir, 'master.config.mjs'));
    await writeFile(path.join(dir, 'master.config.ts'), 'export default {};\n');
    expect(await resolveConfigFile(dir)).toBe(path.join(dir, 'master.config.ts'));
  });

  it('reads the file again on every load, so a reload sees edits', async () => {
    const dir = await configDir({
      'master.config.ts': "import { title } from './title.ts';\nexport default { title };\n",
      'title.ts': "export const title = 'first';\n",
    });
    expect((await loadConfig(dir)).title).toBe('first');
    await writeFile(path.join(dir, 'title.ts'), "export const title = 'second';\n");
    expect((await loadConfig(dir)).title).toBe('second');
  });

  it('reports a missing file, naming it', async () => {
    const dir = await configDir({});
    const missing = path.join(dir, 'master.config.ts');
    const error = await loadError(missing);
    expect(error.code).toBe('config_not_found');
    expect(error.message).toBe(
      `config file ${missing} does not exist; check the path, or create it (examples/basic/master.config.ts is a starting point)`,
    );
  });

  it('reports a directory without a config file', async () => {
    const dir = await configDir({ 'README.md': 'nothing here\n' });
    const error = await loadError(dir);
    expect(error.code).toBe('config_not_found');
    expect(error.message).toContain(`no config file in ${dir}: expected one of master.config.ts,`);
  });

  it('refuses files that are not JavaScript or TypeScript', async () => {
    const dir = await configDir({ 'master.cfg': 'c = {}\n' });
    const error = await loadError(path.join(dir, 'master.cfg'));
    expect(error.code).toBe('config_not_found');
    expect(error.message).toContain('must end in .ts, .mts, .cts, .js, .mjs, .cjs');
  });

  it('reports a syntax error with the file and position', async () => {
    const dir = await configDir({ 'master.config.ts': 'export default {\n  workers: [\n};\n' });
    const file = path.join(dir, 'master.config.ts');
    const error = await loadError(file);
    expect(error.code).toBe('config_load_failed');
    expect(error.message).toMatch(new RegExp(`^${file} failed to load: .*${file}:3:\\d+`));
    expect(error.message).toContain(`check it with "yardmaster checkconfig ${file}"`);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('transpiles in a child process: sucrase never loads into the master', async () => {
    const dir = await configDir({
      'master.config.ts': TYPESCRIPT_CONFIG,
      'helper.ts': 'export function passwordFor(name: string): string { return `pw-${name}`; }\n',
    });
    const sucrase = createRequire(import.meta.url).resolve('sucrase');

    expect((await loadConfig(path.join(dir, 'master.config.ts'))).title).toBe('outside');
    expect(Object.keys(createRequire(import.meta.url).cache)).not.toContain(sucrase);
  });

  it('reports an error thrown by the config, with the line that threw', async () => {
    const dir = await configDir({
      'master.config.ts': [
        "import { defineConfig } from '@yardmaster/master';",
        '',
        'function password(): string {',
        "  throw new TypeError('YARDMASTER_PASSWORD is not set');",
        '}',
        'export default defineConfig({ title: password() });',
        '',
      ].join('\n'),
    });
    const file = path.join(dir, 'master.config.ts');
    const error = await loadError(file);
    expect(error.code).toBe('config_load_failed');
    expect(error.message).toBe(
      `${file} failed to load: TypeError: YARDMASTER_PASSWORD is not set (at ${file}:4); ` +
        `fix it, then check it with "yardmaster checkconfig ${file}"`,
    );
  });

  it('reports an import that cannot be found', async () => {
    const dir = await configDir({
      'master.config.ts': "import x from 'no-such-package-yardmaster';\nexport default x;\n",
    });
    const error = await loadError(path.join(dir, 'master.config.ts'));
    expect(error.code).toBe('config_load_failed');
    expect(error.message).toContain("Cannot find module 'no-such-package-yardmaster'");
    expect(error.message).not.toContain('Require stack');
  });

  it('reports a file without a default export', async () => {
    const dir = await configDir({ 'master.config.ts': 'export const config = {};\n' });
    const file = path.join(dir, 'master.config.ts');
    const error = await loadError(file);
    expect(error.code).toBe('config_load_failed');
    expect(error.message).toBe(
      `${file} has no default export; end it with "export default defineConfig({ ... })"`,
    );
  });

  it('validates what the file exports, naming the file in the report', async () => {
    const dir = await configDir({
      'master.config.ts': `import { defineConfig, worker } from '@yardmaster/master';
export default defineConfig({ workers: [worker('linux-1', { password: '' })], workerPort: -1 });
`,
    });
    const file = path.join(dir, 'master.config.ts');
    const error = await loadError(file);
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(
      `${file} has 2 problems:\n` +
        '  workers[0].password: must not be empty\n' +
        '  workerPort: must be at least 0, got -1',
    );
  });
});
