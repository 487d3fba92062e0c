/**
 * `singleBranchScheduler` and `anyBranchScheduler` (Buildbot's basic schedulers): a
 * buildset for the changes that pass the change filter.
 *
 * Without `treeStableTimer`, each important change gets its buildset at once (written
 * with the move of the scheduler's `last_changeid`, so exactly once). With it, changes
 * are classified (important or not) in `scheduler_changes`; an important change starts
 * the timer, any later change restarts a running one, and when it fires every classified
 * change (of that branch, for `anyBranch`) goes into one buildset, which forgets them in
 * the same transaction. Timers are kept in memory only: at start the classified changes
 * restart them, as Buildbot does, so a restart delays a build but never loses it.
 *
 * Runs on one master at a time (a singleton service `scheduler:<name>`). States:
 * stopped → active (consumer reading changes, timers armed) → stopped.
 */
import type { ChangeSchedulerConfig } from '../config/change-types.js';
import type { ChangeEntity } from '../data/changes.js';
import type { StateUpdate } from '../data/state.js';
import type { SchedulerDeps } from './base-scheduler.js';
import { ChangeConsumer } from './change-consumer.js';
import { filterChange, isImportant } from './change-filter.js';
import type { TimerHandle } from './clock.js';
import { ServiceScheduler } from './service-scheduler.js';

export type BasicSchedulerConfig = ChangeSchedulerConfig & { type: 'singleBranch' | 'anyBranch' };

export class BasicScheduler extends ServiceScheduler {
  private consumer: ChangeConsumer | null = null;
  private readonly timers = new Map<string, TimerHandle>();

  constructor(
    override readonly config: BasicSchedulerConfig,
    deps: SchedulerDeps,
    private readonly consumerOptions: { pollMs?: number; gapWaitMs?: number } = {},
  ) {
    super(config, deps);
  }

  get className(): string {
    return this.config.type === 'singleBranch' ? 'SingleBranchScheduler' : 'AnyBranchScheduler';
  }

  async activate(): Promise<void> {
    const { data } = this.deps;
    await this.loadObjectId();
    this.active = true;
    if (this.config.treeStableTimer !== null) {
      await this.queue.run(() => this.restartTimersFromClassified());
    } else {
      await data.schedulers.flush(this.objectid);
    }
    this.consumer = new ChangeConsumer(
      this.deps,
      this.objectid,
      this.queue,
      (change, update) => this.gotChange(change, update),
      `scheduler ${this.name}`,
      this.consumerOptions,
    );
    await this.consumer.start();
  }

  async deactivate(): Promise<void> {
    this.active = false;
    await this.consumer?.stop();
    this.consumer = null;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    await this.queue.idle();
  }

  /** Waits until every change seen so far is handled (tests). */
  async settle(): Promise<void> {
    await this.consumer?.kick();
  }

  private timerName(change: ChangeEntity): string {
    return this.config.type === 'singleBranch'
      ? 'only'
      : JSON.stringify([change.codebase, change.project, change.repository, change.branch]);
  }

  private async gotChange(change: ChangeEntity, update: StateUpdate): Promise<boolean> {
    const config = this.config;
    if (!filterChange(config.changeFilter, change)) return false;
    if (!(change.codebase in config.codebases)) {
      this.deps.log.info(
        { scheduler: this.name, changeid: change.changeid },
        `scheduler ${this.name}: change ${change.changeid} is of codebase "${change.codebase}", which it does not build`,
      );
      return false;
    }
    const important = isImportant(config.fileIsImportant, change);
    if (!important && config.onlyImportant) return false;
    if (config.treeStableTimer === null) {
      if (!important) return false;
      await this.addBuildsetForChanges(config.reason, [change], { state: update });
      return true;
    }
    await this.deps.data.schedulers.classify(
      this.objectid,
      [{ changeid: change.changeid, important }],
      update,
    );
    const name = this.timerName(change);
    if (important || this.timers.has(name)) this.armTimer(name);
    return true;
  }

  private armTimer(name: string): void {
    const delay = this.config.treeStableTimer;
    if (delay === null || !this.active) return;
    this.timers.get(name)?.cancel();
    this.timers.set(
      name,
      this.deps.clock.setTimeout(() => {
        return this.queue
          .run(() => this.stableTimerFired(name))
          .catch((error: unknown) =>
            this.deps.log.error(
              { err: error, scheduler: this.name },
              `scheduler ${this.name}: starting the builds of the stable tree failed; they start with the next change or restart`,
            ),
          );
      }, delay),
    );
  }

  /** Classified changes (with their timer names), oldest first. */
  private async classified(): Promise<{ change: ChangeEntity; important: boolean }[]> {
    const classifications = await this.deps.data.schedulers.classifications(this.objectid);
    const out: { change: ChangeEntity; important: boolean }[] = [];
    for (const [changeid, important] of classifications) {
      const change = await this.deps.data.changes.get(changeid);
      if (change) out.push({ change, important });
    }
    return out;
  }

  private async restartTimersFromClassified(): Promise<void> {
    const names = new Set<string>();
    for (const { change, important } of await this.classified()) {
      const name = this.timerName(change);
      if (important || names.has(name)) names.add(name);
    }
    for (const name of names) this.armTimer(name);
  }

  private async stableTimerFired(name: string): Promise<void> {
    if (!this.timers.delete(name) || !this.active) return;
    const changes = (await this.classified())
      .map((c) => c.change)
      .filter((change) => this.timerName(change) === name);
    if (changes.length === 0) return;
    await this.addBuildsetForChanges(this.config.reason, changes, {
      flushClassified: { objectid: this.objectid, changeids: changes.map((c) => c.changeid) },
    });
  }
}
