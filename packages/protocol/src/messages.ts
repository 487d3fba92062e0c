/**
 * The messages of msgpack_experimental_v7. Each side numbers its own requests with
 * `seq_number` from 0; every request is answered by a `response` carrying the same
 * `seq_number`. The types below are the request bodies without `seq_number`
 * (`MsgpackPeer.request` adds it); `WithSeq<T>` is the frame as it travels.
 */
import type { CommandArgsByName, CommandName } from './commands.js';
import type { WorkerSettings } from './settings.js';
import type { UpdateEntry } from './updates.js';

export const PROTOCOL_NAME = 'msgpack_experimental_v7';

export type WithSeq<T> = T & { seq_number: number };

// ---- master → worker ----------------------------------------------------------------------

/** Log a message on the worker (Buildbot sends 'attached' after attaching). Result: null. */
export interface PrintRequest {
  op: 'print';
  message: string;
}
/** Liveness check (Buildbot: every 3600 s). Result: null. */
export interface KeepaliveRequest {
  op: 'keepalive';
}
/** Result: `WorkerInfo`. */
export interface GetWorkerInfoRequest {
  op: 'get_worker_info';
}
/** Result: null. All four settings are required. */
export interface SetWorkerSettingsRequest {
  op: 'set_worker_settings';
  args: WorkerSettings;
}
/**
 * Start a remote command. Result: null once the command has started (an exception for an
 * unknown command or missing args). Its `update`s and `complete` may arrive before or after
 * this response (buildbot-worker runs quick commands such as listdir synchronously and
 * answers last).
 */
export type StartCommandRequest = {
  [N in CommandName]: {
    op: 'start_command';
    /** Sent for build steps; absent for the attach-time listdir/mkdir/rmdir/stat. */
    builder_name?: string;
    command_id: string;
    command_name: N;
    args: CommandArgsByName[N];
  };
}[CommandName];
/** A start_command as received: the name may be a PB spelling and args are unchecked. */
export interface StartCommandFrame {
  op: 'start_command';
  builder_name?: string;
  command_id: string;
  /** A `CommandName`, a `PbCommandName`, or anything else (answered with an exception). */
  command_name: string;
  args: Record<string, unknown>;
}
/** Stop a running command. `why` is required. Result: null (also for unknown command ids). */
export interface InterruptCommandRequest {
  op: 'interrupt_command';
  builder_name?: string;
  command_id: string;
  why: string;
}
/** Ask the worker process to exit. Result: null. */
export interface ShutdownRequest {
  op: 'shutdown';
}

export type MasterToWorkerRequest =
  | PrintRequest
  | KeepaliveRequest
  | GetWorkerInfoRequest
  | SetWorkerSettingsRequest
  | StartCommandRequest
  | InterruptCommandRequest
  | ShutdownRequest;
export type MasterToWorkerOp = MasterToWorkerRequest['op'];
export const MASTER_TO_WORKER_OPS = [
  'print',
  'keepalive',
  'get_worker_info',
  'set_worker_settings',
  'start_command',
  'interrupt_command',
  'shutdown',
] as const satisfies readonly MasterToWorkerOp[];

// ---- worker → master ----------------------------------------------------------------------

/** Progress of a command. Result: null. */
export interface UpdateRequest {
  op: 'update';
  command_id: string;
  args: UpdateEntry[];
}
/**
 * The command ended; no more updates follow. `args` is null, or a failure description when
 * the command raised (the master should end the step as EXCEPTION with that text, as
 * Buildbot raises RemoteException). The command's outcome is the `rc` update. Result: null.
 */
export interface CompleteRequest {
  op: 'complete';
  command_id: string;
  args: string | null;
}
/** upload_file: one block of the file (bytes). Result: null. */
export interface UploadFileWriteRequest {
  op: 'update_upload_file_write';
  command_id: string;
  args: Buffer;
}
/** upload_file with keepstamp: after close, the source file's times (epoch seconds, float). */
export interface UploadFileUtimeRequest {
  op: 'update_upload_file_utime';
  command_id: string;
  access_time: number;
  modified_time: number;
}
/** upload_file: all blocks sent (also sent after a failed open/read). Result: null. */
export interface UploadFileCloseRequest {
  op: 'update_upload_file_close';
  command_id: string;
}
/** upload_directory: one block of the tar archive. Result: null. */
export interface UploadDirectoryWriteRequest {
  op: 'update_upload_directory_write';
  command_id: string;
  args: Buffer;
}
/** upload_directory: archive complete; the master closes and unpacks it. Result: null. */
export interface UploadDirectoryUnpackRequest {
  op: 'update_upload_directory_unpack';
  command_id: string;
}
/** download_file: ask for up to `length` bytes. Result: bytes; empty bytes mean end of file. */
export interface ReadFileRequest {
  op: 'update_read_file';
  command_id: string;
  length: number;
}
/** download_file: done reading (sent whatever happened). Result: null. */
export interface ReadFileCloseRequest {
  op: 'update_read_file_close';
  command_id: string;
}

export type WorkerToMasterRequest =
  | UpdateRequest
  | CompleteRequest
  | UploadFileWriteRequest
  | UploadFileUtimeRequest
  | UploadFileCloseRequest
  | UploadDirectoryWriteRequest
  | UploadDirectoryUnpackRequest
  | ReadFileRequest
  | ReadFileCloseRequest;
export type WorkerToMasterOp = WorkerToMasterRequest['op'];
export const WORKER_TO_MASTER_OPS = [
  'update',
  'complete',
  'update_upload_file_write',
  'update_upload_file_utime',
  'update_upload_file_close',
  'update_upload_directory_write',
  'update_upload_directory_unpack',
  'update_read_file',
  'update_read_file_close',
] as const satisfies readonly WorkerToMasterOp[];

// ---- both ways ----------------------------------------------------------------------------

/** The answer to a request: `is_exception: true` makes `result` the error text. */
export interface ResponseFrame {
  op: 'response';
  seq_number: number;
  result: unknown;
  is_exception?: true;
}

/** The result of `get_worker_info`, as buildbot-worker builds it. */
export interface WorkerInfo {
  /** Contents of the files in BASEDIR/info/ (buildbot-worker: admin, host, access_uri…). */
  admin?: string;
  host?: string;
  access_uri?: string;
  /** The worker's environment. */
  environ: Record<string, string>;
  /** Python's os.name: 'posix' or 'nt'. */
  system: string;
  basedir: string;
  numcpus: number;
  version: string;
  /** Command name → command version ('3.1'). */
  worker_commands: Record<string, string>;
  delete_leftover_dirs: boolean | number;
  /** /etc/os-release keys, lower-cased and prefixed: os_id, os_name, os_version_id… */
  os_id?: string;
  os_name?: string;
  os_pretty_name?: string;
  os_version?: string;
  os_version_id?: string;
  os_version_codename?: string;
  [key: string]: unknown;
}
