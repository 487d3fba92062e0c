/** The public API of @yardmaster/master: what config files and embedders import. */
export * from './config/index.js';
export { Master, type MasterOptions } from './master.js';
export { Results, type Result } from './results.js';
export { YardmasterError } from './errors.js';
