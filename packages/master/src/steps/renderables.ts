/**
 * Rendering `interpolate('...')` (Buildbot's `util.Interpolate`) when a step starts, from
 * the build's properties and its first source stamp. The format was checked with the
 * config; parsed formats are cached by their text (a config holds a handful of them).
 *
 * Values render as Python's `str()` would in Buildbot: strings as they are, numbers in
 * decimal, `true`/`false` as `True`/`False`, null (or a missing value) as "", lists and
 * objects as JSON.
 */
import {
  parseInterpolation,
  type InterpolationLookup,
  type InterpolationPart,
} from '../config/interpolate.js';
import type { RenderableString } from '../config/types.js';
import type { StepRuntime } from './build-step.js';

/** What rendering reads from the running build (a `StepRuntime` is one). */
export type RenderContext = Pick<StepRuntime, 'getProperty' | 'sourcestamp'>;

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
function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '' || value === 0) {
    return false;
  }
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Python's `str()` of a property value; null renders as "" (Buildbot's `elideNoneAs`). */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

/** The looked-up value, or `undefined` when it is missing. */
function lookupValue(lookup: InterpolationLookup, context: RenderContext): unknown {
  const source = lookup.source;
  if (source.selector === 'prop') return context.getProperty(source.name);
  const stamp = context.sourcestamp;
  if (stamp === null) return undefined;
  // Only the build's first source stamp is known here: it serves its own codebase (the
  // build's `codebase` property), and the default codebase "" when it has none.
  const codebase = context.getProperty('codebase');
  const stampCodebase = typeof codebase === 'string' ? codebase : '';
  if (source.codebase !== stampCodebase) return undefined;
  return stamp[source.attribute];
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

/** A string as it is; `interpolate('...')` rendered for the running build. */
export function renderString(value: RenderableString, context: RenderContext): string {
  return typeof value === 'string' ? value : renderParts(partsOf(value.format), context);
}

/** A shell command (string or list) with every renderable rendered. */
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

/** How a renderable reads before it is rendered (state strings): its text or format. */
export function renderableText(value: RenderableString): string {
  return typeof value === 'string' ? value : value.format;
}
