/**
 * `makeDirectory` / `removeDirectory` (Buildbot's `MakeDirectory` / `RemoveDirectory`):
 * the worker's `mkdir` and `rmdir` commands on a directory relative to the builder's
 * directory (an absolute path is used as it is).
 */
import path from 'node:path';
import type { RenderableString } from '../config/types.js';
import type { Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { commandResult } from './command-result.js';
import { renderStringAsync, renderableText } from './renderables.js';

export interface DirectoryOptions {
  dir: RenderableString;
  description: string | null;
  descriptionDone: string | null;
}

export class DirectoryStep extends BuildStep {
  private rendered: string | null = null;

  constructor(
    name: string,
    flags: StepFlags,
    readonly command: 'mkdir' | 'rmdir',
    readonly options: DirectoryOptions,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.options.descriptionDone : this.options.description;
    if (custom) return custom;
    const dir = this.rendered ?? renderableText(this.options.dir);
    if (this.command === 'mkdir') return done ? `created ${dir}` : `creating ${dir}`;
    return done ? `deleted ${dir}` : `deleting ${dir}`;
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const dir = await renderStringAsync(this.options.dir, runtime);
    this.rendered = runtime.redact(dir);
    const log = await runtime.addLog('stdio');
    const target = path.posix.isAbsolute(dir) ? dir : runtime.workerPath(dir);
    const args: Record<string, unknown> = { paths: [target] };
    if (this.command === 'rmdir') args.logEnviron = false;
    const result = await runtime.runCommand(this.command, args, { log });
    return commandResult(result, runtime.stopping);
  }
}
