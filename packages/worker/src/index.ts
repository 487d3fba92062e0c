/**
 * @yardmaster/worker: the worker agent (`yardmaster worker`, `yardmaster-worker`). Connects to
 * a master over msgpack_experimental_v7 and runs its remote commands like buildbot-worker 3.7.
 */
export {
  WorkerAgent,
  masterUrl,
  workerEnvironment,
  type WorkerOptions,
  type WorkerStopReason,
} from './agent.js';
export { workerMain, parseWorkerArgs, USAGE, UsageError, type WorkerMainDeps } from './cli.js';
export { createStderrLogger, silentLogger, type LogLevel, type WorkerLogger } from './logger.js';
export { WORKER_VERSION } from './worker-info.js';
