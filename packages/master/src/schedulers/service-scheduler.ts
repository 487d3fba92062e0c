/**
 * A scheduler that runs as a singleton service `scheduler:<name>` (one master at a time):
 * `activate` when this master takes the lease, `deactivate` when it gives it up. It holds
 * the scheduler's state object id (Buildbot's object of name + class), whether it is
 * active, and the queue that runs its work one piece at a time.
 */
import type { SingletonService } from '../process/singleton-services.js';
import { BaseScheduler } from './base-scheduler.js';
import { SerialQueue } from './change-consumer.js';

export abstract class ServiceScheduler extends BaseScheduler {
  protected readonly queue = new SerialQueue();
  protected objectid = 0;
  protected active = false;

  /** The class name its state object is stored under (Buildbot's). */
  abstract get className(): string;
  abstract activate(): Promise<void>;
  abstract deactivate(): Promise<void>;

  /** This scheduler as a singleton service: it runs on one master at a time. */
  service(): SingletonService {
    return {
      name: `scheduler:${this.name}`,
      start: () => this.activate(),
      stop: () => this.deactivate(),
    };
  }

  /** Looks up (or creates) the scheduler's state object. */
  protected async loadObjectId(): Promise<void> {
    this.objectid = await this.deps.data.state.objectId(this.name, this.className);
  }
}
