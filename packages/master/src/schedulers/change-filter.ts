/**
 * Which changes a scheduler looks at (Buildbot's `ChangeFilter`) and which of them are
 * important (`fileIsImportant`), from their config descriptors. Pure functions.
 *
 * Regular expressions are JavaScript's, matched at the start of the value as Python's
 * `re.match` does (`'rel'` matches `release`; end with `$` to match the whole value).
 * Globs: `*` within one path segment, `**` across segments, `?` one character,
 * `{a,b}` alternatives.
 */
import type {
  ChangeFilterCondition,
  ChangeFilterConfig,
  FileIsImportantConfig,
} from '../config/change-types.js';
import type { ChangeEntity } from '../data/changes.js';

/** The change attributes a filter or a scheduler reads. */
export type FilterableChange = Pick<
  ChangeEntity,
  'branch' | 'project' | 'repository' | 'category' | 'codebase' | 'files' | 'properties'
>;

const regexCache = new Map<string, RegExp>();

/** `pattern` anchored at the start, as Python's `re.match`. */
export function startMatcher(pattern: string): RegExp {
  let regex = regexCache.get(pattern);
  if (!regex) {
    regex = new RegExp(`^(?:${pattern})`, 'u');
    regexCache.set(pattern, regex);
  }
  return regex;
}

function valueOf(change: FilterableChange, field: string): unknown {
  if (field.startsWith('property:')) {
    const entry = change.properties[field.slice('property:'.length)];
    // Buildbot's getProperty(name, ''): a missing property reads as "".
    return entry === undefined ? '' : entry[0];
  }
  switch (field) {
    case 'branch':
      return change.branch;
    case 'project':
      return change.project;
    case 'repository':
      return change.repository;
    case 'category':
      return change.category;
    case 'codebase':
      return change.codebase;
    default:
      return undefined;
  }
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function conditionHolds(condition: ChangeFilterCondition, value: unknown): boolean {
  const normalized = value === undefined ? null : value;
  if (condition.eq && !condition.eq.some((v) => same(v, normalized))) return false;
  if (condition.notEq?.some((v) => same(v, normalized))) return false;
  const text = typeof normalized === 'string' ? normalized : null;
  if (condition.re && (text === null || !condition.re.some((p) => startMatcher(p).test(text))))
    return false;
  if (condition.notRe && text !== null && condition.notRe.some((p) => startMatcher(p).test(text)))
    return false;
  return true;
}

/** True when the change passes every condition of the filter. */
export function filterChange(filter: ChangeFilterConfig, change: FilterableChange): boolean {
  return filter.conditions.every((condition) =>
    conditionHolds(condition, valueOf(change, condition.field)),
  );
}

const globCache = new Map<string, RegExp>();

/** A glob (`src/**`, `*.md`, `docs/{a,b}/*`) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const cached = globCache.get(glob);
  if (cached) return cached;
  let out = '';
  let braces = 0;
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index] as string;
    if (char === '*') {
      if (glob[index + 1] === '*') {
        index += 1;
        if (glob[index + 1] === '/') {
          index += 1;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (char === '?') out += '[^/]';
    else if (char === '{') {
      braces += 1;
      out += '(?:';
    } else if (char === '}' && braces > 0) {
      braces -= 1;
      out += ')';
    } else if (char === ',' && braces > 0) out += '|';
    else out += char.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${out}$`, 'u');
  globCache.set(glob, regex);
  return regex;
}

/** Buildbot's `fileIsImportant` from `{ files, notFiles }`; no rule: every change is. */
export function isImportant(rule: FileIsImportantConfig | null, change: FilterableChange): boolean {
  if (rule === null || change.files.length === 0) return true;
  return change.files.some((file) => {
    const wanted = rule.files.length === 0 || rule.files.some((g) => globToRegExp(g).test(file));
    return wanted && !rule.notFiles.some((g) => globToRegExp(g).test(file));
  });
}
