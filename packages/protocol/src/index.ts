/**
 * @yardmaster/protocol: Buildbot's msgpack_experimental_v7 worker protocol — frame codec,
 * request/response peer, message types, worker settings, command names and update helpers.
 * Imports nothing else of Yardmaster's.
 */
export { asPlainNumberList, decodeFrame, encodeFrame, encodeValue, type Frame } from './codec.js';
export {
  ConnectionClosedError,
  ProtocolError,
  RemoteError,
  RequestTimeoutError,
} from './errors.js';
export { MsgpackPeer, errorText, type MsgpackPeerOptions } from './peer.js';
export { decodeUpdateFrame } from './update-decoder.js';
export {
  FIXTURES_DIR,
  fromFixtureJson,
  loadGoldenFixtures,
  type GoldenFixture,
} from './fixtures.js';
export {
  MASTER_TO_WORKER_OPS,
  PROTOCOL_NAME,
  WORKER_TO_MASTER_OPS,
  type CompleteRequest,
  type GetWorkerInfoRequest,
  type InterruptCommandRequest,
  type KeepaliveRequest,
  type MasterToWorkerOp,
  type MasterToWorkerRequest,
  type PrintRequest,
  type ReadFileCloseRequest,
  type ReadFileRequest,
  type ResponseFrame,
  type SetWorkerSettingsRequest,
  type ShutdownRequest,
  type StartCommandFrame,
  type StartCommandRequest,
  type UpdateRequest,
  type UploadDirectoryUnpackRequest,
  type UploadDirectoryWriteRequest,
  type UploadFileCloseRequest,
  type UploadFileUtimeRequest,
  type UploadFileWriteRequest,
  type WithSeq,
  type WorkerInfo,
  type WorkerToMasterOp,
  type WorkerToMasterRequest,
} from './messages.js';
export { DEFAULT_WORKER_SETTINGS, WORKER_SETTINGS_KEYS, type WorkerSettings } from './settings.js';
export {
  COMMAND_NAMES,
  COMMAND_VERSION,
  PB_COMMAND_ALIASES,
  WORKER_COMMAND_NAMES,
  canonicalCommandName,
  type CommandArgsByName,
  type CommandName,
  type CpdirArgs,
  type DownloadFileArgs,
  type GlobArgs,
  type ListdirArgs,
  type LogfileSpec,
  type MkdirArgs,
  type ObfuscatedArg,
  type PathArgs,
  type PbCommandName,
  type RmdirArgs,
  type RmfileArgs,
  type ShellArgs,
  type StatArgs,
  type UploadDirectoryArgs,
  type UploadFileArgs,
} from './commands.js';
export {
  elapsedUpdate,
  headerUpdate,
  logChunkContent,
  logChunkLines,
  logChunkText,
  makeLogChunk,
  parseLogChunk,
  parseUpdateArgs,
  rcUpdate,
  stderrUpdate,
  stdoutUpdate,
  type LogChunk,
  type LogStream,
  type StatTuple,
  type UnknownUpdateEntry,
  type UpdateEntry,
  type UpdateKey,
} from './updates.js';
