/**
 * `triggerable` (Buildbot's `Triggerable`): starts a buildset when a `trigger` step asks,
 * with the step's source stamps and properties, and tells the step when it completes.
 *
 * Not a singleton: every master has it, so a build triggers through its own master. The
 * wait is on the database, not on this process: `buildsets/<id>/complete` wakes it, the
 * buildset row is the truth (checked after subscribing, and every `pollMs`), so a
 * triggered build that runs on another master, or completes before the wait starts, is
 * still seen. An aborted wait (the parent build was stopped) rejects with the signal's
 * reason.
 */
import type { TriggerableSchedulerConfig } from '../config/change-types.js';
import type { PropertyMap, SourceStampInput } from '../data/buildsets.js';
import type { DataApi } from '../data/data-api.js';
import type { Result } from '../results.js';
import { BaseScheduler, type AddedBuildset, type SchedulerDeps } from './base-scheduler.js';

export interface TriggerRequest {
  waitedFor: boolean;
  sourcestamps: SourceStampInput[];
  /** Properties set by the step (source `Trigger`); `reason` among them is the reason. */
  properties: PropertyMap;
  parentBuildid: number | null;
  parentRelationship: string | null;
}

export class TriggerableScheduler extends BaseScheduler {
  constructor(
    override readonly config: TriggerableSchedulerConfig,
    deps: SchedulerDeps,
  ) {
    super(config, deps);
  }

  /** Adds the buildset; `waitForBuildset` then waits for its result. */
  async trigger(request: TriggerRequest): Promise<AddedBuildset> {
    const reasonProperty = request.properties.reason?.[0];
    const reason =
      (typeof reasonProperty === 'string' ? reasonProperty : null) ??
      this.config.reason ??
      `The Triggerable scheduler named '${this.name}' triggered this build`;
    return this.addBuildsetForSourceStamps(
      reason,
      request.sourcestamps,
      {},
      {
        properties: request.properties,
        waitedFor: request.waitedFor,
        parentBuildid: request.parentBuildid,
        parentRelationship: request.parentRelationship,
      },
    );
  }
}

/**
 * Resolves with the buildset's result once it completes; rejects when `signal` aborts.
 * Reads the row after subscribing (no completion is missed) and every `pollMs`.
 */
export async function waitForBuildset(
  data: DataApi,
  buildsetid: number,
  signal: AbortSignal,
  pollMs = 5_000,
): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (outcome: { result: Result } | { error: unknown }) => {
      if (done) return;
      done = true;
      subscription.unsubscribe();
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if ('result' in outcome) resolve(outcome.result);
      else
        reject(outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)));
    };
    const check = async () => {
      if (done) return;
      try {
        const buildset = await data.buildsets.get(buildsetid);
        if (buildset?.complete) finish({ result: (buildset.results ?? 0) as Result });
      } catch {
        // A database blip: the next poll or event reads again.
      }
    };
    const onAbort = () => finish({ error: signal.reason ?? new Error('aborted') });
    const subscription = data.bus.subscribe(['buildsets', String(buildsetid), 'complete'], () => {
      void check();
    });
    const poll = () => {
      timer = setTimeout(() => {
        void check().finally(() => {
          if (!done) poll();
        });
      }, pollMs);
      timer.unref();
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort);
    poll();
    void check();
  });
}
