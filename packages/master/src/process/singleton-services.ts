/**
 * Singleton services (each change source, each timed scheduler) run on exactly one
 * master at a time, held by a lease in the database.
 *
 * Every `renewMs` this master takes or renews the lease of each registered service: a
 * service whose lease it holds is started (once), one whose lease it lost is stopped. A
 * master that dies stops renewing; its leases expire after `ttlMs` and another master
 * takes them over at its next renewal. States of a service here: idle → running → idle.
 */
import type { DataApi } from '../data/data-api.js';
import type { Logger } from '../logger.js';

export interface SingletonService {
  /** Unique across the cluster, e.g. `gitPoller:https://…` or `scheduler:nightly`. */
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

export class SingletonServices {
  private readonly services = new Map<string, { service: SingletonService; running: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly data: DataApi,
    private readonly masterid: number,
    private readonly log: Logger,
    private readonly options: { renewMs: number; ttlMs: number } = {
      renewMs: 2_000,
      ttlMs: 15_000,
    },
  ) {}

  /** Replaces the registered services (a reconfig); removed ones are stopped and released. */
  async set(services: SingletonService[]): Promise<void> {
    const wanted = new Set(services.map((s) => s.name));
    for (const [name, entry] of this.services) {
      if (wanted.has(name)) continue;
      this.services.delete(name);
      if (entry.running) await entry.service.stop();
      await this.data.leases.release(name, this.masterid);
    }
    for (const service of services) {
      if (!this.services.has(service.name))
        this.services.set(service.name, { service, running: false });
    }
    await this.tick();
  }

  start(): void {
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = null));
    }, this.options.renewMs);
    this.timer.unref();
  }

  /** Which services run here (for the API and tests). */
  runningHere(): string[] {
    return [...this.services.entries()].filter(([, e]) => e.running).map(([name]) => name);
  }

  async tick(): Promise<void> {
    for (const [name, entry] of this.services) {
      let held: boolean;
      try {
        held = await this.data.leases.acquire(name, this.masterid, this.options.ttlMs);
      } catch (error) {
        this.log.warn(
          { err: error, service: name },
          `renewing the lease of ${name} failed; trying again`,
        );
        continue;
      }
      try {
        if (held && !entry.running) {
          entry.running = true;
          this.log.info({ service: name }, `${name} runs on this master now`);
          await entry.service.start();
        } else if (!held && entry.running) {
          entry.running = false;
          this.log.info({ service: name }, `${name} moved to another master`);
          await entry.service.stop();
        }
      } catch (error) {
        this.log.error({ err: error, service: name }, `starting or stopping ${name} failed`);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    for (const [name, entry] of this.services) {
      if (entry.running) await entry.service.stop();
      entry.running = false;
      await this.data.leases.release(name, this.masterid).catch(() => undefined);
    }
  }
}
