/**
 * `trigger` (Buildbot's `Trigger` step): starts buildsets through `triggerable`
 * schedulers, with this build's source stamps (`got_revision` as the revision when
 * `updateSourceStamp`), none (`alwaysUseLatest`) or explicit ones, and the properties of
 * `setProperties` / `copyProperties` (source `Trigger`); the buildsets point back to this
 * build (`parent_buildid`, "Triggered from").
 *
 * With `waitForFinish` it waits for every triggered buildset (the database is the truth:
 * another master may run them) and takes the worst result of the important ones; a build
 * stopped meanwhile cancels the requests it triggered and ends CANCELLED. Each request
 * gets a link on the step at once, each finished build one more.
 */
import type { BuildStepConfigBase, TriggerStepConfig } from '../config/types.js';
import type { PropertyMap, SourceStampInput } from '../data/buildsets.js';
import { Results, resultName, worstResult, type Result } from '../results.js';
import { BuildStep, type StepFlags, type StepRuntime } from './build-step.js';
import { renderValueAsync } from './renderables.js';

/** What a trigger step needs of the master: its triggerable schedulers and the data. */
export interface TriggerServices {
  /** Adds the buildset through the triggerable scheduler `name`; undefined: no such scheduler. */
  trigger(
    name: string,
    request: {
      waitedFor: boolean;
      sourcestamps: SourceStampInput[];
      properties: PropertyMap;
      parentBuildid: number;
      parentRelationship: string;
    },
  ): Promise<{ buildsetid: number; brids: Record<number, number> } | undefined>;
  /** Resolves with the buildset's result; rejects when `signal` aborts. */
  waitForBuildset(buildsetid: number, signal: AbortSignal): Promise<Result>;
  /** Cancels a triggered request (pending: CANCELLED; running: its build is stopped). */
  cancelBuildRequest(buildrequestid: number, reason: string): Promise<void>;
  /** The builds of a request, for links. */
  buildsOf(
    buildrequestid: number,
  ): Promise<{ builderid: number; builderName: string; number: number; results: number | null }[]>;
}

export type TriggerOptions = Omit<TriggerStepConfig, keyof BuildStepConfigBase | 'type'>;

export class TriggerStep extends BuildStep {
  private triggered: string[] = [];
  private results: Result[] = [];
  private interrupted = false;

  constructor(
    name: string,
    flags: StepFlags,
    readonly options: TriggerOptions & {
      description: string | null;
      descriptionDone: string | null;
    },
  ) {
    super(name, flags);
  }

  describe(done: boolean): string {
    const custom = done ? this.options.descriptionDone : this.options.description;
    if (custom) return custom;
    if (this.interrupted) return 'interrupted';
    if (this.triggered.length === 0) return done ? 'triggered nothing' : 'running';
    let summary = `triggered ${this.triggered.join(', ')}`;
    for (const result of [...new Set(this.results)].sort((a, b) => a - b)) {
      const count = this.results.filter((r) => r === result).length;
      summary += `, ${count} ${resultName(result).toLowerCase()}`;
    }
    return summary;
  }

  /** The source stamps to trigger with (Buildbot's `prepareSourcestampListForTrigger`). */
  private sourcestamps(runtime: StepRuntime): SourceStampInput[] {
    const o = this.options;
    if (o.sourceStamps.length > 0) {
      return [...o.sourceStamps].sort((a, b) => (a.codebase < b.codebase ? -1 : 1));
    }
    if (o.alwaysUseLatest) return [];
    const byCodebase = new Map<string, SourceStampInput>();
    for (const ss of runtime.sourcestamps) {
      byCodebase.set(ss.codebase, {
        codebase: ss.codebase,
        repository: ss.repository,
        branch: ss.branch,
        revision: ss.revision,
        project: ss.project,
      });
    }
    if (o.updateSourceStamp) {
      const got = runtime.getProperty('got_revision');
      const revisions: Record<string, unknown> =
        got !== null && typeof got === 'object' && !Array.isArray(got)
          ? (got as Record<string, unknown>)
          : got === undefined || got === null
            ? {}
            : { '': got };
      for (const [codebase, ss] of byCodebase) {
        const revision = revisions[codebase];
        if (typeof revision === 'string' && revision !== '') ss.revision = revision;
      }
    }
    return [...byCodebase.values()].sort((a, b) =>
      (a.codebase ?? '') < (b.codebase ?? '') ? -1 : 1,
    );
  }

  async run(runtime: StepRuntime): Promise<Result> {
    const o = this.options;
    const services = runtime.triggers;
    const log = await runtime.addLog('trigger', 't');
    const fail = async (message: string): Promise<Result> => {
      log.addStdout(`${message}\n`);
      await log.flush();
      return Results.EXCEPTION;
    };
    if (!services) return fail('this master has no triggerable schedulers');

    const properties: PropertyMap = {};
    for (const name of o.copyProperties) {
      const value = runtime.getProperty(name);
      if (value !== undefined) properties[name] = [value, 'Trigger'];
    }
    for (const [name, value] of Object.entries(o.setProperties)) {
      properties[name] = [(await renderValueAsync(value, runtime)) ?? null, 'Trigger'];
    }
    const sourcestamps = this.sourcestamps(runtime);

    const abort = new AbortController();
    const brids: number[] = [];
    const unwatch = runtime.onStop((reason) => {
      this.interrupted = true;
      abort.abort(new Error(reason));
      for (const brid of brids) {
        services
          .cancelBuildRequest(brid, 'parent build was interrupted')
          .catch((error: unknown) =>
            log.addStdout(`cancelling build request ${brid} failed: ${String(error)}\n`),
          );
      }
    });
    try {
      const waits: { scheduler: string; buildsetid: number; brids: number[] }[] = [];
      let result: Result = Results.SUCCESS;
      for (const scheduler of o.schedulerNames) {
        if (this.interrupted) return Results.CANCELLED;
        let added: { buildsetid: number; brids: Record<number, number> } | undefined;
        try {
          added = await services.trigger(scheduler, {
            waitedFor: o.waitForFinish,
            sourcestamps,
            properties,
            parentBuildid: runtime.buildid,
            parentRelationship: o.parentRelationship,
          });
        } catch (error) {
          log.addStdout(
            `triggering ${scheduler} failed: ${error instanceof Error ? error.message : String(error)}\n`,
          );
          result = Results.EXCEPTION;
          continue;
        }
        if (!added)
          return fail(`unknown triggered scheduler: "${scheduler}" (not a triggerable scheduler)`);
        const requestIds = Object.values(added.brids);
        brids.push(...requestIds);
        for (const brid of requestIds) {
          await runtime.addUrl(`${scheduler} #${brid}`, `/buildrequests/${brid}`);
        }
        this.triggered.push(scheduler);
        log.addStdout(
          `triggered ${scheduler}: buildset ${added.buildsetid}, build requests ${requestIds.join(', ')}\n`,
        );
        waits.push({ scheduler, buildsetid: added.buildsetid, brids: requestIds });
      }
      await runtime.setState(this.describe(false));
      if (!o.waitForFinish) {
        await log.flush();
        return result;
      }
      for (const wait of waits) {
        let buildsetResult: Result;
        try {
          buildsetResult = await services.waitForBuildset(wait.buildsetid, abort.signal);
        } catch (error) {
          if (this.interrupted) return Results.CANCELLED;
          log.addStdout(`waiting for ${wait.scheduler} failed: ${String(error)}\n`);
          result = worstResult(result, Results.EXCEPTION);
          continue;
        }
        for (const brid of wait.brids) {
          for (const build of await services.buildsOf(brid)) {
            if (build.results !== null) this.results.push(build.results as Result);
            await runtime.addUrl(
              `${resultName(build.results ?? Results.SUCCESS)}: ${build.builderName} #${build.number}`,
              `/builders/${build.builderid}/builds/${build.number}`,
            );
          }
        }
        if (!o.unimportantSchedulerNames.includes(wait.scheduler)) {
          result = worstResult(result, buildsetResult);
        }
        await runtime.setState(this.describe(false));
      }
      await log.flush();
      return result;
    } finally {
      unwatch();
    }
  }
}
