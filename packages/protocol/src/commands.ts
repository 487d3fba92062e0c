/** Remote command names and the argument shapes the master sends with `start_command`. */

/** Command names as sent on msgpack_experimental_v7 (the master translates PB names). */
export const COMMAND_NAMES = [
  'shell',
  'mkdir',
  'rmdir',
  'cpdir',
  'rmfile',
  'stat',
  'glob',
  'listdir',
  'upload_file',
  'upload_directory',
  'download_file',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** PB-era spellings buildbot-worker also accepts, and the msgpack names they stand for. */
export const PB_COMMAND_ALIASES = {
  uploadFile: 'upload_file',
  uploadDirectory: 'upload_directory',
  downloadFile: 'download_file',
} as const satisfies Record<string, CommandName>;
export type PbCommandName = keyof typeof PB_COMMAND_ALIASES;

/** Every name a worker accepts, in buildbot-worker's registry order (its `worker_commands`). */
export const WORKER_COMMAND_NAMES = [
  'shell',
  'uploadFile',
  'upload_file',
  'uploadDirectory',
  'upload_directory',
  'downloadFile',
  'download_file',
  'mkdir',
  'rmdir',
  'cpdir',
  'stat',
  'glob',
  'listdir',
  'rmfile',
] as const satisfies readonly (CommandName | PbCommandName)[];

/** buildbot-worker's `command_version`, reported for every command in `worker_commands`. */
export const COMMAND_VERSION = '3.1';

/** The msgpack command name for any accepted spelling, or undefined if unknown. */
export function canonicalCommandName(name: string): CommandName | undefined {
  if ((COMMAND_NAMES as readonly string[]).includes(name)) return name as CommandName;
  if (Object.hasOwn(PB_COMMAND_ALIASES, name)) return PB_COMMAND_ALIASES[name as PbCommandName];
  return undefined;
}

/** A `command` list item hiding a secret: the worker runs `real` and logs `fake`. */
export type ObfuscatedArg = ['obfuscated', real: string, fake: string];

/** `logfiles` value: a file name relative to workdir, or options. */
export type LogfileSpec = string | { filename: string; follow?: boolean };

export interface ShellArgs {
  /** Directory to run in: absolute, or relative to the worker basedir. Created if missing. */
  workdir: string;
  /** A string runs as `/bin/sh -c command`; a list is the argv (items may be obfuscated). */
  command: string | (string | ObfuscatedArg)[];
  /** Merged into the worker's environment: null deletes, lists join with ':', `${VAR}` expands. */
  env?: Record<string, string | string[] | null> | null;
  want_stdout?: boolean | number;
  want_stderr?: boolean | number;
  logfiles?: Record<string, LogfileSpec>;
  /** Seconds without output before the command is killed (null/0: never). */
  timeout?: number | null;
  /** Seconds of total run time before the command is killed (null/0: never). */
  maxTime?: number | null;
  /** If set, send SIGTERM first and `interruptSignal` after this many seconds. */
  sigtermTime?: number | null;
  usePTY?: boolean;
  logEnviron?: boolean;
  initial_stdin?: string | null;
  /** Signal name without "SIG" used to kill the process group (default "KILL"). */
  interruptSignal?: string | null;
}

export interface MkdirArgs {
  paths: string[];
}
export interface RmdirArgs {
  paths: string[];
  timeout?: number | null;
  maxTime?: number | null;
  logEnviron?: boolean;
}
export interface CpdirArgs {
  from_path: string;
  to_path: string;
  timeout?: number | null;
  maxTime?: number | null;
  logEnviron?: boolean;
}
export interface PathArgs {
  path: string;
}
export type RmfileArgs = PathArgs;
export type StatArgs = PathArgs;
export type GlobArgs = PathArgs;
export type ListdirArgs = PathArgs;

export interface UploadFileArgs {
  /** Worker-side file to send (the master joins builder dir, workdir and workersrc). */
  path: string;
  /** Stop (rc 1) after this many bytes; null for no limit. */
  maxsize: number | null;
  /** Bytes per `update_upload_file_write`. */
  blocksize: number;
  keepstamp?: boolean;
  /** Informational: the master also sends what `path` was built from. */
  workdir?: string;
  workersrc?: string;
}
export interface UploadDirectoryArgs {
  path: string;
  maxsize: number | null;
  blocksize: number;
  compress: 'gz' | 'bz2' | null;
  workdir?: string;
  workersrc?: string;
}
export interface DownloadFileArgs {
  /** Worker-side file to create (parent directories are created). */
  path: string;
  maxsize: number | null;
  /** Most bytes asked for per `update_read_file`. */
  blocksize: number;
  /** File mode to chmod to, or null to keep the umask default. */
  mode: number | null;
  workdir?: string;
  workerdest?: string;
}

export interface CommandArgsByName {
  shell: ShellArgs;
  mkdir: MkdirArgs;
  rmdir: RmdirArgs;
  cpdir: CpdirArgs;
  rmfile: RmfileArgs;
  stat: StatArgs;
  glob: GlobArgs;
  listdir: ListdirArgs;
  upload_file: UploadFileArgs;
  upload_directory: UploadDirectoryArgs;
  download_file: DownloadFileArgs;
}
