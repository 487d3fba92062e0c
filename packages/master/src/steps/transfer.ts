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
    const source = await renderStringAsync(o.workersrc, runtime);
    const destination = masterFile(runtime, await renderStringAsync(o.masterdest, runtime));
    this.shown = runtime.redact(source);
    const log = await runtime.addLog('stdio');
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    const temporary = temporaryBeside(destination);
    const handle = await fs.promises.open(temporary, 'w');
    let open = true;
    const stamp: { times: [number, number] | null } = { times: null };
    const close = async () => {
      if (!open) return;
      open = false;
      await handle.close();
    };
    try {
      const result = await runtime.runCommand(
        'upload_file',
        {
          path: workerFile(runtime, o.workdir, source),
          maxsize: o.maxsize,
          blocksize: o.blocksize,
          keepstamp: o.keepstamp,
        },
        {
          log,
          sink: {
            uploadWrite: async (data) => {
              await handle.write(data);
            },
            uploadClose: close,
            uploadUtime: (accessTime, modifiedTime) => {
              stamp.times = [accessTime, modifiedTime];
            },
          },
        },
      );
      await close();
      const outcome = commandResult(result, runtime.stopping);
      if (outcome !== Results.SUCCESS) return outcome;
      fs.renameSync(temporary, destination);
      if (o.mode !== null) fs.chmodSync(destination, o.mode);
      if (stamp.times !== null) {
        const [accessTime, modifiedTime] = stamp.times;
        fs.utimesSync(destination, accessTime, modifiedTime);
      }
      if (o.url !== null) await runtime.addUrl(o.urlText ?? o.url, o.url);
      return Results.SUCCESS;
    } finally {
      await close();
      fs.rmSync(temporary, { force: true });
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
    const source = await renderStringAsync(o.workersrc, runtime);
    const destination = masterFile(runtime, await renderStringAsync(o.masterdest, runtime));
    this.shown = runtime.redact(source);
    const log = await runtime.addLog('stdio');
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    const archive = temporaryBeside(destination);
    const handle = await fs.promises.open(archive, 'w');
    let open = true;
    const close = async () => {
      if (!open) return;
      open = false;
      await handle.close();
    };
    try {
      const result = await runtime.runCommand(
        'upload_directory',
        {
          path: workerFile(runtime, o.workdir, source),
          maxsize: o.maxsize,
          blocksize: o.blocksize,
          compress: o.compress,
        },
        {
          log,
          sink: {
            uploadWrite: async (data) => {
              await handle.write(data);
            },
            uploadUnpack: async () => {
              await close();
              const members = await extractArchive(archive, destination, o.compress);
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
      await close();
      fs.rmSync(archive, { force: true });
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
