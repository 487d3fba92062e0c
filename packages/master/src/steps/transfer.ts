/**
 * File transfer steps (Buildbot's `steps/transfer.py`), on the worker commands
 * `upload_file`, `upload_directory` and `download_file` (docs/protocol.md, "Flows"): the
 * worker drives every transfer, the master answers its block requests.
 *
 * - `fileUpload`: blocks are written to a temporary file beside `masterdest`; only when the
 *   command succeeds is it renamed into place (with `mode` and, with `keepstamp`, the
 *   worker's times), so a failed or truncated upload never replaces the destination.
 * - `directoryUpload`: the tar archive is stored in a temporary file and unpacked into
 *   `masterdest` when the worker asks (`update_upload_directory_unpack`).
 * - `fileDownload` / `stringDownload`: the master answers `update_read_file` with the next
 *   bytes of the file or string, and closes the file on `update_read_file_close`.
 * Each step owns its open file and closes (and cleans up) on every path.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RenderableString } from '../config/types.js';
import { Results, type Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { commandResult } from './command-result.js';
import { renderStringAsync } from './renderables.js';
import { extractArchive } from './tar-extract.js';

export interface TransferOptions {
  workdir: string;
  blocksize: number;
  maxsize: number | null;
  description: string | null;
  descriptionDone: string | null;
}

/** `file` on the worker: absolute as it is, else under the builder's `workdir`. */
function workerFile(runtime: StepRuntime, workdir: string, file: string): string {
  return path.posix.isAbsolute(file) ? file : runtime.workerPath(workdir, file);
}

/** `file` on the master: absolute as it is, else under the master's basedir. */
function masterFile(runtime: StepRuntime, file: string): string {
  return path.resolve(runtime.masterBasedir, file);
}

function temporaryBeside(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.yardmaster-transfer-${randomBytes(4).toString('hex')}`,
  );
}

/**
 * The temporary file an upload writes to, beside its destination: `close` may be called any
 * number of times (by the worker's close message and on every exit path), `discard` closes
 * and removes it (after a rename into place there is nothing left to remove).
 */
class UploadFile {
  private open = true;

  private constructor(
    readonly path: string,
    private readonly handle: fs.promises.FileHandle,
  ) {}

  static async beside(destination: string): Promise<UploadFile> {
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    const file = temporaryBeside(destination);
    return new UploadFile(file, await fs.promises.open(file, 'w'));
  }

  readonly write = async (data: Buffer): Promise<void> => {
    await this.handle.write(data);
  };

  readonly close = async (): Promise<void> => {
    if (!this.open) return;
    this.open = false;
    await this.handle.close();
  };

  async discard(): Promise<void> {
    await this.close();
    fs.rmSync(this.path, { force: true });
  }
}

abstract class TransferStep extends BuildStep {
  /** The file name the state string shows, once rendered. */
  protected shown: string | null = null;

  constructor(
    name: string,
    flags: StepFlags,
    readonly transfer: TransferOptions,
    private readonly verb: string,
    private readonly shownBefore: RenderableString,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.transfer.descriptionDone : this.transfer.description;
    if (custom) return custom;
    const file =
      this.shown ?? (typeof this.shownBefore === 'string' ? this.shownBefore : '<rendered>');
    return `${this.verb} ${path.posix.basename(file)}`;
  }

  /** Renders an upload's paths, adds its log and opens the temporary file it writes to. */
  protected async startUpload(
    runtime: StepRuntime,
    workersrc: RenderableString,
    masterdest: RenderableString,
  ) {
    const source = await renderStringAsync(workersrc, runtime);
    const destination = masterFile(runtime, await renderStringAsync(masterdest, runtime));
    this.shown = runtime.redact(source);
    const log = await runtime.addLog('stdio');
    const file = await UploadFile.beside(destination);
    return {
      workerPath: workerFile(runtime, this.transfer.workdir, source),
      destination,
      log,
      file,
    };
  }
}

export interface FileUploadOptions extends TransferOptions {
  workersrc: RenderableString;
  masterdest: RenderableString;
  mode: number | null;
  keepstamp: boolean;
  url: string | null;
  urlText: string | null;
}

export class FileUploadStep extends TransferStep {
  constructor(
    name: string,
    flags: StepFlags,
    readonly options: FileUploadOptions,
  ) {
    super(name, flags, options, 'uploading', options.workersrc);
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const o = this.options;
    const { workerPath, destination, log, file } = await this.startUpload(
      runtime,
      o.workersrc,
      o.masterdest,
    );
    const stamp: { times: [number, number] | null } = { times: null };
    try {
      const result = await runtime.runCommand(
        'upload_file',
        { path: workerPath, maxsize: o.maxsize, blocksize: o.blocksize, keepstamp: o.keepstamp },
        {
          log,
          sink: {
            uploadWrite: file.write,
            uploadClose: file.close,
            uploadUtime: (accessTime, modifiedTime) => {
              stamp.times = [accessTime, modifiedTime];
            },
          },
        },
      );
      await file.close();
      const outcome = commandResult(result, runtime.stopping);
      if (outcome !== Results.SUCCESS) return outcome;
      fs.renameSync(file.path, destination);
      if (o.mode !== null) fs.chmodSync(destination, o.mode);
      if (stamp.times !== null) {
        const [accessTime, modifiedTime] = stamp.times;
        fs.utimesSync(destination, accessTime, modifiedTime);
      }
      if (o.url !== null) await runtime.addUrl(o.urlText ?? o.url, o.url);
      return Results.SUCCESS;
    } finally {
      await file.discard();
    }
  }
}

export interface DirectoryUploadOptions extends TransferOptions {
  workersrc: RenderableString;
  masterdest: RenderableString;
  compress: 'gz' | null;
  url: string | null;
  urlText: string | null;
}

export class DirectoryUploadStep extends TransferStep {
  constructor(
    name: string,
    flags: StepFlags,
    readonly options: DirectoryUploadOptions,
  ) {
    super(name, flags, options, 'uploading', options.workersrc);
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const o = this.options;
    const { workerPath, destination, log, file } = await this.startUpload(
      runtime,
      o.workersrc,
      o.masterdest,
    );
    try {
      const result = await runtime.runCommand(
        'upload_directory',
        { path: workerPath, maxsize: o.maxsize, blocksize: o.blocksize, compress: o.compress },
        {
          log,
          sink: {
            uploadWrite: file.write,
            uploadUnpack: async () => {
              await file.close();
              const members = await extractArchive(file.path, destination, o.compress);
              log.addHeader(`unpacked ${members} entries into ${destination}`);
            },
          },
        },
      );
      const outcome = commandResult(result, runtime.stopping);
      if (outcome === Results.SUCCESS && o.url !== null) {
        await runtime.addUrl(o.urlText ?? o.url, o.url);
      }
      return outcome;
    } finally {
      await file.discard();
    }
  }
}

export interface FileDownloadOptions extends TransferOptions {
  mastersrc: RenderableString;
  workerdest: RenderableString;
  mode: number | null;
}

/** Runs `download_file`, answering the worker's reads with `read(length)`. */
async function download(
  runtime: StepRuntime,
  o: TransferOptions & { mode: number | null },
  destination: string,
  read: (length: number) => Buffer | Promise<Buffer>,
  close: () => void | Promise<void>,
): Promise<Result> {
  const log = await runtime.addLog('stdio');
  const result = await runtime.runCommand(
    'download_file',
    {
      path: workerFile(runtime, o.workdir, destination),
      maxsize: o.maxsize,
      blocksize: o.blocksize,
      mode: o.mode,
    },
    { log, sink: { readFile: read, readClose: close } },
  );
  return commandResult(result, runtime.stopping);
}

export class FileDownloadStep extends TransferStep {
  constructor(
    name: string,
    flags: StepFlags,
    readonly options: FileDownloadOptions,
  ) {
    super(name, flags, options, 'downloading to', options.workerdest);
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const o = this.options;
    const source = masterFile(runtime, await renderStringAsync(o.mastersrc, runtime));
    const destination = await renderStringAsync(o.workerdest, runtime);
    this.shown = runtime.redact(destination);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(source, 'r');
    } catch {
      // Buildbot: "File 'X' not available at master", and the step fails.
      const log = await runtime.addLog('stderr', 't');
      log.addText('o', `File ${JSON.stringify(source)} not available at master\n`);
      await log.flush();
      return Results.FAILURE;
    }
    let open = true;
    const close = async () => {
      if (!open) return;
      open = false;
      await handle.close();
    };
    try {
      return await download(
        runtime,
        o,
        destination,
        async (length) => {
          if (!open) return Buffer.alloc(0);
          const buffer = Buffer.alloc(Math.max(0, Math.min(length, 1 << 20)));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
          return buffer.subarray(0, bytesRead);
        },
        close,
      );
    } finally {
      await close();
    }
  }
}

export interface StringDownloadOptions extends TransferOptions {
  s: RenderableString;
  workerdest: RenderableString;
  mode: number | null;
}

export class StringDownloadStep extends TransferStep {
  constructor(
    name: string,
    flags: StepFlags,
    readonly options: StringDownloadOptions,
  ) {
    super(name, flags, options, 'downloading to', options.workerdest);
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const o = this.options;
    const data = Buffer.from(await renderStringAsync(o.s, runtime), 'utf8');
    const destination = await renderStringAsync(o.workerdest, runtime);
    this.shown = runtime.redact(destination);
    let offset = 0;
    return download(
      runtime,
      o,
      destination,
      (length) => {
        const chunk = data.subarray(offset, offset + Math.max(0, length));
        offset += chunk.length;
        return chunk;
      },
      () => undefined,
    );
  }
}
