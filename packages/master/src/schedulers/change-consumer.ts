/**
 * How a scheduler reads changes: every change, once, in changeid order, across restarts
 * and across masters.
 *
 * State: `last_changeid` in the scheduler's object state, the last change it handled. On
 * start it catches up from there (a first start begins at the newest change: history is
 * not built), then wakes on each `changes/*\/new` event (and every `pollMs` as a safety
 * net). Each change is given to the handler with the compare-and-set that moves
 * `last_changeid` to it, which the handler writes in the transaction of whatever it
 * stores (a buildset, a classification); changes it ignores advance the state in one
 * write per batch. A conflict means another run handled them: the state is re-read.
 *
 * Change ids can arrive out of order on PostgreSQL (a transaction that took a lower id
 * commits later): a gap below the newest change is waited for up to `gapWaitMs`, then
 * taken as a rolled-back insert and skipped.
 *
 * One pass at a time (`SerialQueue`), shared with the scheduler's timers, so a timer
 * never runs in the middle of a change. States: stopped → running → stopped.
 */
import type { ChangeEntity } from '../data/changes.js';
import { StateConflictError, type StateUpdate } from '../data/state.js';
import type { Subscription } from '../mq/bus.js';
import type { TimerHandle } from './clock.js';
import type { SchedulerDeps } from './base-scheduler.js';

/** Runs tasks one after another; `run` resolves with the task's result. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}

/** Decides what a change means; returns true when it wrote `update` itself. */
export type ChangeHandler = (change: ChangeEntity, update: StateUpdate) => Promise<boolean>;

const STATE = 'last_changeid';
const BATCH = 100;

export class ChangeConsumer {
  private subscription: Subscription | null = null;
  private running = false;
  private again = false;
  private passing = false;
  private poll: TimerHandle | null = null;
  private retry: TimerHandle | null = null;
  private gapSince: { changeid: number; at: number } | null = null;

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly objectid: number,
    private readonly queue: SerialQueue,
    private readonly handler: ChangeHandler,
    private readonly label: string,
    private readonly options: { pollMs?: number; gapWaitMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    const { data } = this.deps;
    if ((await data.state.get(this.objectid, STATE)) === undefined) {
      const newest = await data.changes.lastChangeid();
      await data.state
        .setIf({ objectid: this.objectid, name: STATE, expected: undefined, value: newest })
        .catch((error: unknown) => {
          if (!(error instanceof StateConflictError)) throw error;
        });
    }
    this.running = true;
    this.subscription = data.bus.subscribe(['changes', '*', 'new'], () => {
      void this.kick();
    });
    this.schedulePoll();
    await this.kick();
  }

  /** Runs a pass (or one more after the current one); resolves when it is done. */
  kick(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.passing) {
      this.again = true;
      return this.queue.idle();
    }
    this.passing = true;
    return this.queue.run(async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && this.running);
      } catch (error) {
        this.deps.log.warn(
          { err: error, scheduler: this.label },
          `${this.label}: reading changes failed; trying again shortly`,
        );
      } finally {
        this.passing = false;
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.poll?.cancel();
    this.poll = null;
    this.retry?.cancel();
    this.retry = null;
    await this.queue.idle();
  }

  private schedulePoll(): void {
    const pollMs = this.options.pollMs ?? 30_000;
    this.poll = this.deps.clock.setTimeout(() => {
      if (!this.running) return undefined;
      return this.kick().finally(() => {
        if (this.running) this.schedulePoll();
      });
    }, pollMs);
  }

  private async pass(): Promise<void> {
    const { data } = this.deps;
    for (;;) {
      if (!this.running) return;
      const stored = await data.state.get(this.objectid, STATE);
      let last = typeof stored === 'number' ? stored : 0;
      const batch = await data.changes.after(last, BATCH);
      if (batch.length === 0) return;
      let written = last;
      let complete = true;
      for (const change of batch) {
        if (!this.running) break;
        if (change.changeid !== last + 1 && !this.gapTimedOut(last + 1)) {
          // A lower id may still commit: wait for it (the poll or the next event retries).
          complete = false;
          this.schedulePass(this.options.gapWaitMs ?? 10_000);
          break;
        }
        this.gapSince = null;
        const update: StateUpdate = {
          objectid: this.objectid,
          name: STATE,
          expected: written,
          value: change.changeid,
        };
        try {
          if (await this.handler(change, update)) written = change.changeid;
        } catch (error) {
          if (error instanceof StateConflictError) {
            this.deps.log.info(
              { scheduler: this.label },
              `${this.label}: another run handled these changes; reading on from its state`,
            );
            return this.pass();
          }
          throw error;
        }
        last = change.changeid;
      }
      if (written !== last) {
        await data.state
          .setIf({ objectid: this.objectid, name: STATE, expected: written, value: last })
          .catch((error: unknown) => {
            if (!(error instanceof StateConflictError)) throw error;
          });
      }
      if (!complete || batch.length < BATCH) return;
    }
  }

  /** True once change `changeid` has been missing for longer than the gap wait. */
  private gapTimedOut(changeid: number): boolean {
    const now = this.deps.clock.now();
    if (this.gapSince?.changeid !== changeid) {
      this.gapSince = { changeid, at: now };
      return false;
    }
    return now - this.gapSince.at >= (this.options.gapWaitMs ?? 10_000);
  }

  private schedulePass(ms: number): void {
    this.retry?.cancel();
    this.retry = this.deps.clock.setTimeout(() => this.kick(), ms);
  }
}
