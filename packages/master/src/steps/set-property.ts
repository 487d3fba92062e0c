/**
 * `setProperty` (Buildbot's `SetProperty`): sets one build property to a value rendered
 * when the step runs; its source is the step's name.
 *
 * `setPropertyFromCommand` (Buildbot's `SetPropertyFromCommand`): runs a command on the
 * worker and sets `property` to its stdout (stripped), or the properties `extractFn(rc,
 * stdout, stderr)` returns; a `property changes` log lists what was set. A failed command
 * sets nothing with `property` and makes the step FAILURE.
 */
import type {
  ExtractPropertiesFn,
  RenderableString,
  RenderableValue,
  RendererDescriptor,
} from '../config/types.js';
import { Results, type Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { commandResult } from './command-result.js';
import { renderCommandAsync, renderEnvAsync, renderValueAsync, valueText } from './renderables.js';
import {
  LineCollector,
  describeCommand,
  shellArgs,
  shownCommand,
  type ShellSettings,
} from './shell-command.js';

export interface SetPropertyOptions {
  property: string;
  value: RenderableValue;
  description: string | null;
  descriptionDone: string | null;
}

export class SetPropertyStep extends BuildStep {
  constructor(
    name: string,
    flags: StepFlags,
    readonly options: SetPropertyOptions,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.options.descriptionDone : this.options.description;
    if (custom) return custom;
    return `${done ? 'Set' : 'Setting'} ${this.options.property}`;
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const value = await renderValueAsync(this.options.value, runtime);
    runtime.setProperty(this.options.property, value ?? null, this.name);
    return Results.SUCCESS;
  }
}

export interface SetPropertyFromCommandOptions extends ShellSettings {
  command: RenderableString | RenderableString[];
  env: Record<string, RenderableString>;
  property: string | null;
  extractFn: RendererDescriptor<ExtractPropertiesFn> | null;
  strip: boolean;
  includeStdout: boolean;
  includeStderr: boolean;
  description: string | null;
  descriptionDone: string | null;
}

/** Python's `repr()` of a property value, for the `property changes` log. */
function repr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (value === null || value === undefined) return 'None';
  return valueText(value);
}

export class SetPropertyFromCommandStep extends BuildStep {
  private rendered: string | string[] | null = null;
  private changed: string[] = [];

  constructor(
    name: string,
    flags: StepFlags,
    readonly options: SetPropertyFromCommandOptions,
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.options.descriptionDone : this.options.description;
    if (custom) return custom;
    if (done && this.changed.length === 1) return `property '${this.changed[0] ?? ''}' set`;
    if (done && this.changed.length > 1) return `${this.changed.length} properties set`;
    return describeCommand(this.rendered ?? this.options.command);
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const o = this.options;
    const command = await renderCommandAsync(o.command, runtime);
    const env = await renderEnvAsync(o.env, runtime);
    this.rendered = shownCommand(command, runtime);
    const log = await runtime.addLog('stdio');
    const output = { stdout: [] as string[], stderr: [] as string[] };
    const lines = new LineCollector((line, stream) => output[stream].push(line));
    const result = await runtime.runCommand('shell', shellArgs(runtime, o, command, env), {
      log,
      onUpdate: (updates) => lines.update(updates),
    });
    lines.flush();
    await log.flush();
    const outcome = commandResult(result, runtime.stopping);
    if (outcome === Results.CANCELLED || outcome === Results.EXCEPTION) return outcome;
    const stdout = o.includeStdout ? output.stdout.map((l) => `${l}\n`).join('') : '';
    const stderr = o.includeStderr ? output.stderr.map((l) => `${l}\n`).join('') : '';
    const changes: Record<string, unknown> = {};
    if (o.property !== null) {
      if (outcome !== Results.SUCCESS) return Results.FAILURE;
      changes[o.property] = o.strip ? stdout.trim() : stdout;
    } else if (o.extractFn !== null) {
      const extracted = await o.extractFn.fn(result.rc ?? -1, stdout, stderr);
      if (extracted === null || typeof extracted !== 'object' || Array.isArray(extracted)) {
        throw new Error(`extractFn returned ${JSON.stringify(extracted)}, not an object`);
      }
      Object.assign(changes, extracted);
    }
    for (const [name, value] of Object.entries(changes)) {
      runtime.setProperty(name, value, 'SetPropertyFromCommand Step');
    }
    this.changed = Object.keys(changes).sort();
    const summary = await runtime.addLog('property changes', 't');
    const text = this.changed.map((name) => `${name}: ${repr(changes[name])}`).join('\n');
    if (text !== '') summary.addText('o', `${text}\n`);
    await summary.flush();
    return outcome === Results.SUCCESS ? Results.SUCCESS : Results.FAILURE;
  }
}
