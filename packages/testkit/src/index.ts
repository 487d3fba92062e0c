export { waitFor, WaitForTimeoutError, type WaitForOptions } from './wait-for.js';
export { makeTempDir, onCleanup, cleanupAll } from './temp-dir.js';
export { freePort } from './free-port.js';
export {
  spawnProcess,
  stopAllProcesses,
  processGroupAlive,
  SpawnedProcess,
  type SpawnProcessOptions,
  type ProcessExit,
} from './spawn-process.js';
export { trackServer, closeAllServers, type ClosableServer } from './track-server.js';
export {
  makeGitRepo,
  gitCommit,
  git,
  type GitRepo,
  type GitFiles,
  type MakeGitRepoOptions,
} from './git-repo.js';
export { httpJson, type HttpJsonResponse, type HttpJsonOptions } from './http-json.js';
export {
  checkForLeaks,
  activeResources,
  resourcesAbove,
  type ResourceCounts,
} from './leak-check.js';
export {
  startPostgres,
  createTestDatabase,
  postgresBinDir,
  type PostgresServer,
} from './postgres.js';
export * from './fake-kubernetes/index.js';
export { postgresAdminUrl, freshPostgresDatabase } from './postgres-inject.js';
