/**
 * Rendering `interpolate('...')` (Buildbot's `util.Interpolate`) and `renderer(fn)`
 * (Buildbot's `@util.renderer`) when a step starts, from the build's properties, its first
 * source stamp, the worker's info and the secrets provider. The format was checked with
 * the config; parsed formats are cached by their text (a config holds a handful of them).
 *
 * Values render as Python's `str()` would in Buildbot: strings as they are, numbers in
 * decimal, `true`/`false` as `True`/`False`, null (or a missing value) as "", lists and
 * objects as JSON. A secret is fetched through the context's `getSecret`, which records it
 * for redaction before the rendered text goes anywhere.
 *
 * The synchronous functions (`renderString`, `renderCommand`, `renderEnv`) handle strings
 * and `interpolate`; the `…Async` ones also call `renderer(fn)` functions, which may
 * return promises. Steps use the asynchronous ones.
 */
import {
  parseInterpolation,
  type InterpolationLookup,
  type InterpolationPart,
} from '../config/interpolate.js';
import type {
  RenderableString,
  RenderableValue,
  RenderProperties,
  RendererDescriptor,
} from '../config/types.js';
import { YardmasterError } from '../errors.js';

/** What rendering reads from the running build (a `StepRuntime` is one). */
export interface RenderContext {
  getProperty(name: string): unknown;
  readonly sourcestamp: {
    branch: string | null;
    revision: string | null;
    repository: string;
  } | null;
  /** The worker's info (what it reported when it attached), for `%(worker:KEY)s`. */
  readonly workerInfo?: Readonly<Record<string, unknown>>;
  /** A secret's value, recorded for redaction; throws when it cannot be found. */
  getSecret?(name: string): string;
  /** Every property (name → value), for `renderer(fn)`. */
  allProperties?(): Record<string, unknown>;
  /** Every source stamp of the build (one per codebase), for `%(src:CODEBASE:ATTR)s`. */
  readonly sourcestamps?: readonly {
    codebase: string;
    branch: string | null;
    revision: string | null;
    repository: string;
  }[];
}

const parsedFormats = new Map<string, InterpolationPart[]>();

function partsOf(format: string): InterpolationPart[] {
  let parts = parsedFormats.get(format);
  if (parts === undefined) {
    const parsed = parseInterpolation(format);
    if (!parsed.ok) {
      throw new Error(`interpolate(${JSON.stringify(format)}): ${parsed.error}`);
    }
    parts = parsed.parts;
    parsedFormats.set(format, parts);
  }
  return parts;
}

/** Python's truthiness: "", 0, false, null, [] and {} are false. */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '' || value === 0) {
    return false;
  }
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Python's `str()` of a property value; null renders as "" (Buildbot's `elideNoneAs`). */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

/** The looked-up value, or `undefined` when it is missing. */
function lookupValue(lookup: InterpolationLookup, context: RenderContext): unknown {
  const source = lookup.source;
  switch (source.selector) {
    case 'prop':
      return context.getProperty(source.name);
    case 'worker':
      return context.workerInfo?.[source.key];
    case 'secret': {
      if (!context.getSecret) {
        throw new YardmasterError(
          'secret_unavailable',
          `%(secret:${source.name})s cannot be used here: secrets are rendered only in steps and reporters`,
        );
      }
      return context.getSecret(source.name);
    }
    case 'src': {
      if (context.sourcestamps && context.sourcestamps.length > 0) {
        // Every codebase of the build: the stamp of the one asked for.
        return context.sourcestamps.find((ss) => ss.codebase === source.codebase)?.[
          source.attribute
        ];
      }
      const stamp = context.sourcestamp;
      if (stamp === null) return undefined;
      // Only the build's first source stamp is known here: it serves its own codebase (the
      // build's `codebase` property), and the default codebase "" when it has none.
      const codebase = context.getProperty('codebase');
      const stampCodebase = typeof codebase === 'string' ? codebase : '';
      if (source.codebase !== stampCodebase) return undefined;
      return stamp[source.attribute];
    }
  }
}

function renderParts(parts: InterpolationPart[], context: RenderContext): string {
  let out = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const value = lookupValue(part, context);
    const missing = value === undefined || (part.falsyIsMissing && !isTruthy(value));
    if (missing) out += renderParts(part.ifMissing, context);
    else if (part.ifPresent === null) out += valueText(value);
    else out += renderParts(part.ifPresent, context);
  }
  return out;
}

/** The `props` argument of a `renderer(fn)` used as a value. */
export function renderProperties(context: RenderContext): RenderProperties {
  const all = context.allProperties?.() ?? {};
  return {
    getProperty: (name, defaultValue) => {
      const value = context.getProperty(name);
      return value === undefined ? defaultValue : value;
    },
    hasProperty: (name) => context.getProperty(name) !== undefined,
    properties: all,
  };
}

/** Calls a renderer used as a value with the build's properties. */
async function callRenderer(value: RendererDescriptor, context: RenderContext): Promise<unknown> {
  const fn = value.fn as (props: RenderProperties) => unknown;
  return await fn(renderProperties(context));
}

/** A string as it is; `interpolate('...')` rendered for the running build. */
export function renderString(value: RenderableString, context: RenderContext): string {
  if (typeof value === 'string') return value;
  if (value.type === 'interpolate') return renderParts(partsOf(value.format), context);
  throw new YardmasterError(
    'renderer_needs_async',
    'renderer(fn) is rendered asynchronously; use renderStringAsync',
  );
}

/** A shell command (string or list) with every `interpolate` rendered. */
export function renderCommand(
  command: RenderableString | RenderableString[],
  context: RenderContext,
): string | string[] {
  return Array.isArray(command)
    ? command.map((word) => renderString(word, context))
    : renderString(command, context);
}

/** Environment values rendered. */
export function renderEnv(
  env: Record<string, RenderableString>,
  context: RenderContext,
): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) rendered[name] = renderString(value, context);
  return rendered;
}

/** A string, `interpolate` or `renderer` as text (a renderer's result as Python's `str()`). */
export async function renderStringAsync(
  value: RenderableString,
  context: RenderContext,
): Promise<string> {
  if (typeof value === 'string' || value.type === 'interpolate') {
    return renderString(value, context);
  }
  return valueText(await callRenderer(value, context));
}

/**
 * A command with every part rendered; a renderer for the whole command may return a
 * string or a list (each element then as text).
 */
export async function renderCommandAsync(
  command: RenderableString | RenderableString[],
  context: RenderContext,
): Promise<string | string[]> {
  if (Array.isArray(command)) {
    const words: string[] = [];
    for (const word of command) words.push(await renderStringAsync(word, context));
    return words;
  }
  if (typeof command === 'object' && command.type === 'renderer') {
    const result = await callRenderer(command, context);
    return Array.isArray(result) ? result.map(valueText) : valueText(result);
  }
  return renderString(command, context);
}

export async function renderEnvAsync(
  env: Record<string, RenderableString>,
  context: RenderContext,
): Promise<Record<string, string>> {
  const rendered: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    rendered[name] = await renderStringAsync(value, context);
  }
  return rendered;
}

/** A property value: JSON as it is, `interpolate` as text, a renderer's result as it is. */
export async function renderValueAsync(
  value: RenderableValue,
  context: RenderContext,
): Promise<unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (value.type === 'interpolate' && typeof value.format === 'string') {
      return renderString({ type: 'interpolate', format: value.format }, context);
    }
    if (value.type === 'renderer' && typeof value.fn === 'function') {
      return callRenderer(value as RendererDescriptor, context);
    }
  }
  return value;
}

/** `doStepIf`-style values: a boolean, or a renderer's result as Python's truthiness. */
export async function renderBooleanAsync(
  value: boolean | RendererDescriptor,
  context: RenderContext,
  ...extra: unknown[]
): Promise<boolean> {
  if (typeof value === 'boolean') return value;
  const fn = value.fn as (props: RenderProperties, ...rest: unknown[]) => unknown;
  return isTruthy(await fn(renderProperties(context), ...extra));
}

/** How a renderable reads before it is rendered (state strings): its text or format. */
export function renderableText(value: RenderableString): string {
  if (typeof value === 'string') return value;
  return value.type === 'interpolate' ? value.format : '<renderer>';
}
