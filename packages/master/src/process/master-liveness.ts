/**
 * Heart-beats of this master and the expiry of masters that stopped beating.
 *
 * Every `heartbeatMs` this master writes its `last_active`, then expires any active master
 * silent for longer than `expiryMs` (a conditional UPDATE, so one master recovers each dead
 * one): the dead master's unfinished builds end RETRY with the reason and the requests it
 * had claimed go back to the queue, to run on a live master.
 *
 * Fencing: when this master's own heartbeat finds its row inactive, others have expired
 * it (it was stopped too long: a long GC pause, a frozen VM, a partition) and may already
 * run its builds again. It then abandons its running builds at once (without touching
 * their requests, which are no longer its own) and registers again.
 * A failing database never stops the master: the tick logs and tries again next time.
 */
import type { DataApi } from '../data/data-api.js';
import type { Logger } from '../logger.js';
import { recoverMaster } from './recovery.js';

export interface LivenessOptions {
  heartbeatMs: number;
  expiryMs: number;
  now: () => number;
}

export class MasterLiveness {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  /** How long detection and recovery of each expired master took, for logs and tests. */
  readonly expiries: {
    masterid: number;
    name: string;
    silentForMs: number;
    recoveredInMs: number;
  }[] = [];

  constructor(
    private readonly data: DataApi,
    private readonly masterid: number,
    private readonly log: Logger,
    private readonly options: LivenessOptions,
    private readonly onFenced: () => Promise<void>,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.ticking) this.ticking = this.tick().finally(() => (this.ticking = null));
    }, this.options.heartbeatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  async tick(): Promise<void> {
    try {
      const alive = await this.data.masters.heartbeat(this.masterid);
      if (!alive) {
        this.log.error(
          { masterid: this.masterid },
          'this master was expired by another master (it did not heart-beat in time); abandoning its running builds, which run again elsewhere, and registering again',
        );
        await this.onFenced();
        return;
      }
      const started = this.options.now();
      const expired = await this.data.masters.expireSilent(
        started - this.options.expiryMs,
        this.masterid,
      );
      for (const master of expired) {
        const silentForMs = started - (master.last_active ?? 0) * 1000;
        const summary = await recoverMaster(
          this.data,
          master.masterid,
          `master ${master.name} stopped responding`,
        );
        const recoveredInMs = this.options.now() - started;
        this.expiries.push({
          masterid: master.masterid,
          name: master.name,
          silentForMs,
          recoveredInMs,
        });
        this.log.warn(
          { expired: master.masterid, silentForMs, recoveredInMs, ...summary },
          `expired master ${master.name} (silent for ${Math.round(silentForMs / 1000)} s): ${summary.builds} build(s) marked RETRY, ${summary.requests} request(s) re-queued`,
        );
      }
    } catch (error) {
      this.log.error({ err: error }, 'master heartbeat failed; trying again at the next beat');
    }
  }
}
