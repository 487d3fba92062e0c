/**
 * The master's change sources and schedulers other than the force scheduler (which the
 * master keeps itself): builds them from the config, hands the singleton ones to
 * `SingletonServices`, and serves the `trigger` steps.
 *
 * Singletons: every change source (`changesource:<name>`) and every scheduler that reads
 * changes or time (`scheduler:<name>`: single-branch, any-branch, periodic, nightly,
 * dependent) runs on one master at a time. Each is registered as a slot whose service
 * stays the same object across reloads; a reload that changes its config stops the old
 * instance and starts the new one if the slot runs here (a slot's start, stop and
 * replacement run one at a time). Triggerable schedulers run on every master: a build
 * triggers through its own.
 */
import type { ChangeSourceConfig, MasterConfig, SchedulerConfig } from '../config/types.js';
import type { DataApi } from '../data/data-api.js';
import type { Logger } from '../logger.js';
import type { SingletonService } from '../process/singleton-services.js';
import type { TriggerServices } from '../steps/trigger.js';
import { GitPoller } from '../changes/git-poller.js';
import { BasicScheduler } from './basic-schedulers.js';
import { SerialQueue } from './change-consumer.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { DependentScheduler } from './dependent.js';
import { TimedScheduler } from './timed-schedulers.js';
import { TriggerableScheduler, waitForBuildset } from './triggerable.js';

interface Activatable {
  activate(): Promise<void>;
  deactivate(): Promise<void>;
}

/**
 * A singleton service whose instance a reload may replace. An activation that fails (the
 * database is unreachable) is retried every 5 s while the slot should run, since the
 * lease is still held here and no other master would run it.
 */
class Slot implements SingletonService {
  private running = false;
  private active = false;
  private retry: TimerHandle | null = null;
  private readonly queue = new SerialQueue();

  constructor(
    readonly name: string,
    public instance: Activatable,
    public key: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    return this.queue.run(async () => {
      this.running = true;
      await this.activate();
    });
  }

  stop(): Promise<void> {
    return this.queue.run(async () => {
      this.running = false;
      this.retry?.cancel();
      this.retry = null;
      if (!this.active) return;
      this.active = false;
      await this.instance.deactivate();
    });
  }

  replace(instance: Activatable, key: string): Promise<void> {
    return this.queue.run(async () => {
      if (this.active) {
        this.active = false;
        await this.instance.deactivate();
      }
      this.instance = instance;
      this.key = key;
      if (this.running) await this.activate();
    });
  }

  private async activate(): Promise<void> {
    if (this.active || !this.running) return;
    try {
      await this.instance.activate();
      this.active = true;
    } catch (error) {
      this.log.error(
        { err: error, service: this.name },
        `${this.name} could not start; trying again in 5 s`,
      );
      await this.instance.deactivate().catch(() => undefined);
      this.retry?.cancel();
      this.retry = this.clock.setTimeout(() => this.queue.run(() => this.activate()), 5_000);
    }
  }
}

export interface SchedulerManagerDeps {
  data: DataApi;
  log: Logger;
  basedir: string;
  clock?: Clock;
  /** Cancels a build request (a stopped parent build cancels what it triggered). */
  cancelBuildRequest(buildrequestid: number, reason: string): Promise<void>;
}

export class SchedulerManager {
  private readonly slots = new Map<string, Slot>();
  private triggerables = new Map<string, TriggerableScheduler>();
  private pollers = new Map<string, GitPoller>();
  private readonly clock: Clock;

  constructor(private readonly deps: SchedulerManagerDeps) {
    this.clock = deps.clock ?? systemClock();
  }

  /** What `trigger` steps use: this master's triggerable schedulers. */
  readonly triggers: TriggerServices = {
    trigger: async (name, request) => {
      const scheduler = this.triggerables.get(name);
      return scheduler ? scheduler.trigger(request) : undefined;
    },
    waitForBuildset: (buildsetid, signal) => waitForBuildset(this.deps.data, buildsetid, signal),
    cancelBuildRequest: (buildrequestid, reason) =>
      this.deps.cancelBuildRequest(buildrequestid, reason),
    buildsOf: async (buildrequestid) => {
      const { data } = this.deps;
      const [builders, builds] = await Promise.all([
        data.builders.list(),
        data.builds.list(
          { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
          { buildrequestid },
        ),
      ]);
      return builds.items.map((b) => ({
        builderid: b.builderid,
        builderName: builders.find((x) => x.builderid === b.builderid)?.name ?? String(b.builderid),
        number: b.number,
        results: b.results,
      }));
    },
  };

  /** The git pollers of the config (for the API and tests). */
  gitPollers(): GitPoller[] {
    return [...this.pollers.values()];
  }

  /** The instance of a scheduler by name (tests). */
  scheduler(name: string): unknown {
    return this.slots.get(`scheduler:${name}`)?.instance ?? this.triggerables.get(name);
  }

  /** Builds the instances of `config`; returns the singleton services to register. */
  async configure(config: MasterConfig): Promise<SingletonService[]> {
    const deps = { data: this.deps.data, log: this.deps.log, clock: this.clock };
    const wanted = new Map<string, { key: string; make: () => Activatable }>();
    const triggerables = new Map<string, TriggerableScheduler>();
    const pollers = new Map<string, GitPoller>();
    for (const scheduler of config.schedulers) {
      const make = this.factory(scheduler, deps);
      if (scheduler.type === 'triggerable') {
        triggerables.set(scheduler.name, new TriggerableScheduler(scheduler, deps));
      } else if (make) {
        wanted.set(`scheduler:${scheduler.name}`, { key: JSON.stringify(scheduler), make });
      }
    }
    for (const source of config.changeSources) {
      wanted.set(`changesource:${source.name}`, {
        key: JSON.stringify(source),
        make: () => this.changeSource(source, pollers),
      });
    }
    for (const name of [...this.slots.keys()]) {
      if (!wanted.has(name)) this.slots.delete(name);
    }
    for (const [name, { key, make }] of wanted) {
      const slot = this.slots.get(name);
      if (!slot) {
        this.slots.set(name, new Slot(name, make(), key, this.clock, this.deps.log));
      } else if (slot.key !== key) {
        await slot.replace(make(), key);
      } else if (slot.instance instanceof GitPoller) {
        pollers.set(slot.instance.name, slot.instance);
      }
    }
    this.triggerables = triggerables;
    this.pollers = pollers;
    return [...this.slots.values()];
  }

  private factory(
    scheduler: SchedulerConfig,
    deps: { data: DataApi; log: Logger; clock: Clock },
  ): (() => Activatable) | null {
    switch (scheduler.type) {
      case 'singleBranch':
      case 'anyBranch':
        return () => new BasicScheduler(scheduler, deps);
      case 'periodic':
      case 'nightly':
        return () => new TimedScheduler(scheduler, deps);
      case 'dependent':
        return () => new DependentScheduler(scheduler, deps);
      case 'force':
      case 'triggerable':
        return null;
    }
  }

  private changeSource(source: ChangeSourceConfig, pollers: Map<string, GitPoller>): Activatable {
    const poller = new GitPoller(source, {
      data: this.deps.data,
      log: this.deps.log,
      basedir: this.deps.basedir,
      clock: this.clock,
    });
    pollers.set(poller.name, poller);
    return poller;
  }
}
