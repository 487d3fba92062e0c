/**
 * What every scheduler shares (Buildbot's `BaseScheduler`): its builders, properties and
 * codebases, and how it turns changes or source stamps into a buildset.
 *
 * Properties of a scheduler-made buildset, each with its source as Buildbot records it:
 * the scheduler's `properties` and `scheduler` (its name) from `Scheduler`, then the
 * properties of the changes built (`Change`, later changes winning), then those a caller
 * passes (a trigger step's, `Trigger`). Codebases: one source stamp per configured
 * codebase; a codebase with changes reuses the source stamp of its latest change (so
 * `/builds/N/changes` lists them), the others get the configured defaults.
 */
import type { BaseSchedulerConfig } from '../config/change-types.js';
import type { BuildsetAddOptions, PropertyMap, SourceStampInput } from '../data/buildsets.js';
import type { ChangeEntity } from '../data/changes.js';
import type { DataApi } from '../data/data-api.js';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';

export interface SchedulerDeps {
  data: DataApi;
  log: Logger;
  clock: Clock;
}

/** Where a buildset came from, beyond its changes or source stamps. */
export interface BuildsetExtras {
  /** Properties that win over the scheduler's and the changes' (name → [value, source]). */
  properties?: PropertyMap;
  waitedFor?: boolean;
  parentBuildid?: number | null;
  parentRelationship?: string | null;
  /** Only these builders (a subset of the scheduler's). */
  builderNames?: string[];
}

export interface AddedBuildset {
  buildsetid: number;
  /** builderid → build request id. */
  brids: Record<number, number>;
}

export abstract class BaseScheduler {
  constructor(
    readonly config: BaseSchedulerConfig,
    protected readonly deps: SchedulerDeps,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** The `properties` and `scheduler` properties, source `Scheduler`. */
  protected schedulerProperties(): PropertyMap {
    const properties: PropertyMap = {};
    for (const [name, value] of Object.entries(this.config.properties)) {
      properties[name] = [value, 'Scheduler'];
    }
    properties.scheduler = [this.name, 'Scheduler'];
    return properties;
  }

  /** Builder ids of these names (the scheduler's by default), in the builders' id order. */
  protected async builderids(names: string[] = this.config.builderNames): Promise<number[]> {
    const all = await this.deps.data.builders.list();
    const missing = names.filter((name) => !all.some((b) => b.name === name));
    if (missing.length > 0) {
      this.deps.log.warn(
        { scheduler: this.name, builders: missing },
        `scheduler ${this.name}: no builder ${missing.join(', ')} on this master; skipped`,
      );
    }
    return all.filter((b) => names.includes(b.name)).map((b) => b.builderid);
  }

  /** Buildbot's `addBuildsetForChanges`: one buildset for these changes (any codebases). */
  async addBuildsetForChanges(
    reason: string,
    changes: ChangeEntity[],
    options: BuildsetAddOptions = {},
    extras: BuildsetExtras = {},
  ): Promise<AddedBuildset> {
    const latest = new Map<string, ChangeEntity>();
    for (const change of changes) {
      const known = latest.get(change.codebase);
      if (!known || known.changeid < change.changeid) latest.set(change.codebase, change);
    }
    const sourcestamps: SourceStampInput[] = Object.keys(this.config.codebases)
      .sort()
      .map((codebase) => {
        const change = latest.get(codebase);
        return change ? { ssid: change.sourcestamp.ssid } : this.defaultStamp(codebase);
      });
    const properties = this.schedulerProperties();
    for (const change of [...changes].sort((a, b) => a.changeid - b.changeid)) {
      for (const [name, entry] of Object.entries(change.properties)) properties[name] = entry;
    }
    return this.add(reason, sourcestamps, properties, options, extras);
  }

  /**
   * Buildbot's `addBuildsetForSourceStampsWithDefaults`: the given stamps (by codebase)
   * over the configured defaults of each codebase, then any other codebase given.
   */
  async addBuildsetForSourceStamps(
    reason: string,
    stamps: SourceStampInput[],
    options: BuildsetAddOptions = {},
    extras: BuildsetExtras = {},
  ): Promise<AddedBuildset> {
    const byCodebase = new Map<string, SourceStampInput>();
    for (const stamp of stamps) byCodebase.set(stamp.codebase ?? '', stamp);
    const sourcestamps: SourceStampInput[] = Object.keys(this.config.codebases).map((codebase) => {
      const given = byCodebase.get(codebase);
      if (given?.ssid !== undefined) return { ssid: given.ssid };
      return { ...this.defaultStamp(codebase), ...withoutUndefined(given ?? {}), codebase };
    });
    for (const [codebase, stamp] of byCodebase) {
      if (codebase in this.config.codebases) continue;
      sourcestamps.push(
        stamp.ssid !== undefined
          ? { ssid: stamp.ssid }
          : {
              codebase,
              repository: stamp.repository ?? '',
              branch: stamp.branch ?? null,
              revision: stamp.revision ?? null,
              project: stamp.project ?? '',
            },
      );
    }
    return this.add(reason, sourcestamps, this.schedulerProperties(), options, extras);
  }

  /** Buildbot's `addBuildsetForSourceStamps` with source stamp ids (`dependent`). */
  async addBuildsetForExistingStamps(
    reason: string,
    ssids: number[],
    options: BuildsetAddOptions = {},
    extras: BuildsetExtras = {},
  ): Promise<AddedBuildset> {
    return this.add(
      reason,
      ssids.map((ssid) => ({ ssid })),
      this.schedulerProperties(),
      options,
      extras,
    );
  }

  private defaultStamp(codebase: string): SourceStampInput {
    const defaults = this.config.codebases[codebase];
    return {
      codebase,
      repository: defaults?.repository ?? '',
      branch: defaults?.branch ?? null,
      revision: defaults?.revision ?? null,
      project: '',
    };
  }

  private async add(
    reason: string,
    sourcestamps: SourceStampInput[],
    properties: PropertyMap,
    options: BuildsetAddOptions,
    extras: BuildsetExtras,
  ): Promise<AddedBuildset> {
    const names = extras.builderNames ?? this.config.builderNames;
    const builderids = await this.builderids(names);
    const { buildsetid, brids } = await this.deps.data.buildsets.add(
      {
        reason,
        sourcestamps,
        properties: { ...properties, ...extras.properties },
        builderids,
        priority: this.config.priority,
        waitedFor: extras.waitedFor ?? false,
        parentBuildid: extras.parentBuildid ?? null,
        parentRelationship: extras.parentRelationship ?? null,
      },
      options,
    );
    this.deps.log.info(
      { scheduler: this.name, buildsetid, builders: names },
      `scheduler ${this.name} started buildset ${buildsetid}: ${reason}`,
    );
    return { buildsetid, brids };
  }
}

function withoutUndefined(stamp: SourceStampInput): SourceStampInput {
  return Object.fromEntries(Object.entries(stamp).filter(([, value]) => value !== undefined));
}
