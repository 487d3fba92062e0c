/**
 * The force scheduler (Buildbot's `ForceScheduler`): turns a force request (the web form
 * or a JSON-RPC `force` call) into a buildset with one build request per chosen builder.
 *
 * The form is described as Buildbot's `all_fields`: a nameless group with `username` and
 * `reason`, one group per codebase (branch, project, repository, revision), then the
 * configured parameters; groups nest. Values are posted by each field's `fullName` (a
 * child's name is prefixed by its group's, `lib_branch`) and checked on the server: every
 * problem is collected and reported at once, as `fullName: message`, in a 400. Unknown
 * parameters are ignored, as Buildbot does. Stateless: nothing is kept between calls.
 */
import type { ForceParameter, ForceSchedulerConfig, JsonValue } from '../config/types.js';
import type { DataApi } from '../data/data-api.js';
import type { PropertyMap, SourceStampInput } from '../data/buildsets.js';
import { BadRequestError } from '../errors.js';
import type { ForceResult, ForceSchedulerDescription } from '../api/control.js';
import { startMatcher } from './change-filter.js';

const SOURCE = 'Force Build Form';

/** One field as Buildbot's `getSpec()` describes it. */
export interface ForceFieldSpec {
  name: string;
  fullName: string;
  label: string;
  tablabel: string;
  type: string;
  default: unknown;
  required: boolean;
  multiple: boolean;
  regex: string | null;
  hide: boolean;
  maxsize: number | null;
  autopopulate: null;
  [extra: string]: unknown;
}

const BUILDBOT_TYPES: Record<ForceParameter['type'], string> = {
  string: 'text',
  text: 'textarea',
  int: 'int',
  bool: 'bool',
  choice: 'list',
  fixed: 'fixed',
  nested: 'nested',
};

/** Buildbot's `fullName`: the parent's full name and the name, joined by `_` when both are set. */
function fullNameOf(parent: string, name: string): string {
  if (parent !== '' && name !== '') return `${parent}_${name}`;
  return name !== '' ? name : parent;
}

function spec(parameter: ForceParameter, parent: string): ForceFieldSpec {
  const fullName = fullNameOf(parent, parameter.name);
  const base: ForceFieldSpec = {
    name: parameter.name,
    fullName,
    label: parameter.label,
    tablabel: parameter.tablabel,
    type: BUILDBOT_TYPES[parameter.type],
    default: parameter.type === 'nested' ? '' : parameter.default,
    required: parameter.required,
    multiple: parameter.type === 'choice' ? parameter.multiple : false,
    regex: parameter.type === 'string' || parameter.type === 'text' ? parameter.regex : null,
    hide: parameter.hide,
    maxsize: parameter.type === 'string' || parameter.type === 'text' ? parameter.maxsize : null,
    autopopulate: null,
  };
  switch (parameter.type) {
    case 'string':
      return { ...base, size: parameter.size };
    case 'text':
      return { ...base, size: 10, cols: parameter.cols, rows: parameter.rows };
    case 'int':
      return { ...base, size: 10 };
    case 'choice':
      return { ...base, choices: parameter.choices, strict: parameter.strict };
    case 'nested':
      return {
        ...base,
        layout: parameter.layout,
        columns: parameter.columns,
        fields: parameter.fields.map((field) => spec(field, fullName)),
      };
    case 'bool':
    case 'fixed':
      return base;
  }
}

const USERNAME: ForceParameter = {
  type: 'string',
  name: 'username',
  label: 'Your name:',
  tablabel: 'Your name:',
  required: false,
  hide: false,
  default: '',
  regex: null,
  maxsize: null,
  size: 30,
};

function isMissing(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** Checks one leaf value; pushes `fullName: message` problems. */
function parseValue(
  parameter: Exclude<ForceParameter, { type: 'nested' }>,
  fullName: string,
  raw: unknown,
  problems: string[],
): JsonValue | undefined {
  const fail = (message: string) => {
    problems.push(`${fullName}: ${message}`);
    return undefined;
  };
  if (parameter.type === 'fixed') return parameter.default;
  if (parameter.type === 'bool') {
    if (raw === undefined || raw === null || raw === '') return parameter.default;
    if (raw === true || raw === 'true' || raw === 1 || raw === 'on') return true;
    if (raw === false || raw === 'false' || raw === 0 || raw === 'off') return false;
    return fail(`expected true or false, got ${JSON.stringify(raw)}`);
  }
  if (isMissing(raw)) {
    if (parameter.required) return fail(`'${parameter.label}' needs to be specified`);
    return parameter.default;
  }
  switch (parameter.type) {
    case 'int': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)
            ? Number(raw)
            : NaN;
      if (!Number.isSafeInteger(n)) return fail(`expected an integer, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'string':
    case 'text': {
      if (typeof raw !== 'string') return fail(`expected a string, got ${JSON.stringify(raw)}`);
      if (parameter.regex !== null && !startMatcher(parameter.regex).test(raw)) {
        return fail(`'${raw}' does not match pattern '${parameter.regex}'`);
      }
      if (parameter.maxsize !== null && raw.length > parameter.maxsize) {
        return fail(`is too large ${raw.length} > ${parameter.maxsize}`);
      }
      return raw;
    }
    case 'choice': {
      const values = Array.isArray(raw) ? raw : [raw];
      if (!parameter.multiple && values.length > 1) return fail('choose one value');
      if (values.some((v) => typeof v !== 'string')) {
        return fail(
          `expected ${parameter.multiple ? 'a list of choices' : 'a choice'}, got ${JSON.stringify(raw)}`,
        );
      }
      const strings = values as string[];
      const outside = strings.filter((v) => !parameter.choices.includes(v));
      if (parameter.strict && outside.length > 0) {
        return fail(
          `'${outside[0]}' does not belong to list of available choices '${parameter.choices.join("', '")}'`,
        );
      }
      return parameter.multiple ? strings : (strings[0] ?? '');
    }
  }
}

/**
 * The values of a group's fields: name → value (a nested group with a name gives an
 * object; a nameless one spreads its fields into the parent's).
 */
function collect(
  fields: ForceParameter[],
  parent: string,
  params: Record<string, unknown>,
  problems: string[],
): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const field of fields) {
    const fullName = fullNameOf(parent, field.name);
    if (field.type === 'nested') {
      const values = collect(field.fields, fullName, params, problems);
      if (field.name === '') Object.assign(out, values);
      else out[field.name] = { ...(out[field.name] as Record<string, JsonValue>), ...values };
      continue;
    }
    const value = parseValue(field, fullName, params[fullName], problems);
    if (value !== undefined) out[field.name] = value;
  }
  return out;
}

export class ForceScheduler {
  constructor(
    readonly config: ForceSchedulerConfig,
    private readonly data: DataApi,
  ) {}

  get name(): string {
    return this.config.name;
  }

  private reasonField(): ForceParameter {
    return {
      type: 'string',
      name: 'reason',
      label: 'reason',
      tablabel: 'reason',
      required: false,
      hide: false,
      default: this.config.reason,
      regex: null,
      maxsize: null,
      size: 20,
    };
  }

  /** The codebase groups as nested parameters (name = codebase). */
  private codebaseGroups(): ForceParameter[] {
    return this.config.codebases.map((codebase) => ({
      type: 'nested',
      name: codebase.codebase,
      label: codebase.label,
      tablabel: codebase.label,
      required: false,
      hide: false,
      layout: 'vertical',
      columns: codebase.fields.filter((f) => !f.hide).length >= 4 ? 2 : 1,
      fields: codebase.fields,
    }));
  }

  describe(): ForceSchedulerDescription {
    const identity: ForceParameter = {
      type: 'nested',
      name: '',
      label: '',
      tablabel: '',
      required: false,
      hide: false,
      layout: 'vertical',
      columns: 1,
      fields: [USERNAME, this.reasonField()],
    };
    return {
      name: this.config.name,
      label: this.config.label,
      builder_names: this.config.builderNames,
      button_name: this.config.buttonName,
      all_fields: [identity, ...this.codebaseGroups(), ...this.config.properties].map((p) =>
        spec(p, ''),
      ),
    };
  }

  async force(params: Record<string, unknown>, owner: string | null): Promise<ForceResult> {
    const problems: string[] = [];
    const builderids = await this.targetBuilders(params, problems);
    const identity = collect([USERNAME, this.reasonField()], '', params, problems);
    const reasonText = typeof identity.reason === 'string' ? identity.reason : this.config.reason;
    const username = typeof identity.username === 'string' ? identity.username : '';
    const who = owner !== null && owner !== 'anonymous' ? owner : username || 'anonymous';
    const sourcestamps: SourceStampInput[] = [];
    for (const group of this.codebaseGroups()) {
      if (group.type !== 'nested') continue;
      const values = collect(group.fields, group.name, params, problems);
      const text = (name: string): string => (typeof values[name] === 'string' ? values[name] : '');
      sourcestamps.push({
        codebase: group.name,
        branch: text('branch') || null,
        revision: text('revision') || null,
        repository: text('repository'),
        project: text('project'),
      });
    }
    const values = collect(this.config.properties, '', params, problems);
    if (problems.length > 0) {
      throw new BadRequestError(
        `force scheduler "${this.name}" refused the request: ${problems.join('; ')}`,
        'invalid_params',
      );
    }
    const properties: PropertyMap = {};
    for (const [name, value] of Object.entries(values)) properties[name] = [value, SOURCE];
    properties.reason = [reasonText, SOURCE];
    properties.owner = [who, SOURCE];
    properties.scheduler = [this.name, 'Scheduler'];
    const reason = this.config.reasonString
      .replaceAll('%(owner)s', who)
      .replaceAll('%(reason)s', reasonText);
    const { buildsetid, brids } = await this.data.buildsets.add({
      reason,
      sourcestamps,
      properties,
      builderids,
    });
    return { buildsetid, buildrequestids: brids };
  }

  private async targetBuilders(
    params: Record<string, unknown>,
    problems: string[],
  ): Promise<number[]> {
    // One listing for all of them (each builders.get lists every builder).
    const all = await this.data.builders.list();
    const mine = this.config.builderNames
      .map((name) => all.find((b) => b.name === name))
      .filter((b) => b !== undefined);
    const list = mine.map((b) => `${b.name} (${b.builderid})`).join(', ');
    if (params.builderid !== undefined) {
      const id = typeof params.builderid === 'string' ? Number(params.builderid) : params.builderid;
      const builder = mine.find((b) => b.builderid === id);
      if (!builder) {
        problems.push(
          `builderid: ${JSON.stringify(params.builderid)} is not a builder of this scheduler (possible: ${list})`,
        );
        return [];
      }
      return [builder.builderid];
    }
    if (params.builderNames !== undefined) {
      const names = params.builderNames;
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
        problems.push('builderNames: expected a list of builder names');
        return [];
      }
      const ids: number[] = [];
      for (const name of names as string[]) {
        const builder = mine.find((b) => b.name === name);
        if (!builder)
          problems.push(
            `builderNames: "${name}" is not a builder of this scheduler (possible: ${list})`,
          );
        else ids.push(builder.builderid);
      }
      if (ids.length === 0 && problems.length === 0)
        problems.push('builderNames: choose at least one builder');
      return ids;
    }
    return mine.map((b) => b.builderid);
  }
}
