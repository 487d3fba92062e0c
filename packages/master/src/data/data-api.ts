/**
 * The data API: the only way the rest of the master reads or changes stored state.
 * Every write goes to the database and then publishes its event on the bus.
 */
import type { DataContext } from './context.js';
import { MastersData } from './masters.js';
import { BuildersData } from './builders.js';
import { WorkersData } from './workers.js';
import { BuildsetsData } from './buildsets.js';
import { BuildsData } from './builds.js';
import { StepsData } from './steps.js';
import { LogsData } from './logs.js';
import { LeasesData } from './leases.js';
import { ChangesData } from './changes.js';
import { EventsData } from './events.js';
import { StateData } from './state.js';
import { SchedulersData } from './schedulers.js';

export class DataApi {
  readonly masters: MastersData;
  readonly builders: BuildersData;
  readonly workers: WorkersData;
  readonly buildsets: BuildsetsData;
  readonly builds: BuildsData;
  readonly steps: StepsData;
  readonly logs: LogsData;
  readonly leases: LeasesData;
  readonly changes: ChangesData;
  /** Object state of change sources and schedulers (Buildbot's object_state). */
  readonly state: StateData;
  /** Changes classified by schedulers, upstream buildsets. */
  readonly schedulers: SchedulersData;
  /** Subscriptions to the bus's events, for live-event readers (REST /sse and /ws). */
  readonly events: EventsData;

  constructor(readonly ctx: DataContext) {
    this.masters = new MastersData(ctx);
    this.builders = new BuildersData(ctx);
    this.workers = new WorkersData(ctx);
    this.buildsets = new BuildsetsData(ctx);
    this.builds = new BuildsData(ctx);
    this.steps = new StepsData(ctx);
    this.logs = new LogsData(ctx);
    this.leases = new LeasesData(ctx);
    this.changes = new ChangesData(ctx);
    this.state = new StateData(ctx);
    this.schedulers = new SchedulersData(ctx);
    this.events = new EventsData(ctx);
  }

  get bus() {
    return this.ctx.bus;
  }
}
