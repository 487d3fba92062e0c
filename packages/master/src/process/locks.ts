/**
 * Master and worker locks (Buildbot's `locks.py`): semaphores that builds and steps of
 * this master take while they run.
 *
 * Owns every real lock of the master: one per `masterLock` name, and per `workerLock`
 * name one per worker. A lock has holders (owner + access) and a FIFO queue of waiters.
 * Invariants, as Buildbot's `BaseLock`:
 * - exclusive access: no other holder at all; counting access: no exclusive holder and
 *   at most `maxCount` counted units (a lowered `maxCount` is not enforced on holders
 *   that already have the lock);
 * - waiters are served in order: a counting waiter queued behind an exclusive one does
 *   not overtake it, and a newcomer (`isAvailable` without a queue place) waits behind
 *   everyone, so exclusive access is never starved;
 * - an owner takes all the locks of a list or none (it waits on the first that is not
 *   available, then looks at the whole list again), and `release` hands freed capacity to
 *   the waiters and tells `onRelease` (the distributor: a pending build may start now).
 * Locks live in this master's memory only: with several masters, each has its own.
 */
import type { LockAccessConfig, LockConfig, LockMode } from '../config/types.js';
import { YardmasterError } from '../errors.js';

export class LockWaitAbortedError extends YardmasterError {
  constructor(reason: string) {
    super('lock_wait_aborted', `stopped while waiting for locks: ${reason}`);
  }
}

interface Access {
  mode: LockMode;
  count: number;
}

interface Waiter {
  owner: object;
  access: Access;
  /** Set while the owner is blocked on this lock; cleared once it was woken. */
  wake: (() => void) | null;
}

/** One semaphore: a master lock, or one worker's instance of a worker lock. */
export class RealLock {
  private readonly owners: { owner: object; access: Access }[] = [];
  private waiting: Waiter[] = [];
  private claimedExclusive = 0;
  private claimedCounting = 0;

  constructor(
    readonly description: string,
    public maxCount: number,
  ) {}

  setMaxCount(count: number): void {
    const grew = count > this.maxCount;
    this.maxCount = count;
    if (grew) this.tryWakeUp();
  }

  /** Who holds the lock now (for state strings and tests). */
  get holders(): number {
    return this.owners.length;
  }

  get waiters(): number {
    return this.waiting.length;
  }

  private waitingIndex(owner: object | null): number {
    if (owner === null) return -1;
    return this.waiting.findIndex((w) => w.owner === owner);
  }

  /** Buildbot's `isAvailable`: could `owner` (null: a newcomer) claim `access` now? */
  isAvailable(owner: object | null, access: Access): boolean {
    if (access.count === 0) return true;
    let index = this.waitingIndex(owner);
    if (index < 0) index = this.waiting.length;
    const ahead = this.waiting.slice(0, index);
    if (access.mode === 'counting') {
      return (
        this.claimedExclusive === 0 &&
        this.claimedCounting + ahead.length + access.count <= this.maxCount &&
        ahead.every((w) => w.access.mode === 'counting')
      );
    }
    return this.claimedExclusive === 0 && this.claimedCounting === 0 && ahead.length === 0;
  }

  claim(owner: object, access: Access): void {
    if (access.count === 0) return;
    this.waiting = this.waiting.filter((w) => w.owner !== owner);
    this.owners.push({ owner, access });
    if (access.mode === 'counting') this.claimedCounting += access.count;
    else this.claimedExclusive += 1;
  }

  isOwner(owner: object, access: Access): boolean {
    return this.owners.some((o) => o.owner === owner && o.access === access);
  }

  /** Releases one hold; false when `owner` did not hold it (already released). */
  release(owner: object, access: Access): boolean {
    const index = this.owners.findIndex((o) => o.owner === owner && o.access === access);
    if (index < 0) return false;
    this.owners.splice(index, 1);
    if (access.mode === 'counting') this.claimedCounting -= access.count;
    else this.claimedExclusive -= 1;
    this.tryWakeUp();
    return true;
  }

  /** Queues `owner` (or keeps its place) and calls `wake` when the lock may be available. */
  wait(owner: object, access: Access, wake: () => void): void {
    const index = this.waitingIndex(owner);
    if (index >= 0) {
      const waiter = this.waiting[index];
      if (waiter) waiter.wake = wake;
    } else {
      this.waiting.push({ owner, access, wake });
    }
    if (this.isAvailable(owner, access)) this.wakeWaiter(owner);
  }

  /** Leaves the queue (the owner gave up); lets the next waiters try. */
  stopWaiting(owner: object): void {
    const index = this.waitingIndex(owner);
    if (index < 0) return;
    this.waiting.splice(index, 1);
    this.tryWakeUp();
  }

  private wakeWaiter(owner: object): void {
    const waiter = this.waiting.find((w) => w.owner === owner);
    const wake = waiter?.wake;
    if (waiter && wake) {
      waiter.wake = null;
      queueMicrotask(wake);
    }
  }

  /** Buildbot's `_tryWakeUp`: wake the waiters at the head that the free capacity fits. */
  private tryWakeUp(): void {
    let exclusive = this.claimedExclusive;
    let counting = this.claimedCounting;
    for (const waiter of this.waiting) {
      if (waiter.access.mode === 'counting') {
        if (exclusive > 0 || counting >= this.maxCount) break;
        counting += waiter.access.count;
      } else {
        if (exclusive > 0 || counting > 0) break;
        exclusive += 1;
      }
      const wake = waiter.wake;
      if (wake) {
        waiter.wake = null;
        queueMicrotask(wake);
      }
    }
  }
}

/** A lock access narrowed to the worker a build runs on. */
export interface ResolvedLock {
  lock: RealLock;
  access: Access;
}

/** An abortable wait: `abort(reason)` rejects the pending `acquire`. */
export interface LockWaitHandle {
  readonly aborted: string | null;
  onAbort(handler: (reason: string) => void): void;
}

export class LockWaitController implements LockWaitHandle {
  aborted: string | null = null;
  private readonly handlers: ((reason: string) => void)[] = [];

  abort(reason: string): void {
    if (this.aborted !== null) return;
    this.aborted = reason;
    for (const handler of this.handlers.splice(0)) handler(reason);
  }

  onAbort(handler: (reason: string) => void): void {
    if (this.aborted !== null) handler(this.aborted);
    else this.handlers.push(handler);
  }
}

interface WorkerLockFamily {
  maxCount: number;
  maxCountForWorker: Record<string, number>;
  perWorker: Map<string, RealLock>;
}

export class LockManager {
  private readonly masterLocks = new Map<string, RealLock>();
  private readonly workerLocks = new Map<string, WorkerLockFamily>();

  constructor(private readonly onRelease: () => void = () => undefined) {}

  /** Applies a config's lock definitions: new limits take effect at once (Buildbot's reconfig). */
  configure(locks: readonly LockConfig[]): void {
    for (const lock of locks) this.definition(lock);
  }

  private definition(lock: LockConfig): RealLock | WorkerLockFamily {
    if (lock.type === 'masterLock') {
      let real = this.masterLocks.get(lock.name);
      if (!real) {
        real = new RealLock(`masterLock ${lock.name}`, lock.maxCount);
        this.masterLocks.set(lock.name, real);
      } else if (real.maxCount !== lock.maxCount) real.setMaxCount(lock.maxCount);
      return real;
    }
    let family = this.workerLocks.get(lock.name);
    if (!family) {
      family = { maxCount: lock.maxCount, maxCountForWorker: {}, perWorker: new Map() };
      this.workerLocks.set(lock.name, family);
    }
    family.maxCount = lock.maxCount;
    family.maxCountForWorker = lock.maxCountForWorker;
    for (const [worker, real] of family.perWorker) {
      real.setMaxCount(lock.maxCountForWorker[worker] ?? lock.maxCount);
    }
    return family;
  }

  /** The real locks `accesses` take on `workerName` (Buildbot's `getLockForWorker`). */
  resolve(accesses: readonly LockAccessConfig[], workerName: string): ResolvedLock[] {
    return accesses.map((access) => {
      const definition = this.definition(access.lock);
      let lock: RealLock;
      if (definition instanceof RealLock) lock = definition;
      else {
        let real = definition.perWorker.get(workerName);
        if (!real) {
          real = new RealLock(
            `workerLock ${access.lock.name} on ${workerName}`,
            definition.maxCountForWorker[workerName] ?? definition.maxCount,
          );
          definition.perWorker.set(workerName, real);
        }
        lock = real;
      }
      // A fresh object per use: the identity of one hold.
      return { lock, access: { mode: access.mode, count: access.count } };
    });
  }

  /** Could a newcomer take all of `locks` now (Buildbot's `_canAcquireLocks`)? */
  canAcquire(locks: readonly ResolvedLock[]): boolean {
    return locks.every(({ lock, access }) => lock.isAvailable(null, access));
  }

  /** Takes every lock at once if possible; true when taken (nothing is taken otherwise). */
  tryAcquire(locks: readonly ResolvedLock[], owner: object): boolean {
    if (!locks.every(({ lock, access }) => lock.isAvailable(owner, access))) return false;
    for (const { lock, access } of locks) lock.claim(owner, access);
    return true;
  }

  /**
   * Takes every lock of `locks` for `owner`, waiting in each lock's queue as needed;
   * rejects with `LockWaitAbortedError` when `handle` is aborted (nothing is then held).
   * `onWait` is called once if the owner has to wait.
   */
  async acquire(
    locks: readonly ResolvedLock[],
    owner: object,
    handle?: LockWaitHandle,
    onWait?: (blocking: RealLock) => void,
  ): Promise<void> {
    let waited = false;
    for (;;) {
      if (handle?.aborted != null) throw new LockWaitAbortedError(handle.aborted);
      const blocked = locks.find(({ lock, access }) => !lock.isAvailable(owner, access));
      if (!blocked) {
        for (const { lock, access } of locks) lock.claim(owner, access);
        return;
      }
      if (!waited) {
        waited = true;
        onWait?.(blocked.lock);
      }
      await new Promise<void>((resolve, reject) => {
        blocked.lock.wait(owner, blocked.access, resolve);
        handle?.onAbort((reason) => {
          for (const { lock } of locks) lock.stopWaiting(owner);
          reject(new LockWaitAbortedError(reason));
        });
      });
    }
  }

  /** Releases what `owner` holds of `locks`, then tells the distributor. */
  release(locks: readonly ResolvedLock[], owner: object): void {
    let released = false;
    for (const { lock, access } of locks) {
      if (lock.release(owner, access)) released = true;
    }
    if (released) this.onRelease();
  }
}
