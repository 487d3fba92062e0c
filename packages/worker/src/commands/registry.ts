/** Maps every command name the worker accepts (msgpack and PB spellings) to its class. */
import { canonicalCommandName, type CommandName } from '@yardmaster/protocol';
import type { CommandContext, WorkerCommand } from './base.js';
import {
  CopyDirectoryCommand,
  GlobPathCommand,
  ListDirCommand,
  MakeDirectoryCommand,
  RemoveDirectoryCommand,
  RemoveFileCommand,
  StatFileCommand,
} from './fs.js';
import { ShellCommand } from './shell.js';
import { DownloadFileCommand, UploadDirectoryCommand, UploadFileCommand } from './transfer.js';

type CommandFactory = (context: CommandContext, args: unknown) => WorkerCommand;

const FACTORIES: Record<CommandName, CommandFactory> = {
  shell: (context, args) => new ShellCommand(context, args),
  mkdir: (context, args) => new MakeDirectoryCommand(context, args),
  rmdir: (context, args) => new RemoveDirectoryCommand(context, args),
  cpdir: (context, args) => new CopyDirectoryCommand(context, args),
  rmfile: (context, args) => new RemoveFileCommand(context, args),
  stat: (context, args) => new StatFileCommand(context, args),
  glob: (context, args) => new GlobPathCommand(context, args),
  listdir: (context, args) => new ListDirCommand(context, args),
  upload_file: (context, args) => new UploadFileCommand(context, args),
  upload_directory: (context, args) => new UploadDirectoryCommand(context, args),
  download_file: (context, args) => new DownloadFileCommand(context, args),
};

export class UnknownCommandError extends Error {
  readonly code = 'UNKNOWN_COMMAND';
  override name = 'UnknownCommandError';
}

/**
 * Create the command for `name`, validating its args. Throws UnknownCommandError (with
 * buildbot-worker's wording) or an args error; nothing has run when it throws.
 */
export function createCommand(name: string, context: CommandContext, args: unknown): WorkerCommand {
  const canonical = canonicalCommandName(name);
  if (!canonical) throw new UnknownCommandError(`unrecognized WorkerCommand '${name}'`);
  return FACTORIES[canonical](context, args);
}
