import type { MasterConfigInput } from './types.js';

/**
 * The default export of a `master.config.ts`:
 *
 * ```ts
 * import { defineConfig, worker } from '@yardmaster/master';
 * export default defineConfig({ workers: [worker('linux-1', { password: 'secret' })], ... });
 * ```
 *
 * It returns its input unchanged; it exists for the types (editor completion and checks).
 * The master validates the result when it loads the file.
 */
export function defineConfig(config: MasterConfigInput): MasterConfigInput {
  return config;
}
