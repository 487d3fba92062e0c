/**
 * loadConfig: find, run and validate a `master.config.ts` (or .mts/.cts/.js/.mjs/.cjs).
 *
 * The file runs through jiti (TypeScript and ESM without a build step; the transpiler is
 * sucrase, see transpile.ts). Its imports of
 * '@yardmaster/master' resolve to this running master (a jiti virtual module), not to
 * whatever node_modules may or may not sit near the file. Every load re-reads the file
 * and what it imports (no module cache), so a reload sees edits.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createJiti } from 'jiti';

import * as configFileApi from './config-file-api.js';
import { CONFIG_ERROR_CODES, ConfigError } from './config-error.js';
import type { MasterConfig } from './types.js';
import { transpileConfigSource } from './transpile.js';
import { validateConfig } from './validate-config.js';

/** The module name config files import factories from. */
export const CONFIG_MODULE_NAME = '@yardmaster/master';

/** File names looked for, in order, when `loadConfig` is given a directory. */
export const CONFIG_FILE_NAMES = [
  'master.config.ts',
  'master.config.mts',
  'master.config.js',
  'master.config.mjs',
  'master.config.cts',
  'master.config.cjs',
] as const;

const CONFIG_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** How a path reads in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const absolute = path.resolve(file);
  const relative = path.relative(process.cwd(), absolute);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)
    ? relative
    : absolute;
}

async function statOrUndefined(file: string) {
  try {
    return await stat(file);
  } catch {
    return undefined;
  }
}

/**
 * The config file for `fileOrDirectory`: the file itself, or the first of
 * `CONFIG_FILE_NAMES` inside the directory. Throws `ConfigError` (config_not_found).
 */
export async function resolveConfigFile(fileOrDirectory: string): Promise<string> {
  const absolute = path.resolve(fileOrDirectory);
  const stats = await statOrUndefined(absolute);
  if (stats?.isDirectory() === true) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(absolute, name);
      if ((await statOrUndefined(candidate))?.isFile() === true) return candidate;
    }
    throw new ConfigError(
      CONFIG_ERROR_CODES.notFound,
      `no config file in ${displayPath(absolute)}: expected one of ${CONFIG_FILE_NAMES.join(', ')}; ` +
        'create master.config.ts there (examples/basic/master.config.ts is a starting point)',
    );
  }
  if (stats === undefined) {
    throw new ConfigError(
      CONFIG_ERROR_CODES.notFound,
      `config file ${displayPath(absolute)} does not exist; check the path, or create it ` +
        '(examples/basic/master.config.ts is a starting point)',
    );
  }
  if (!stats.isFile()) {
    throw new ConfigError(
      CONFIG_ERROR_CODES.notFound,
      `config file ${displayPath(absolute)} is not a regular file`,
    );
  }
  if (!CONFIG_EXTENSIONS.includes(path.extname(absolute))) {
    throw new ConfigError(
      CONFIG_ERROR_CODES.notFound,
      `config file ${displayPath(absolute)} must end in ${CONFIG_EXTENSIONS.join(', ')}; rename it, e.g. to master.config.ts`,
    );
  }
  return absolute;
}

/** packages/master/src (or dist): frames in here are the loader's, not the user's. */
const OWN_SOURCES = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Where in the user's files `error` was thrown: the first stack frame outside jiti and us. */
function userFrame(error: Error): string | undefined {
  for (const line of (error.stack ?? '').split('\n').slice(1)) {
    const location = /(?:^at |\()((?:file:\/\/)?\/[^()\s]+?):(\d+):\d+\)?$/.exec(line.trim());
    const file = location?.[1];
    if (file === undefined || file.includes('/node_modules/') || file.startsWith('node:')) continue;
    if (file.startsWith(OWN_SOURCES) || file.startsWith(`file://${OWN_SOURCES}`)) continue;
    return `${displayPath(file.replace(/^file:\/\//, ''))}:${location?.[2] ?? ''}`;
  }
  return undefined;
}

/** One line: "TypeError: x is not a function (at master.config.ts:12)". */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message.split('\nRequire stack:')[0] ?? error.message;
  const text = (error.name === 'Error' ? message : `${error.name}: ${message}`)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  const frame = userFrame(error);
  return frame === undefined || text.includes(frame) ? text : `${text} (at ${frame})`;
}

/** Run the config file and return its default export (awaited if it is a promise). */
async function importDefault(file: string): Promise<unknown> {
  const jiti = createJiti(import.meta.url, {
    moduleCache: false,
    fsCache: false,
    interopDefault: false,
    virtualModules: { [CONFIG_MODULE_NAME]: configFileApi },
    transform: transpileConfigSource,
  });
  const shown = displayPath(file);
  const loadFailed = (what: string, cause: unknown) =>
    new ConfigError(
      CONFIG_ERROR_CODES.loadFailed,
      `${shown} ${what}: ${describeError(cause)}; fix it, then check it with "yardmaster checkconfig ${shown}"`,
      { cause },
    );
  let module: unknown;
  try {
    module = await jiti.import(file);
  } catch (error) {
    throw loadFailed('failed to load', error);
  }
  // An ES module (or TypeScript) has `__esModule` and maybe `default`; CommonJS gives
  // `module.exports` itself.
  const namespace =
    typeof module === 'object' && module !== null ? (module as Record<string, unknown>) : undefined;
  const isEsModule =
    namespace !== undefined && (namespace.__esModule === true || 'default' in namespace);
  const exported = isEsModule ? namespace.default : module;
  if (exported === undefined) {
    throw new ConfigError(
      CONFIG_ERROR_CODES.loadFailed,
      `${shown} has no default export; end it with "export default defineConfig({ ... })"`,
    );
  }
  try {
    return await Promise.resolve(exported);
  } catch (error) {
    throw loadFailed('default export rejected', error);
  }
}

/**
 * Load, run and validate a config file (or the config file in a directory).
 * Throws `ConfigError`: config_not_found, config_load_failed, or config_invalid with
 * every problem listed.
 */
export async function loadConfig(fileOrDirectory: string): Promise<MasterConfig> {
  const file = await resolveConfigFile(fileOrDirectory);
  const exported = await importDefault(file);
  return validateConfig(exported, displayPath(file));
}
