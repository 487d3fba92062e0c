import { describe, expect, it } from 'vitest';

import type { LockAccessConfig, LockConfig } from '../config/types.js';
import { LockManager, LockWaitAbortedError, LockWaitController } from './locks.js';

const master = (name: string, maxCount = 1): LockConfig => ({ type: 'masterLock', name, maxCount });
const worker = (name: string, maxCount = 1, maxCountForWorker = {}): LockConfig => ({
  type: 'workerLock',
  name,
  maxCount,
  maxCountForWorker,
});
const access = (lock: LockConfig, mode: 'exclusive' | 'counting', count = 1): LockAccessConfig => ({
  type: 'lockAccess',
  lock,
  mode,
  count,
});

/** Lets queued microtasks (lock wake-ups) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('LockManager', () => {
  it('counting access admits maxCount holders, exclusive access one and nobody else', async () => {
    const manager = new LockManager();
    const lock = master('db', 2);
    const counting = [access(lock, 'counting')];
    const [a, b, c, x] = [{}, {}, {}, {}];
    const locksA = manager.resolve(counting, 'w1');
    const locksB = manager.resolve(counting, 'w1');
    expect(manager.tryAcquire(locksA, a)).toBe(true);
    expect(manager.tryAcquire(locksB, b)).toBe(true);
    const locksC = manager.resolve(counting, 'w2');
    expect(manager.canAcquire(locksC)).toBe(false);
    const exclusive = manager.resolve([access(lock, 'exclusive')], 'w1');
    let got = '';
    const waitC = manager.acquire(locksC, c).then(() => (got += 'c'));
    const waitX = manager.acquire(exclusive, x).then(() => (got += 'x'));
    manager.release(locksA, a);
    await settle();
    expect(got).toBe('c');
    manager.release(locksB, b);
    manager.release(locksC, c);
    await Promise.all([waitC, waitX]);
    expect(got).toBe('cx');
    // The exclusive holder blocks counting newcomers.
    expect(manager.canAcquire(manager.resolve(counting, 'w1'))).toBe(false);
    manager.release(exclusive, x);
    expect(manager.canAcquire(manager.resolve(counting, 'w1'))).toBe(true);
  });

  it('serves waiters in order: counting waiters do not overtake a waiting exclusive one', async () => {
    const manager = new LockManager();
    const lock = master('m', 3);
    const holder = {};
    const held = manager.resolve([access(lock, 'counting')], 'w');
    expect(manager.tryAcquire(held, holder)).toBe(true);
    const order: string[] = [];
    const exclusiveOwner = {};
    const exclusiveLocks = manager.resolve([access(lock, 'exclusive')], 'w');
    const waitExclusive = manager
      .acquire(exclusiveLocks, exclusiveOwner)
      .then(() => order.push('exclusive'));
    // Capacity is free for counting, but an exclusive waiter is ahead: newcomers wait.
    expect(manager.canAcquire(manager.resolve([access(lock, 'counting')], 'w'))).toBe(false);
    const late = {};
    const lateLocks = manager.resolve([access(lock, 'counting')], 'w');
    const waitLate = manager.acquire(lateLocks, late).then(() => order.push('counting'));
    manager.release(held, holder);
    await waitExclusive;
    await settle();
    expect(order).toEqual(['exclusive']);
    manager.release(exclusiveLocks, exclusiveOwner);
    await waitLate;
    expect(order).toEqual(['exclusive', 'counting']);
  });

  it('gives each worker its own worker lock, with maxCountForWorker', () => {
    const manager = new LockManager();
    const lock = worker('cpu', 1, { big: 2 });
    const use = [access(lock, 'counting')];
    expect(manager.tryAcquire(manager.resolve(use, 'small'), {})).toBe(true);
    expect(manager.canAcquire(manager.resolve(use, 'small'))).toBe(false);
    expect(manager.tryAcquire(manager.resolve(use, 'big'), {})).toBe(true);
    expect(manager.tryAcquire(manager.resolve(use, 'big'), {})).toBe(true);
    expect(manager.canAcquire(manager.resolve(use, 'big'))).toBe(false);
  });

  it('takes all locks of a list or none, and releases notify', async () => {
    let released = 0;
    const manager = new LockManager(() => (released += 1));
    const first = master('first');
    const second = master('second');
    const other = {};
    const secondHeld = manager.resolve([access(second, 'exclusive')], 'w');
    expect(manager.tryAcquire(secondHeld, other)).toBe(true);
    const both = manager.resolve([access(first, 'exclusive'), access(second, 'exclusive')], 'w');
    const owner = {};
    expect(manager.tryAcquire(both, owner)).toBe(false);
    // Nothing of the list was taken: "first" is still free.
    expect(manager.canAcquire(manager.resolve([access(first, 'exclusive')], 'w'))).toBe(true);
    const waiting = manager.acquire(both, owner);
    manager.release(secondHeld, other);
    await waiting;
    expect(released).toBe(1);
    manager.release(both, owner);
    expect(released).toBe(2);
  });

  it('a wait ends when aborted, and the lock is then free for the next', async () => {
    const manager = new LockManager();
    const lock = master('deploy');
    const locks = () => manager.resolve([access(lock, 'exclusive')], 'w');
    const holder = {};
    const held = locks();
    manager.tryAcquire(held, holder);
    const controller = new LockWaitController();
    const waiting = manager.acquire(locks(), {}, controller);
    controller.abort('build stopped');
    await expect(waiting).rejects.toBeInstanceOf(LockWaitAbortedError);
    manager.release(held, holder);
    expect(manager.canAcquire(locks())).toBe(true);
  });

  it('a reload raises maxCount and wakes waiters', async () => {
    const manager = new LockManager();
    manager.configure([master('m', 1)]);
    const use = [access(master('m', 1), 'counting')];
    manager.tryAcquire(manager.resolve(use, 'w'), {});
    const waiting = manager.acquire(manager.resolve(use, 'w'), {});
    manager.configure([master('m', 2)]);
    await waiting;
  });
});
