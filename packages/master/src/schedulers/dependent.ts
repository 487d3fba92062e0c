/**
 * `dependent` (Buildbot's `Dependent`): when a buildset of the `upstream` scheduler
 * completes with SUCCESS or WARNINGS, a buildset of this one's builders on the same
 * source stamps.
 *
 * Upstream buildsets are found in the database (their `scheduler` property), not only by
 * events, so none is missed while this scheduler moves between masters or restarts.
 * State (`upstream`): `after`, every upstream buildset up to it is handled, and `done`,
 * those above it handled already; each is moved in the transaction of the buildset it
 * starts (compare-and-set), so an upstream buildset starts at most one downstream one. A
 * first start begins after the newest buildset (history is not built).
 *
 * Runs on one master at a time (singleton `scheduler:<name>`). Wakes on
 * `buildsets/*\/complete`, at start, and every `pollMs`.
 */
import type { DependentSchedulerConfig } from '../config/change-types.js';
import { StateConflictError, type StateUpdate } from '../data/state.js';
import type { Subscription } from '../mq/bus.js';
import { Results } from '../results.js';
import type { SchedulerDeps } from './base-scheduler.js';
import type { TimerHandle } from './clock.js';
import { ServiceScheduler } from './service-scheduler.js';

interface UpstreamState {
  after: number;
  done: number[];
}

const STATE = 'upstream';

export class DependentScheduler extends ServiceScheduler {
  private subscription: Subscription | null = null;
  private poll: TimerHandle | null = null;

  constructor(
    override readonly config: DependentSchedulerConfig,
    deps: SchedulerDeps,
    private readonly pollMs = 30_000,
  ) {
    super(config, deps);
  }

  get className(): string {
    return 'Dependent';
  }

  async activate(): Promise<void> {
    const { data } = this.deps;
    await this.loadObjectId();
    if ((await data.state.get(this.objectid, STATE)) === undefined) {
      const initial: UpstreamState = { after: await data.schedulers.lastBuildsetid(), done: [] };
      await data.state
        .setIf({ objectid: this.objectid, name: STATE, expected: undefined, value: initial })
        .catch((error: unknown) => {
          if (!(error instanceof StateConflictError)) throw error;
        });
    }
    this.active = true;
    this.subscription = data.bus.subscribe(['buildsets', '*', 'complete'], () => {
      void this.check();
    });
    this.schedulePoll();
    await this.check();
  }

  async deactivate(): Promise<void> {
    this.active = false;
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.poll?.cancel();
    this.poll = null;
    await this.queue.idle();
  }

  /** Looks for completed upstream buildsets; resolves when done (tests await it). */
  check(): Promise<void> {
    return this.queue.run(async () => {
      if (!this.active) return;
      try {
        await this.pass();
      } catch (error) {
        this.deps.log.warn(
          { err: error, scheduler: this.name },
          `scheduler ${this.name}: checking upstream buildsets failed; trying again shortly`,
        );
      }
    });
  }

  private schedulePoll(): void {
    this.poll = this.deps.clock.setTimeout(() => {
      if (!this.active) return undefined;
      return this.check().finally(() => {
        if (this.active) this.schedulePoll();
      });
    }, this.pollMs);
  }

  private async readState(): Promise<UpstreamState> {
    const stored = (await this.deps.data.state.get(this.objectid, STATE)) as
      Partial<UpstreamState> | undefined;
    return {
      after: typeof stored?.after === 'number' ? stored.after : 0,
      done: Array.isArray(stored?.done) ? stored.done.filter((n) => typeof n === 'number') : [],
    };
  }

  private async pass(): Promise<void> {
    const { data } = this.deps;
    let state = await this.readState();
    const upstream = await data.schedulers.buildsetsOf(this.config.upstream, state.after);
    for (const buildset of upstream) {
      const handled = buildset.bsid <= state.after || state.done.includes(buildset.bsid);
      if (!buildset.complete || handled) continue;
      const next = compact({ after: state.after, done: [...state.done, buildset.bsid] }, upstream);
      const update: StateUpdate = {
        objectid: this.objectid,
        name: STATE,
        expected: state,
        value: next,
      };
      try {
        if (buildset.results === Results.SUCCESS || buildset.results === Results.WARNINGS) {
          await this.addBuildsetForExistingStamps('downstream', buildset.ssids, {
            state: update,
          });
        } else {
          await data.state.setIf(update);
        }
      } catch (error) {
        if (error instanceof StateConflictError) return;
        throw error;
      }
      state = next;
    }
  }
}

/** Moves `after` over the leading handled buildsets, so `done` stays short. */
function compact(state: UpstreamState, upstream: { bsid: number }[]): UpstreamState {
  let after = state.after;
  const done = new Set(state.done);
  for (const { bsid } of upstream) {
    if (bsid <= after) continue;
    if (!done.has(bsid)) break;
    after = bsid;
    done.delete(bsid);
  }
  return { after, done: [...done].sort((a, b) => a - b) };
}
