/**
 * File system commands (buildbot-worker's commands/fs.py): mkdir, rmdir, cpdir, rmfile,
 * stat, glob, listdir. Paths arrive absolute from the master; relative ones are taken
 * relative to the worker basedir.
 *
 * Failures are results, as in Buildbot: a header line `<command>: <strerror>: <path>` and
 * `rc` = the errno (mkdir, rmfile, stat, listdir, glob), or the rc of the failed `rm`/`cp`
 * process (rmdir, cpdir, which run `rm -rf` / `cp -R -P -p -v` with full command headers).
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { StatTuple } from '@yardmaster/protocol';
import { pythonGlob } from '../glob.js';
import { makeDirs } from '../make-dirs.js';
import { systemErrorInfo } from '../python-format.js';
import { RunProcess } from '../run-process.js';
import { ArgsReader, WorkerCommand, type CommandContext } from './base.js';

abstract class FsCommand extends WorkerCommand {
  protected abstract readonly header: string;

  protected resolvePath(p: string): string {
    return path.resolve(this.context.basedir, p);
  }

  /** Report an OSError the way Buildbot does and return its errno as rc. */
  protected sendFailure(error: unknown, shownPath: string): void {
    const { errno, strerror } = systemErrorInfo(error);
    this.context.logger.info(`${this.header} ${shownPath} failed: ${strerror}`);
    this.sendStatus([
      ['header', `${this.header}: ${strerror}: ${shownPath}`],
      ['rc', errno],
    ]);
  }
}

export class MakeDirectoryCommand extends FsCommand {
  protected readonly header = 'mkdir';
  readonly #paths: string[];

  constructor(context: CommandContext, rawArgs: unknown) {
    super(context);
    const args = new ArgsReader('mkdir', rawArgs);
    this.#paths = args.requiredStringList('paths');
    args.check();
  }

  protected override async start(): Promise<void> {
    for (const dirname of this.#paths) {
      try {
        await makeDirs(this.resolvePath(dirname));
      } catch (error) {
        this.sendFailure(error, dirname);
        return;
      }
    }
    this.sendStatus([['rc', 0]]);
  }
}

export class RemoveFileCommand extends FsCommand {
  protected readonly header = 'rmfile';
  readonly #path: string;

  constructor(context: CommandContext, rawArgs: unknown) {
    super(context);
    const args = new ArgsReader('rmfile', rawArgs);
    this.#path = args.requiredString('path');
    args.check();
  }

  protected override async start(): Promise<void> {
    try {
      await unlink(this.resolvePath(this.#path));
      this.sendStatus([['rc', 0]]);
    } catch (error) {
      this.sendFailure(error, this.#path);
    }
  }
}

export class StatFileCommand extends FsCommand {
  protected readonly header = 'stat';
  readonly #path: string;

  constructor(context: CommandContext, rawArgs: unknown) {
    super(context);
    const args = new ArgsReader('stat', rawArgs);
    this.#path = args.requiredString('path');
    args.check();
  }

  protected override async start(): Promise<void> {
    try {
      const s = await stat(this.resolvePath(this.#path));
      const tuple: StatTuple = [
        s.mode,
        s.ino,
        s.dev,
        s.nlink,
        s.uid,
        s.gid,
        s.size,
        Math.floor(s.atimeMs / 1000),
        Math.floor(s.mtimeMs / 1000),
        Math.floor(s.ctimeMs / 1000),
      ];
      this.sendStatus([
        ['stat', tuple],
        ['rc', 0],
      ]);
    } catch (error) {
      this.sendFailure(error, this.#path);
    }
  }
}

export class GlobPathCommand extends FsCommand {
  protected readonly header = 'glob';
  readonly #path: string;

  constructor(context: CommandContext, rawArgs: unknown) {
    super(context);
    const args = new ArgsReader('glob', rawArgs);
    this.#path = args.requiredString('path');
    args.check();
  }

  protected override async start(): Promise<void> {
    try {
      const files = await pythonGlob(this.#path, this.context.basedir);
      this.sendStatus([
        ['files', files],
        ['rc', 0],
      ]);
    } catch (error) {
      this.sendFailure(error, this.#path);
    }
  }
}

export class ListDirCommand extends FsCommand {
  protected readonly header = 'listdir';
  readonly #path: string;

  constructor(context: CommandContext, rawArgs: unknown) {
    super(context);
    const args = new ArgsReader('listdir', rawArgs);
    this.#path = args.requiredString('path');
    args.check();
  }

  protected override async start(): Promise<void> {
    try {
      const files = await readdir(this.resolvePath(this.#path));
      this.sendStatus([
        ['files', files],
        ['rc', 0],
      ]);
    } catch (error) {
      this.sendFailure(error, this.#path);
    }
  }
}

/** Common part of rmdir and cpdir: run helper processes, killable on interrupt. */
abstract class ProcessFsCommand extends WorkerCommand {
  protected readonly timeout: number | undefined;
  protected readonly maxTime: number | undefined;
  protected readonly logEnviron: boolean;
  #current: RunProcess | undefined;

  constructor(context: CommandContext, args: ArgsReader) {
    super(context);
    this.timeout = args.has('timeout') ? args.optionalSeconds('timeout') : 120;
    this.maxTime = args.optionalSeconds('maxTime');
    this.logEnviron = args.flag('logEnviron', true);
  }

  /** Run argv in the basedir; output and headers go to the master, the rc is returned. */
  protected runHelper(argv: string[]): Promise<number> {
    const child = new RunProcess({
      command: argv.map((word) => ({ real: word, fake: word })),
      workdir: this.context.basedir,
      basedir: this.context.basedir,
      environ: this.context.environ,
      sendUpdate: (updates) => this.context.sendUpdate(updates),
      logger: this.context.logger,
      sendRC: false,
      timeout: this.timeout,
      maxTime: this.maxTime,
      logEnviron: this.logEnviron,
    });
    this.#current = child;
    return child.start();
  }

  protected override interrupt(): void {
    this.interrupted = true;
    this.#current?.kill('command interrupted');
  }
}

export class RemoveDirectoryCommand extends ProcessFsCommand {
  readonly #paths: string[];

  constructor(context: CommandContext, rawArgs: unknown) {
    const args = new ArgsReader('rmdir', rawArgs);
    super(context, args);
    this.#paths = args.requiredStringList('paths');
    args.check();
  }

  protected override async start(): Promise<void> {
    let rc = 0;
    for (const dir of this.#paths) {
      if (this.interrupted) break;
      const result = await this.#removeOne(path.resolve(this.context.basedir, dir));
      // A failed path fails the command, but the others are still removed.
      if (result !== 0) rc = result;
    }
    this.sendStatus([['rc', rc]]);
  }

  async #removeOne(dir: string): Promise<number> {
    const rc = await this.runHelper(['rm', '-rf', dir]);
    if (rc === 0 || this.interrupted) return rc;
    // A left-over subdirectory without permissions: make it writable and try once more.
    await this.runHelper(['chmod', '-Rf', 'u+rwx', dir]);
    return this.runHelper(['rm', '-rf', dir]);
  }
}

export class CopyDirectoryCommand extends ProcessFsCommand {
  readonly #from: string;
  readonly #to: string;

  constructor(context: CommandContext, rawArgs: unknown) {
    const args = new ArgsReader('cpdir', rawArgs);
    super(context, args);
    this.#from = args.requiredString('from_path');
    this.#to = args.requiredString('to_path');
    args.check();
  }

  protected override async start(): Promise<void> {
    const from = path.resolve(this.context.basedir, this.#from);
    const to = path.resolve(this.context.basedir, this.#to);
    await makeDirs(path.dirname(to));
    const rc = await this.runHelper(['cp', '-R', '-P', '-p', '-v', from, to]);
    this.sendStatus([['rc', rc]]);
  }
}
