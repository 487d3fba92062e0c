/**
 * File transfer commands (buildbot-worker's commands/transfer.py). The worker drives every
 * transfer with its own requests to the master, one block at a time, each awaited:
 *
 * upload_file      header `sending PATH` · update_upload_file_write(args=bytes)… ·
 *                  update_upload_file_close · [update_upload_file_utime if keepstamp]
 * upload_directory (tar PATH to a temp file, compressed per `compress`) header `sending PATH` ·
 *                  update_upload_directory_write(args=bytes)… · update_upload_directory_unpack
 * download_file    update_read_file(length) → bytes (empty = EOF)… · update_read_file_close
 *
 * and ends with the updates `rc` (0, or 1 on failure/interrupt/maxsize) and `stderr` (why, if
 * anything went wrong), then `elapsed`. A file that cannot be opened is a result (rc 1 and a
 * stderr message, `close` still sent), not a failure; a failed request to the master is a
 * failure (the `complete` message carries it). An interrupt stops at the next block.
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkerToMasterOp } from '@yardmaster/protocol';
import { makeDirs } from '../make-dirs.js';
import { systemErrorInfo } from '../python-format.js';
import { writeTarArchive, type TarCompression } from '../tar-writer.js';
import { ArgsReader, WorkerCommand, type CommandContext } from './base.js';

abstract class TransferCommand extends WorkerCommand {
  protected rc = 0;
  protected stderr: string | null = null;

  /** Report rc and stderr; not through sendStatus, so it is sent after an interrupt too. */
  protected finished(): void {
    this.context.sendUpdate([['rc', this.rc]]);
    if (this.stderr !== null) this.context.sendUpdate([['stderr', this.stderr]]);
  }

  protected override interrupt(): void {
    if (this.interrupted) return;
    this.rc = 1;
    this.interrupted = true;
  }

  protected maxsizeReached(file: string): void {
    if (this.stderr === null) {
      this.stderr = `Maximum filesize reached, truncating file '${file}'`;
      this.rc = 1;
    }
  }
}

interface UploadArgs {
  path: string;
  maxsize: number | undefined;
  blocksize: number;
}

function readUploadArgs(name: string, args: ArgsReader): UploadArgs {
  return {
    path: args.requiredString('path'),
    maxsize: args.optionalNumber('maxsize'),
    blocksize: args.requiredPositiveInteger('blocksize'),
  };
}

/** Shared block loop: read `handle` and send each block with `op`, awaiting each response. */
abstract class UploadCommand extends TransferCommand {
  protected readonly path: string;
  #remaining: number | undefined;
  readonly #blocksize: number;

  constructor(context: CommandContext, upload: UploadArgs) {
    super(context);
    this.path = path.resolve(context.basedir, upload.path);
    this.#remaining = upload.maxsize;
    this.#blocksize = upload.blocksize;
  }

  protected async sendBlocks(handle: FileHandle | undefined, op: WorkerToMasterOp): Promise<void> {
    for (;;) {
      if (this.interrupted || handle === undefined) return;
      let length = this.#blocksize;
      if (this.#remaining !== undefined && length > this.#remaining) length = this.#remaining;
      if (length <= 0) {
        this.maxsizeReached(this.path);
        return;
      }
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, null);
      if (bytesRead === 0) return;
      if (this.#remaining !== undefined) this.#remaining -= bytesRead;
      await this.context.request(op, { args: buffer.subarray(0, bytesRead) });
    }
  }
}

export class UploadFileCommand extends UploadCommand {
  readonly #keepstamp: boolean;

  constructor(context: CommandContext, rawArgs: unknown) {
    const args = new ArgsReader('upload_file', rawArgs);
    const upload = readUploadArgs('upload_file', args);
    const keepstamp = args.flag('keepstamp', false);
    args.check();
    super(context, upload);
    this.#keepstamp = keepstamp;
  }

  protected override async start(): Promise<void> {
    let handle: FileHandle | undefined;
    let accessTime = 0;
    let modifiedTime = 0;
    try {
      if (this.#keepstamp) {
        const stats = await stat(this.path);
        accessTime = stats.atimeMs / 1000;
        modifiedTime = stats.mtimeMs / 1000;
      }
      handle = await open(this.path, 'r');
    } catch (error) {
      this.context.logger.info(
        `cannot open ${this.path} for upload: ${systemErrorInfo(error).strerror}`,
      );
      this.stderr = `Cannot open file '${this.path}' for upload`;
      this.rc = 1;
    }
    this.sendStatus([['header', `sending ${this.path}\n`]]);

    let failure: Error | undefined;
    try {
      await this.sendBlocks(handle, 'update_upload_file_write');
    } catch (error) {
      failure = toError(error);
    }
    await handle?.close().catch(() => undefined);
    try {
      if (failure === undefined) {
        await this.context.request('update_upload_file_close');
        if (this.#keepstamp) {
          await this.context.request('update_upload_file_utime', {
            access_time: accessTime,
            modified_time: modifiedTime,
          });
        }
      } else {
        this.rc = 1;
        // Tell the master to close its file, but report the original failure.
        await this.context.request('update_upload_file_close').catch((error: unknown) => {
          this.context.logger.info(`ignoring error from remote close(): ${String(error)}`);
        });
      }
    } catch (error) {
      failure = toError(error);
    }
    this.finished();
    if (failure !== undefined) throw failure;
  }
}

export class UploadDirectoryCommand extends UploadCommand {
  readonly #compress: TarCompression;

  constructor(context: CommandContext, rawArgs: unknown) {
    const args = new ArgsReader('upload_directory', rawArgs);
    const upload = readUploadArgs('upload_directory', args);
    const compress = args.raw('compress') ?? null;
    if (compress !== null && compress !== 'gz' && compress !== 'bz2') {
      throw new Error(
        `upload_directory command compress must be null, 'gz' or 'bz2', got ${JSON.stringify(compress)}`,
      );
    }
    args.check();
    super(context, upload);
    this.#compress = compress;
  }

  protected override async start(): Promise<void> {
    const tarName = path.join(tmpdir(), `yardmaster-transfer-${randomBytes(6).toString('hex')}`);
    let handle: FileHandle | undefined;
    let failure: Error | undefined;
    try {
      try {
        await writeTarArchive(this.path, tarName, this.#compress);
        handle = await open(tarName, 'r');
      } catch (error) {
        const reason =
          error instanceof Error && 'code' in error
            ? systemErrorInfo(error).strerror
            : String(error);
        this.stderr = `Cannot archive directory '${this.path}' for upload: ${reason}`;
        this.rc = 1;
      }
      this.sendStatus([['header', `sending ${this.path}\n`]]);
      if (handle !== undefined) {
        try {
          await this.sendBlocks(handle, 'update_upload_directory_write');
          await this.context.request('update_upload_directory_unpack');
        } catch (error) {
          this.rc = 1;
          failure = toError(error);
        }
      }
    } finally {
      await handle?.close().catch(() => undefined);
      await rm(tarName, { force: true }).catch(() => undefined);
    }
    this.finished();
    if (failure !== undefined) throw failure;
  }
}

export class DownloadFileCommand extends TransferCommand {
  readonly #path: string;
  readonly #blocksize: number;
  readonly #mode: number | undefined;
  #remaining: number | undefined;

  constructor(context: CommandContext, rawArgs: unknown) {
    super(context);
    const args = new ArgsReader('download_file', rawArgs);
    this.#path = path.resolve(context.basedir, args.requiredString('path'));
    this.#remaining = args.optionalNumber('maxsize');
    this.#blocksize = args.requiredPositiveInteger('blocksize');
    this.#mode = args.optionalNumber('mode');
    args.check();
  }

  protected override async start(): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      await makeDirs(path.dirname(this.#path));
      handle = await open(this.#path, 'w');
      if (this.#mode !== undefined) await chmod(this.#path, this.#mode);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      handle = undefined;
      this.context.logger.info(
        `cannot open ${this.#path} for download: ${systemErrorInfo(error).strerror}`,
      );
      this.stderr = `Cannot open file '${this.#path}' for download`;
      this.rc = 1;
    }

    let failure: Error | undefined;
    try {
      await this.#receiveBlocks(handle);
    } catch (error) {
      this.rc = 1;
      failure = toError(error);
    }
    await this.context.request('update_read_file_close').catch((error: unknown) => {
      this.context.logger.info(`error while trying to close reader: ${String(error)}`);
    });
    try {
      await handle?.close();
    } catch (error) {
      failure ??= toError(error);
    }
    this.finished();
    if (failure !== undefined) throw failure;
  }

  async #receiveBlocks(handle: FileHandle | undefined): Promise<void> {
    for (;;) {
      if (this.interrupted || handle === undefined) return;
      let length = this.#blocksize;
      if (this.#remaining !== undefined && length > this.#remaining) length = this.#remaining;
      if (length <= 0) {
        this.maxsizeReached(this.#path);
        return;
      }
      const data = toBytes(await this.context.request('update_read_file', { length }));
      if (data.length === 0) return;
      if (data.length > length) {
        throw new Error(`the master sent ${data.length} bytes for a read of at most ${length}`);
      }
      if (this.#remaining !== undefined) this.#remaining -= data.length;
      await handle.write(data);
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function toBytes(result: unknown): Buffer {
  if (result === null || result === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(result)) return result;
  if (result instanceof Uint8Array) return Buffer.from(result);
  if (typeof result === 'string') return Buffer.from(result, 'utf8');
  throw new Error(`update_read_file answered with ${typeof result}, expected bytes`);
}
