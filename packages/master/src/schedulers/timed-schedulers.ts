/**
 * `periodic` and `nightly` (Buildbot's timed schedulers): a buildset every
 * `periodicBuildTimer`, or at the times of a cron schedule.
 *
 * State (object state, kept across restarts and masters): `last_build`, when it last
 * fired (epoch ms), written in the transaction of the buildset it starts (compare-and-set,
 * so a firing is never acted on twice); `last_only_if_changed`. The next time is
 * computed from `last_build`: a master that was down past a firing builds once, at once
 * (Buildbot's "missed scheduled build time"), then keeps to the schedule.
 *
 * With `onlyIfChanged` it also reads changes (on its branch, through its change filter)
 * and classifies them; a firing with no important change since the last build is skipped
 * (except the first firing after `onlyIfChanged` is turned on). A firing builds the
 * classified changes, or the codebases' defaults when there are none.
 *
 * Runs on one master at a time (singleton `scheduler:<name>`). States: stopped → active
 * (one timer armed for the next firing) → stopped.
 */
import type { NightlySchedulerConfig, PeriodicSchedulerConfig } from '../config/change-types.js';
import type { ChangeEntity } from '../data/changes.js';
import { StateConflictError, type StateUpdate } from '../data/state.js';
import type { SchedulerDeps } from './base-scheduler.js';
import { ChangeConsumer } from './change-consumer.js';
import { filterChange, isImportant } from './change-filter.js';
import type { TimerHandle } from './clock.js';
import { ServiceScheduler } from './service-scheduler.js';
import { nextCronTime, parseCron, type CronSchedule } from './cron.js';

export type TimedConfig = PeriodicSchedulerConfig | NightlySchedulerConfig;

export class TimedScheduler extends ServiceScheduler {
  private consumer: ChangeConsumer | null = null;
  private timer: TimerHandle | null = null;
  private lastActuated: number | null = null;
  private readonly cron: CronSchedule | null;
  /** When the armed timer fires (epoch ms), for tests and the API. */
  nextBuildAt: number | null = null;

  constructor(
    override readonly config: TimedConfig,
    deps: SchedulerDeps,
    private readonly consumerOptions: { pollMs?: number; gapWaitMs?: number } = {},
  ) {
    super(config, deps);
    this.cron = config.type === 'nightly' ? parseCron(config.cron) : null;
  }

  get className(): string {
    return this.config.type === 'nightly' ? 'Nightly' : 'Periodic';
  }

  async activate(): Promise<void> {
    const { data } = this.deps;
    await this.loadObjectId();
    this.active = true;
    const last = await data.state.get(this.objectid, 'last_build');
    this.lastActuated = typeof last === 'number' ? last : null;
    await this.queue.run(async () => this.scheduleNext());
    if (this.config.onlyIfChanged) {
      this.consumer = new ChangeConsumer(
        this.deps,
        this.objectid,
        this.queue,
        (change, update) => this.gotChange(change, update),
        `scheduler ${this.name}`,
        this.consumerOptions,
      );
      await this.consumer.start();
    } else {
      await data.schedulers.flush(this.objectid);
    }
  }

  async deactivate(): Promise<void> {
    this.active = false;
    await this.consumer?.stop();
    this.consumer = null;
    this.timer?.cancel();
    this.timer = null;
    this.nextBuildAt = null;
    await this.queue.idle();
  }

  /** Waits until every change seen so far is classified (tests). */
  async settle(): Promise<void> {
    await this.consumer?.kick();
  }

  /** The next firing after `last` (null: never fired), before clamping to now. */
  nextBuildTime(last: number | null): number | null {
    const now = this.deps.clock.now();
    if (this.config.type === 'periodic') {
      return last === null ? now : last + this.config.periodicBuildTimer;
    }
    if (!this.cron) return null;
    return nextCronTime(this.cron, last ?? now, { utc: this.config.timezone === 'UTC' });
  }

  private scheduleNext(): void {
    this.timer?.cancel();
    this.timer = null;
    if (!this.active) return;
    const next = this.nextBuildTime(this.lastActuated);
    if (next === null) {
      this.nextBuildAt = null;
      return;
    }
    const now = this.deps.clock.now();
    const at = Math.max(next, now);
    if (at === now && next < now) {
      this.deps.log.info(
        { scheduler: this.name },
        `scheduler ${this.name}: missed scheduled build time - building immediately`,
      );
    }
    this.nextBuildAt = at;
    this.timer = this.deps.clock.setTimeout(() => {
      return this.queue
        .run(() => this.actuate(at))
        .catch((error: unknown) =>
          this.deps.log.error(
            { err: error, scheduler: this.name },
            `scheduler ${this.name}: starting a build failed`,
          ),
        );
    }, at - now);
  }

  private async actuate(at: number): Promise<void> {
    this.timer = null;
    if (!this.active) return;
    const previous = this.lastActuated;
    this.lastActuated = at;
    const update: StateUpdate = {
      objectid: this.objectid,
      name: 'last_build',
      expected: previous ?? undefined,
      value: at,
    };
    try {
      await this.startBuild(update);
    } catch (error) {
      if (error instanceof StateConflictError) {
        // Another run fired this time already: follow its state.
        const last = await this.deps.data.state.get(this.objectid, 'last_build');
        this.lastActuated = typeof last === 'number' ? last : at;
      } else {
        this.deps.log.error(
          { err: error, scheduler: this.name },
          `scheduler ${this.name}: starting a build failed; it tries again at its next time`,
        );
      }
    } finally {
      this.scheduleNext();
    }
  }

  private async startBuild(update: StateUpdate): Promise<void> {
    const { data } = this.deps;
    const classifications = await data.schedulers.classifications(this.objectid);
    const lastOnlyIfChanged =
      (await data.state.get(this.objectid, 'last_only_if_changed')) === true;
    if (
      lastOnlyIfChanged &&
      this.config.onlyIfChanged &&
      ![...classifications.values()].some((important) => important)
    ) {
      this.deps.log.info(
        { scheduler: this.name },
        `scheduler ${this.name}: skipping build - no important changes`,
      );
      await data.state.setIf(update);
      return;
    }
    if (lastOnlyIfChanged !== this.config.onlyIfChanged) {
      await data.state.set(this.objectid, 'last_only_if_changed', this.config.onlyIfChanged);
    }
    const changes: ChangeEntity[] = [];
    for (const changeid of classifications.keys()) {
      const change = await data.changes.get(changeid);
      if (change) changes.push(change);
    }
    if (changes.length > 0) {
      await this.addBuildsetForChanges(this.config.reason, changes, {
        state: update,
        flushClassified: { objectid: this.objectid, changeids: [...classifications.keys()] },
      });
    } else {
      await this.addBuildsetForSourceStamps(
        this.config.reason,
        Object.keys(this.config.codebases).map((codebase) => ({ codebase })),
        { state: update },
      );
    }
  }

  private async gotChange(change: ChangeEntity, update: StateUpdate): Promise<boolean> {
    const config = this.config;
    if (!filterChange(config.changeFilter, change)) return false;
    if (!(change.codebase in config.codebases)) return false;
    const important = isImportant(config.fileIsImportant, change);
    if (!important && config.onlyImportant) return false;
    await this.deps.data.schedulers.classify(
      this.objectid,
      [{ changeid: change.changeid, important }],
      update,
    );
    return true;
  }
}
