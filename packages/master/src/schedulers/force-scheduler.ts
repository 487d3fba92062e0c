/**
 * The force scheduler: turns a validated force request (the web form or a JSON-RPC
 * `force` call) into a buildset with one build request per chosen builder.
 * Parameters are checked on the server; unknown parameters are ignored, as Buildbot does.
 */
import type { ForceSchedulerConfig } from '../config/types.js';
import type { DataApi } from '../data/data-api.js';
import type { PropertyMap } from '../data/buildsets.js';
import { BadRequestError } from '../errors.js';
import type { ForceResult, ForceSchedulerDescription } from '../api/control.js';

const SOURCE = 'Force Build Form';

function optionalString(
  params: Record<string, unknown>,
  name: string,
  problems: string[],
): string | null {
  const value = params[name];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') {
    problems.push(`${name}: expected a string, got ${JSON.stringify(value)}`);
    return null;
  }
  return value;
}

export class ForceScheduler {
  constructor(
    readonly config: ForceSchedulerConfig,
    private readonly data: DataApi,
  ) {}

  get name(): string {
    return this.config.name;
  }

  describe(): ForceSchedulerDescription {
    const fields = [
      {
        name: 'reason',
        fullName: 'reason',
        label: 'reason',
        type: 'text',
        default: this.config.reason,
        required: false,
      },
      {
        name: 'branch',
        fullName: 'branch',
        label: 'Branch',
        type: 'text',
        default: '',
        required: false,
      },
      {
        name: 'revision',
        fullName: 'revision',
        label: 'Revision',
        type: 'text',
        default: '',
        required: false,
      },
      ...this.config.properties.map((p) => ({
        name: p.name,
        fullName: p.name,
        label: p.label,
        type: p.type === 'string' ? 'text' : p.type,
        default: p.default,
        required: p.required,
      })),
    ];
    return {
      name: this.config.name,
      label: this.config.name,
      builder_names: this.config.builderNames,
      button_name: 'Start build',
      all_fields: fields,
    };
  }

  async force(params: Record<string, unknown>, owner: string | null): Promise<ForceResult> {
    const problems: string[] = [];
    const builderids = await this.targetBuilders(params, problems);
    const reasonText = optionalString(params, 'reason', problems) ?? this.config.reason;
    const branch = optionalString(params, 'branch', problems);
    const revision = optionalString(params, 'revision', problems);
    const repository = optionalString(params, 'repository', problems) ?? '';
    const project = optionalString(params, 'project', problems) ?? '';
    const properties: PropertyMap = {};
    for (const p of this.config.properties) {
      const raw = params[p.name];
      if (raw === undefined || raw === null || raw === '') {
        if (p.required) problems.push(`${p.name}: a value is required`);
        properties[p.name] = [p.default, SOURCE];
        continue;
      }
      switch (p.type) {
        case 'int': {
          const n =
            typeof raw === 'number'
              ? raw
              : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
                ? Number(raw)
                : NaN;
          if (!Number.isSafeInteger(n))
            problems.push(`${p.name}: expected an integer, got ${JSON.stringify(raw)}`);
          else properties[p.name] = [n, SOURCE];
          break;
        }
        case 'bool': {
          const b =
            raw === true || raw === 'true' || raw === 1
              ? true
              : raw === false || raw === 'false' || raw === 0
                ? false
                : null;
          if (b === null)
            problems.push(`${p.name}: expected true or false, got ${JSON.stringify(raw)}`);
          else properties[p.name] = [b, SOURCE];
          break;
        }
        case 'string':
          if (typeof raw !== 'string')
            problems.push(`${p.name}: expected a string, got ${JSON.stringify(raw)}`);
          else properties[p.name] = [raw, SOURCE];
          break;
      }
    }
    if (problems.length > 0) {
      throw new BadRequestError(
        `force scheduler "${this.name}" refused the request: ${problems.join('; ')}`,
        'invalid_params',
      );
    }
    const reason = `A build was forced by '${owner ?? 'anonymous'}': ${reasonText}`;
    properties.reason = [reasonText, SOURCE];
    properties.owner = [owner ?? 'anonymous', SOURCE];
    properties.scheduler = [this.name, 'Scheduler'];
    const { buildsetid, brids } = await this.data.buildsets.add({
      reason,
      sourcestamps: [{ branch, revision, repository, project, codebase: '' }],
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
