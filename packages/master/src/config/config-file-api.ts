/**
 * What a config file gets when it imports '@yardmaster/master': the loader hands this
 * module to jiti as a virtual module, so a config anywhere on disk (even outside this
 * repository, with no node_modules near it) uses the running master's own factories.
 * Everything a config needs is a factory of src/config, so it all belongs here.
 */
export { defineConfig } from './define-config.js';
export {
  buildFactory,
  builder,
  directoryUpload,
  fileDownload,
  fileUpload,
  forceScheduler,
  git,
  gitHubStatusPush,
  gitLabStatusPush,
  httpStatusPush,
  interpolate,
  kubernetesLatentWorker,
  makeDirectory,
  masterLock,
  masterShellCommand,
  removeDirectory,
  renderer,
  setProperty,
  setPropertyFromCommand,
  shellCommand,
  shellSequence,
  stringDownload,
  worker,
  workerLock,
} from './factories.js';
export {
  anyBranchScheduler,
  changeFilter,
  dependent,
  gitPoller,
  nightly,
  periodic,
  singleBranchScheduler,
  trigger,
  triggerable,
} from './change-factories.js';
export { formatDuration, parseDuration } from './duration.js';
export { CONFIG_DEFAULTS } from './defaults.js';
