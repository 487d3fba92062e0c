/**
 * The format language of `interpolate('...')`, Buildbot's `util.Interpolate`: parsed once
 * when the config is checked (a bad format is a config problem with its path) and again,
 * from a cache, when a step renders it (`steps/renderables.ts`).
 *
 * Grammar (a subset of Python's `%` formatting, as Buildbot uses it):
 *
 *   %%                                  a literal "%"
 *   %(prop:NAME)s                       the build property NAME ("" when unset or null)
 *   %(src:CODEBASE:ATTR)s               ATTR (branch, revision, repository) of the build's
 *                                       source stamp for CODEBASE ("" = the default one)
 *   %(worker:KEY)s                      KEY of the worker's info (os_id, numcpus, basedir …)
 *   %(secret:NAME)s                     the secret NAME (no default: a missing one is an error)
 *   %(SELECTOR:-DEFAULT)s               the value if set (even when false or ""), else DEFAULT
 *   %(SELECTOR:~DEFAULT)s               the value if set and truthy, else DEFAULT
 *   %(SELECTOR:+REPLACEMENT)s           REPLACEMENT if set, else ""
 *   %(SELECTOR:?|IF_SET|IF_UNSET)s      one of two texts (any delimiter but "(")
 *   %(SELECTOR:#?|IF_TRUTHY|IF_NOT)s    the same, on truthiness
 *
 * DEFAULT, REPLACEMENT and the ternary texts are formats themselves (they may hold
 * `%(...)s`). Inside `%(...)` parentheses nest, as in Python. This module is pure: no I/O.
 */

/** One piece of a parsed format. */
export type InterpolationPart = InterpolationText | InterpolationLookup;

export interface InterpolationText {
  kind: 'text';
  text: string;
}

export const SOURCE_STAMP_ATTRIBUTES = ['branch', 'revision', 'repository'] as const;
export type SourceStampAttribute = (typeof SOURCE_STAMP_ATTRIBUTES)[number];

export type InterpolationSource =
  | { selector: 'prop'; name: string }
  | { selector: 'src'; codebase: string; attribute: SourceStampAttribute }
  /** A key of the worker's info (what it reported when it attached: os_id, numcpus …). */
  | { selector: 'worker'; key: string }
  /** A secret from the configured provider; it must exist (no default, as in Buildbot). */
  | { selector: 'secret'; name: string };

/**
 * A `%(...)s` substitution. Buildbot's `_Lookup`: when the value is missing (or, with
 * `falsyIsMissing`, falsy) the result is `ifMissing`; otherwise `ifPresent`, or the value
 * itself when `ifPresent` is null. A null value renders as "".
 */
export interface InterpolationLookup {
  kind: 'lookup';
  source: InterpolationSource;
  falsyIsMissing: boolean;
  ifPresent: InterpolationPart[] | null;
  ifMissing: InterpolationPart[];
}

export type ParsedInterpolation =
  { ok: true; parts: InterpolationPart[] } | { ok: false; error: string };

class FormatError extends Error {}

/** Buildbot's `Interpolate.identifier_re` (`^[\w._-]*$`), but not empty. */
const IDENTIFIER = /^[\p{L}\p{N}_.-]+$/u;
const CODEBASE = /^[\p{L}\p{N}_.-]*$/u;

const SELECTORS_HINT = 'use prop:NAME, src:CODEBASE:ATTRIBUTE, worker:KEY or secret:NAME';

/** Python's `%(key)` scan: the key ends at the ")" that balances the opening "(". */
function closingParen(format: string, open: number): number {
  let depth = 0;
  for (let index = open; index < format.length; index++) {
    const char = format[index];
    if (char === '(') depth += 1;
    else if (char === ')') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return -1;
}

function parseFormat(format: string): InterpolationPart[] {
  const parts: InterpolationPart[] = [];
  let text = '';
  let index = 0;
  while (index < format.length) {
    const percent = format.indexOf('%', index);
    if (percent < 0) {
      text += format.slice(index);
      break;
    }
    text += format.slice(index, percent);
    const next = format[percent + 1];
    if (next === '%') {
      text += '%';
      index = percent + 2;
      continue;
    }
    if (next !== '(') {
      const got = next === undefined ? 'the end of the text' : `"%${next}"`;
      throw new FormatError(
        `"%" must start "%%" or a substitution such as "%(prop:name)s", got ${got} at offset ${percent}`,
      );
    }
    const close = closingParen(format, percent + 1);
    if (close < 0) {
      throw new FormatError(`"%(" at offset ${percent} has no closing ")"`);
    }
    const key = format.slice(percent + 2, close);
    if (format[close + 1] !== 's') {
      throw new FormatError(`"%(${key})" must be followed by "s", as in "%(${key})s"`);
    }
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    parts.push(parseSubstitution(key));
    index = close + 2;
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return parts;
}

/** `prop:name:-default` → the lookup. */
function parseSubstitution(key: string): InterpolationLookup {
  const colon = key.indexOf(':');
  if (colon < 0) {
    throw new FormatError(`substitution "%(${key})s" has no selector: ${SELECTORS_HINT}`);
  }
  const selector = key.slice(0, colon);
  const argument = key.slice(colon + 1);
  let source: InterpolationSource;
  let rest: string | null;
  if (selector === 'prop') {
    const split = splitOnce(argument);
    if (!IDENTIFIER.test(split.head)) {
      throw new FormatError(
        `property name "${split.head}" in "%(${key})s" must be letters, digits, "_", "." or "-"`,
      );
    }
    source = { selector: 'prop', name: split.head };
    rest = split.tail;
  } else if (selector === 'src') {
    const first = splitOnce(argument);
    if (first.tail === null) {
      throw new FormatError(
        `"%(${key})s" needs a codebase and an attribute, as in "%(src::branch)s"`,
      );
    }
    const second = splitOnce(first.tail);
    if (!CODEBASE.test(first.head)) {
      throw new FormatError(
        `codebase "${first.head}" in "%(${key})s" must be letters, digits, "_", "." or "-"`,
      );
    }
    const attribute = SOURCE_STAMP_ATTRIBUTES.find((known) => known === second.head);
    if (attribute === undefined) {
      throw new FormatError(
        `unknown source stamp attribute "${second.head}" in "%(${key})s" (known: ${SOURCE_STAMP_ATTRIBUTES.join(', ')})`,
      );
    }
    source = { selector: 'src', codebase: first.head, attribute };
    rest = second.tail;
  } else if (selector === 'worker') {
    const split = splitOnce(argument);
    if (!IDENTIFIER.test(split.head)) {
      throw new FormatError(
        `worker info key "${split.head}" in "%(${key})s" must be letters, digits, "_", "." or "-"`,
      );
    }
    source = { selector: 'worker', key: split.head };
    rest = split.tail;
  } else if (selector === 'secret') {
    if (!IDENTIFIER.test(argument)) {
      throw new FormatError(
        `secret name "${argument}" in "%(${key})s" must be letters, digits, "_", "." or "-" (a secret has no default)`,
      );
    }
    return {
      kind: 'lookup',
      source: { selector: 'secret', name: argument },
      falsyIsMissing: false,
      ifPresent: null,
      ifMissing: [],
    };
  } else {
    throw new FormatError(`unknown selector "${selector}" in "%(${key})s": ${SELECTORS_HINT}`);
  }
  return lookup(source, rest ?? '-', key);
}

function splitOnce(text: string): { head: string; tail: string | null } {
  const colon = text.indexOf(':');
  return colon < 0
    ? { head: text, tail: null }
    : { head: text.slice(0, colon), tail: text.slice(colon + 1) };
}

/** The part after the selector: `-default`, `~default`, `+text`, `?|a|b`, `#?|a|b`. */
function lookup(source: InterpolationSource, spec: string, key: string): InterpolationLookup {
  if (spec.startsWith('-') || spec.startsWith('~')) {
    return {
      kind: 'lookup',
      source,
      falsyIsMissing: spec.startsWith('~'),
      ifPresent: null,
      ifMissing: parseFormat(spec.slice(1)),
    };
  }
  if (spec.startsWith('+')) {
    return {
      kind: 'lookup',
      source,
      falsyIsMissing: false,
      ifPresent: parseFormat(spec.slice(1)),
      ifMissing: [],
    };
  }
  const ternary = spec.startsWith('?') ? 1 : spec.startsWith('#?') ? 2 : 0;
  if (ternary > 0) {
    const [ifSet, ifUnset] = splitTernary(spec.slice(ternary), key);
    return {
      kind: 'lookup',
      source,
      falsyIsMissing: ternary === 2,
      ifPresent: parseFormat(ifSet),
      ifMissing: parseFormat(ifUnset),
    };
  }
  throw new FormatError(
    `"%(${key})s": after the name comes ":-", ":~", ":+", ":?" or ":#?", got ":${spec}"`,
  );
}

/** Buildbot's `_splitBalancedParen`: `|a|b` → ["a", "b"]; delimiters inside (...) do not count. */
function splitTernary(spec: string, key: string): [string, string] {
  const delimiter = spec[0];
  const usage = `a ternary needs a delimiter and two texts, as in "%(prop:x:?|set|unset)s"`;
  if (delimiter === undefined) throw new FormatError(`"%(${key})s": ${usage}`);
  if (delimiter === '(') throw new FormatError(`"%(${key})s": "(" cannot be a ternary delimiter`);
  const body = spec.slice(1);
  let depth = 0;
  for (let index = 0; index < body.length; index++) {
    const char = body[index];
    if (char === '(') depth += 1;
    else if (char === ')') {
      depth -= 1;
      if (depth < 0) throw new FormatError(`"%(${key})s": unbalanced ")" in the ternary`);
    }
    if (depth === 0 && char === delimiter) return [body.slice(0, index), body.slice(index + 1)];
  }
  throw new FormatError(`"%(${key})s": ${usage}`);
}

/** Parse `format`; never throws. */
export function parseInterpolation(format: string): ParsedInterpolation {
  try {
    return { ok: true, parts: parseFormat(format) };
  } catch (error) {
    if (error instanceof FormatError) return { ok: false, error: error.message };
    throw error;
  }
}
