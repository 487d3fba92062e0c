/**
 * The config module's public API. packages/master/src/index.ts re-exports all of it
 * (`export * from './config/index.js'`), so config files and the CLI import it from
 * '@yardmaster/master'.
 */
// Everything a config file can import (the factories, defineConfig, durations, defaults).
export * from './config-file-api.js';
export { CONFIG_ERROR_CODES, ConfigError } from './config-error.js';
export type { ConfigErrorCode, ConfigProblem } from './config-error.js';
export { validateConfig } from './validate-config.js';
export { formatPath, formatProblems } from './format-problems.js';
export {
  CONFIG_FILE_NAMES,
  CONFIG_MODULE_NAME,
  displayPath,
  loadConfig,
  resolveConfigFile,
} from './load-config.js';
export { CHECKCONFIG_INVALID, checkConfigCommand } from './checkconfig.js';
export type { CommandOutput } from './checkconfig.js';
export type * from './types.js';
