/**
 * validateConfig: check a config (the default export of a master.config.ts) completely and
 * either return the normalized `MasterConfig` or throw one `ConfigError` that lists every
 * problem, each with its path, in the order they appear in the file.
 *
 * Two passes, both always run: the zod schema (types, required fields, unknown keys,
 * formats) and the cross-reference checks below (names that must exist or be unique),
 * which read the raw input so they still work when another part of the config is broken.
 */
import type { z } from 'zod';

import { CONFIG_ERROR_CODES, ConfigError } from './config-error.js';
import type { ConfigProblem } from './config-error.js';
import { closestMatch, describeValue, isPlainObject, quoteList } from './describe-value.js';
import { formatPath, formatProblems } from './format-problems.js';
import { lockDefinitionProblems } from './lock-definitions.js';
import {
  DESCRIPTOR_KINDS,
  MISSING_FIELD,
  UNKNOWN_KEY_PARAM,
  masterConfigSchema,
} from './schema.js';
import type { MasterConfig } from './types.js';

type Path = PropertyKey[];

interface RawProblem {
  path: Path;
  message: string;
  /** For an unknown key: the known key it most likely meant. */
  suggestion?: string;
  missing?: boolean;
  /** The object at `path` is another kind of descriptor: problems inside it are noise. */
  wrongKind?: boolean;
}

/**
 * Validate `raw` (named `source` in messages, e.g. "master.config.ts") and return it
 * normalized, or throw a `ConfigError` with code `config_invalid` and every problem.
 */
export function validateConfig(raw: unknown, source: string): MasterConfig {
  const result = masterConfigSchema.safeParse(raw, { reportInput: true });
  const found: RawProblem[] = [
    ...(result.success
      ? []
      : result.error.issues.flatMap((issue) => problemsFromIssue(issue, raw))),
    ...crossReferenceProblems(raw),
  ];
  if (result.success && found.length === 0) return result.data;

  const problems = inDocumentOrder(withoutRedundant(found), raw).map((problem): ConfigProblem => ({
    path: formatPath(problem.path),
    message: problem.message,
  }));
  if (problems.length === 0) {
    problems.push({
      path: formatPath([]),
      message: 'the config is not valid (no details available)',
    });
  }
  throw new ConfigError(CONFIG_ERROR_CODES.invalid, formatProblems(source, problems), { problems });
}

// ---------------------------------------------------------------------------------------
// Zod issues → problems
// ---------------------------------------------------------------------------------------

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

/** What an object at `path` should be, for "expected …, got …" messages. */
function expectedObject(path: Path): string {
  const last = path.at(-1);
  const parent = path.at(-2);
  if (path.length === 0) return 'the config object made by defineConfig({ ... })';
  if (typeof last === 'number') {
    if (parent === 'workers') return `a worker made by ${factoryOf('worker')}`;
    if (parent === 'builders') return `a builder made by ${factoryOf('builder')}`;
    if (parent === 'steps')
      return `a step made by ${factoryOf('shellCommand')} or ${factoryOf('git')}`;
    if (parent === 'schedulers') {
      return `a scheduler made by ${factoryOf('force')}, ${factoryOf('singleBranch')} or another scheduler factory (docs/config.md)`;
    }
    if (parent === 'changeSources') return `a change source made by ${factoryOf('gitPoller')}`;
    if (parent === 'properties' && path[0] === 'schedulers') {
      return 'a parameter such as { name: "target", type: "string" }';
    }
  }
  if (last === 'factory') return `a build factory made by ${factoryOf('buildFactory')}`;
  if (last === 'db') return 'an object such as { url: "sqlite:///state.sqlite" }';
  if (last === 'www') return 'an object such as { port: 8010 }';
  return 'an object';
}

function factoryOf(tag: string): string {
  return DESCRIPTOR_KINDS[tag]?.factory ?? tag;
}

function expectedText(expected: string, path: Path): string {
  if (expected === 'object') return expectedObject(path);
  return EXPECTED[expected] ?? expected;
}

/** "made by worker(...)" for a value carrying a known descriptor tag, else undefined. */
function describeDescriptor(value: unknown): string | undefined {
  if (!isPlainObject(value) || typeof value.type !== 'string') return undefined;
  const kind = DESCRIPTOR_KINDS[value.type];
  return kind === undefined ? undefined : `a ${kind.noun} made by ${kind.factory}`;
}

/** Zod reports objects where a tag mismatches at `…type`; the whole object is the subject. */
function problemsFromIssue(issue: z.core.$ZodIssue, raw: unknown): RawProblem[] {
  const path = [...issue.path];
  const input: unknown = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      if (path.length === 0) {
        return [
          {
            path,
            message: `expected ${expectedText(issue.expected, path)}, got ${describeValue(input)}`,
          },
        ];
      }
      if (input === undefined) {
        return [
          {
            path,
            message: `${MISSING_FIELD} (expected ${expectedText(issue.expected, path)})`,
            missing: true,
          },
        ];
      }
      const got = describeDescriptor(input) ?? describeValue(input);
      return [{ path, message: `expected ${expectedText(issue.expected, path)}, got ${got}` }];
    }
    case 'invalid_value': {
      const values = issue.values;
      if (path.at(-1) === 'type' && values.length === 1) {
        // A descriptor of the wrong kind, e.g. a builder in `workers`.
        const objectPath = path.slice(0, -1);
        const got = describeDescriptor(valueAt(raw, objectPath)) ?? `type ${describeValue(input)}`;
        const wanted = String(values[0]);
        const kind = DESCRIPTOR_KINDS[wanted];
        const expected =
          kind === undefined ? `type "${wanted}"` : `a ${kind.noun} made by ${kind.factory}`;
        return [{ path: objectPath, message: `expected ${expected}, got ${got}`, wrongKind: true }];
      }
      return [
        {
          path,
          message: `expected ${quoteList(values)}, got ${describeValue(input)}${didYouMean(input, values)}`,
        },
      ];
    }
    case 'invalid_union': {
      const options = 'options' in issue ? issue.options : undefined;
      if (issue.discriminator !== undefined && Array.isArray(options)) {
        return [discriminatorProblem(path, input, options)];
      }
      return [{ path, message: `${issue.message}, got ${describeValue(input)}` }];
    }
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'string' || issue.origin === 'set') {
        if (minimum <= 1) {
          const last = path.at(-1);
          if (last === 'workerNames') return [{ path, message: 'must name at least one worker' }];
          if (last === 'builderNames') return [{ path, message: 'must name at least one builder' }];
          return [{ path, message: 'must not be empty' }];
        }
        return [
          {
            path,
            message: `must have at least ${minimum} ${issue.origin === 'string' ? 'characters' : 'items'}`,
          },
        ];
      }
      const bound = issue.inclusive === false ? 'greater than' : 'at least';
      return [{ path, message: `must be ${bound} ${minimum}, got ${describeValue(input)}` }];
    }
    case 'too_big': {
      const bound = issue.inclusive === false ? 'less than' : 'at most';
      if (issue.origin === 'array' || issue.origin === 'string') {
        return [
          {
            path,
            message: `must have ${bound} ${Number(issue.maximum)} ${issue.origin === 'string' ? 'characters' : 'items'}`,
          },
        ];
      }
      return [
        { path, message: `must be ${bound} ${Number(issue.maximum)}, got ${describeValue(input)}` },
      ];
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKeyProblem([...path, key], []));
    case 'custom': {
      const known: unknown = issue.params?.[UNKNOWN_KEY_PARAM];
      if (Array.isArray(known)) return [unknownKeyProblem(path, known.map(String))];
      return [{ path, message: issue.message, missing: issue.message.startsWith(MISSING_FIELD) }];
    }
    case 'invalid_format':
    case 'not_multiple_of':
    case 'invalid_key':
    case 'invalid_element':
      return [{ path, message: `${issue.message}, got ${describeValue(input)}` }];
    default:
      return [{ path, message: (issue as { message: string }).message }];
  }
}

function didYouMean(input: unknown, candidates: readonly unknown[]): string {
  if (typeof input !== 'string') return '';
  const match = closestMatch(input, candidates.map(String));
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

function unknownKeyProblem(path: Path, knownKeys: readonly string[]): RawProblem {
  const key = String(path.at(-1));
  const candidates = knownKeys.filter((known) => known !== 'type');
  const suggestion = closestMatch(key, candidates);
  if (suggestion !== undefined)
    return { path, message: `unknown key (did you mean "${suggestion}"?)`, suggestion };
  const listed = candidates.length > 0 ? `; known keys: ${candidates.join(', ')}` : '';
  return { path, message: `unknown key${listed}` };
}

/** A `type` that picks no member of a union: a missing tag, another kind, or a typo. */
function discriminatorProblem(path: Path, input: unknown, options: readonly unknown[]): RawProblem {
  const tags = options.map(String);
  const objectPath = path.at(-1) === 'type' ? path.slice(0, -1) : path;
  const kinds = tags.map((tag) => DESCRIPTOR_KINDS[tag]).filter((kind) => kind !== undefined);
  const noun = kinds[0]?.noun ?? 'parameter';
  // Many kinds (steps): the two most common, then a pointer to the rest.
  const factories =
    kinds.length <= 2
      ? kinds.map((kind) => kind.factory).join(' or ')
      : `${kinds[0]?.factory ?? ''}, ${kinds[1]?.factory ?? ''} or another ${noun} factory (docs/config.md)`;
  const type = isPlainObject(input) ? input.type : undefined;
  if (kinds.length === 0) {
    // Force scheduler parameters: { type: 'string' | 'int' | 'bool' }.
    const got = type === undefined ? 'no type' : `type ${describeValue(type)}`;
    return {
      path,
      message: `expected type ${quoteList(tags)}, got ${got}${didYouMean(type, tags)}`,
    };
  }
  if (type === undefined) {
    return {
      path: objectPath,
      message: `expected a ${noun} made by ${factories}, got ${describeValue(input)} without a type`,
    };
  }
  const other = describeDescriptor(input);
  if (other !== undefined) {
    return {
      path: objectPath,
      message: `expected a ${noun} made by ${factories}, got ${other}`,
      wrongKind: true,
    };
  }
  return {
    path,
    message: `unknown ${noun} type ${describeValue(type)} (expected ${quoteList(tags)})${didYouMean(type, tags)}`,
  };
}

// ---------------------------------------------------------------------------------------
// Cross-references
// ---------------------------------------------------------------------------------------

function rawList(value: unknown, key: string): unknown[] {
  if (!isPlainObject(value)) return [];
  const list = value[key];
  return Array.isArray(list) ? list : [];
}

function rawString(value: unknown, key: string): string | undefined {
  if (!isPlainObject(value)) return undefined;
  const field = value[key];
  return typeof field === 'string' ? field : undefined;
}

/** `duplicate worker name "a" (also workers[0])` for every repeated name of `list`. */
function duplicateNames(list: unknown[], listPath: Path, what: string): RawProblem[] {
  const firstIndex = new Map<string, number>();
  const problems: RawProblem[] = [];
  list.forEach((item, index) => {
    const name = rawString(item, 'name');
    if (name === undefined || name === '') return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, index);
    else {
      problems.push({
        path: [...listPath, index, 'name'],
        message: `duplicate ${what} name "${name}" (also ${formatPath([...listPath, first])})`,
      });
    }
  });
  return problems;
}

/** Each entry of `names` must be one of `known` and appear once. */
function checkReferences(
  names: unknown,
  path: Path,
  what: string,
  known: readonly string[],
): RawProblem[] {
  if (!Array.isArray(names)) return [];
  const problems: RawProblem[] = [];
  const seen = new Set<string>();
  names.forEach((name: unknown, index) => {
    if (typeof name !== 'string' || name === '') return;
    if (seen.has(name)) {
      problems.push({ path: [...path, index], message: `${what} "${name}" is listed twice` });
      return;
    }
    seen.add(name);
    if (!known.includes(name)) {
      const listed = known.length === 0 ? 'none' : known.join(', ');
      problems.push({
        path: [...path, index],
        message: `unknown ${what} "${name}" (known: ${listed})`,
      });
    }
  });
  return problems;
}

/** Names of the items of `list` that are components of kind `type` (or untagged). */
function namesOf(list: unknown[], type: string): string[] {
  const names = list
    .filter((item) => isPlainObject(item) && (item.type === undefined || item.type === type))
    .map((item) => rawString(item, 'name'))
    .filter((name): name is string => name !== undefined && name !== '');
  return [...new Set(names)];
}

/** A latent worker's pods connect as `<name>-<n>`: no static worker may be named so. */
function podWorkerNameClashes(workers: unknown[]): RawProblem[] {
  const latent = namesOf(workers, 'kubernetesLatentWorker');
  const problems: RawProblem[] = [];
  workers.forEach((item, index) => {
    if (!isPlainObject(item) || item.type === 'kubernetesLatentWorker') return;
    const name = rawString(item, 'name') ?? '';
    const owner = latent.find(
      (l) => name.startsWith(`${l}-`) && /^\d+$/.test(name.slice(l.length + 1)),
    );
    if (owner !== undefined) {
      problems.push({
        path: ['workers', index, 'name'],
        message: `worker name "${name}" is taken: the pods of kubernetesLatentWorker "${owner}" connect as "${owner}-<n>"`,
      });
    }
  });
  return problems;
}

function crossReferenceProblems(raw: unknown): RawProblem[] {
  const workers = rawList(raw, 'workers');
  const builders = rawList(raw, 'builders');
  const schedulers = rawList(raw, 'schedulers');
  const workerNames = [
    ...new Set([...namesOf(workers, 'worker'), ...namesOf(workers, 'kubernetesLatentWorker')]),
  ];
  const builderNames = namesOf(builders, 'builder');
  const schedulerNames = schedulers
    .map((scheduler) => rawString(scheduler, 'name'))
    .filter((name): name is string => name !== undefined && name !== '');
  const problems: RawProblem[] = [
    ...duplicateNames(workers, ['workers'], 'worker'),
    ...podWorkerNameClashes(workers),
    ...duplicateNames(builders, ['builders'], 'builder'),
    ...duplicateNames(schedulers, ['schedulers'], 'scheduler'),
  ];
  builders.forEach((builder, index) => {
    if (!isPlainObject(builder)) return;
    problems.push(
      ...checkReferences(
        builder.workerNames,
        ['builders', index, 'workerNames'],
        'worker',
        workerNames,
      ),
    );
    const tags = Array.isArray(builder.tags) ? builder.tags : [];
    tags.forEach((tag: unknown, tagIndex) => {
      if (typeof tag === 'string' && tags.indexOf(tag) !== tagIndex) {
        problems.push({
          path: ['builders', index, 'tags', tagIndex],
          message: `tag "${tag}" is listed twice`,
        });
      }
    });
  });
  rawList(raw, 'reporters').forEach((reporter, index) => {
    if (!isPlainObject(reporter)) return;
    problems.push(
      ...checkReferences(
        reporter.builders,
        ['reporters', index, 'builders'],
        'builder',
        builderNames,
      ),
    );
  });
  problems.push(...lockDefinitionProblems(raw));
  schedulers.forEach((scheduler, index) => {
    if (!isPlainObject(scheduler)) return;
    const path = ['schedulers', index];
    problems.push(
      ...checkReferences(
        scheduler.builderNames,
        [...path, 'builderNames'],
        'builder',
        builderNames,
      ),
    );
    if (scheduler.type === 'force') {
      problems.push(
        ...duplicateNames(rawList(scheduler, 'properties'), [...path, 'properties'], 'parameter'),
      );
    }
    if (scheduler.type === 'dependent' && typeof scheduler.upstream === 'string') {
      const upstream = scheduler.upstream;
      if (upstream === scheduler.name) {
        problems.push({
          path: [...path, 'upstream'],
          message: 'a scheduler cannot depend on itself',
        });
      } else if (!schedulerNames.includes(upstream)) {
        problems.push({
          path: [...path, 'upstream'],
          message: `unknown scheduler "${upstream}" (known: ${schedulerNames.join(', ') || 'none'})`,
        });
      }
    }
  });
  problems.push(...changeSourceProblems(raw, schedulers, builders));
  return problems;
}

/** Change source names, and the `trigger` steps' schedulers (must be `triggerable`). */
function changeSourceProblems(
  raw: unknown,
  schedulers: unknown[],
  builders: unknown[],
): RawProblem[] {
  const problems: RawProblem[] = [];
  const sources = rawList(raw, 'changeSources').map((source) =>
    isPlainObject(source) && source.name === undefined
      ? { ...source, name: source.repourl }
      : source,
  );
  problems.push(...duplicateNames(sources, ['changeSources'], 'change source'));
  const triggerables = namesOf(schedulers, 'triggerable').filter((name) =>
    schedulers.some((s) => isPlainObject(s) && s.name === name && s.type === 'triggerable'),
  );
  builders.forEach((builder, builderIndex) => {
    const factory = isPlainObject(builder) ? builder.factory : undefined;
    const steps = rawList(factory, 'steps');
    steps.forEach((step, stepIndex) => {
      if (!isPlainObject(step) || step.type !== 'trigger') return;
      problems.push(
        ...checkReferences(
          step.schedulerNames,
          ['builders', builderIndex, 'factory', 'steps', stepIndex, 'schedulerNames'],
          'triggerable scheduler',
          triggerables,
        ),
      );
    });
  });
  return problems;
}

// ---------------------------------------------------------------------------------------
// Ordering
// ---------------------------------------------------------------------------------------

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isPlainObject(node) && typeof segment === 'string') node = node[segment];
    else return undefined;
  }
  return node;
}

/** An unknown key that suggests a missing field replaces the "missing" problem. */
function withoutRedundant(problems: RawProblem[]): RawProblem[] {
  const suggested = new Set(
    problems
      .filter((problem) => problem.suggestion !== undefined)
      .map((problem) => formatPath([...problem.path.slice(0, -1), problem.suggestion ?? ''])),
  );
  const wrongKinds = problems
    .filter((problem) => problem.wrongKind === true)
    .map((problem) => problem.path);
  const isInside = (path: Path, outer: Path): boolean =>
    path.length > outer.length && outer.every((segment, index) => path[index] === segment);
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const path = formatPath(problem.path);
    if (problem.missing === true && suggested.has(path)) return false;
    if (wrongKinds.some((outer) => isInside(problem.path, outer))) return false;
    const key = `${path}\n${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Position of each path segment in the raw input: list index, or the key's position. */
function documentRanks(root: unknown, path: Path): number[] {
  const ranks: number[] = [];
  let node = root;
  for (const segment of path) {
    if (typeof segment === 'number') {
      ranks.push(segment);
      node = Array.isArray(node) ? node[segment] : undefined;
    } else {
      const keys = isPlainObject(node) ? Object.keys(node) : [];
      ranks.push(keys.indexOf(String(segment)));
      node = isPlainObject(node) ? node[String(segment)] : undefined;
    }
  }
  return ranks;
}

function compareRanks(a: number[], b: number[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function inDocumentOrder(problems: RawProblem[], raw: unknown): RawProblem[] {
  return problems
    .map((problem) => ({ problem, ranks: documentRanks(raw, problem.path) }))
    .sort((a, b) => compareRanks(a.ranks, b.ranks))
    .map((entry) => entry.problem);
}
