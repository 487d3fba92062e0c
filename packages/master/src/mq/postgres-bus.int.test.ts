import { afterEach, describe, expect, it } from 'vitest';
import { freshPostgresDatabase, waitFor } from '@yardmaster/testkit';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { PostgresBus } from './postgres-bus.js';
import type { EventKey } from './bus.js';
import { busContract } from './bus.contract.js';

async function database(): Promise<{ url: string; handle: DatabaseHandle }> {
  const url = await freshPostgresDatabase();
  return { url, handle: await openDatabase(url, '/tmp', { poolSize: 3 }) };
}

busContract('PostgreSQL', async () => {
  const { url, handle } = await database();
  const bus = new PostgresBus({ db: handle.db, url, onError: () => undefined });
  await bus.start();
  return {
    bus,
    close: async () => {
      await bus.close();
      await handle.close();
    },
  };
});

describe('PostgresBus between two masters', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function pair(options: { pollMs?: number } = {}) {
    const { url, handle } = await database();
    const errors: unknown[] = [];
    const make = async () => {
      const bus = new PostgresBus({
        db: handle.db,
        url,
        onError: (e) => errors.push(e),
        ...options,
      });
      await bus.start();
      closers.push(() => bus.close());
      return bus;
    };
    closers.push(() => handle.close());
    return { a: await make(), b: await make(), errors };
  }

  it('delivers each event once to local and remote subscribers, in order', async () => {
    const { a, b } = await pair();
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.subscribe(['builds', '*', '*'], (key: EventKey, m) =>
      seenA.push(`${key.join('/')}=${JSON.stringify(m)}`),
    );
    b.subscribe(['builds', '*', '*'], (key: EventKey, m) =>
      seenB.push(`${key.join('/')}=${JSON.stringify(m)}`),
    );
    for (let i = 0; i < 50; i++) a.publish(['builds', String(i), 'new'], { buildid: i });
    a.publish(['workers', '1', 'connect'], { x: 1 });
    expect(seenA).toHaveLength(50);
    await waitFor(() => seenB.length === 50, { timeoutMs: 5000 });
    expect(seenB).toEqual(seenA);
    expect(b.stats.received).toBe(51);
  });

  it('stores a message published under several keys as one row, and delivers it under each remotely', async () => {
    const { a, b } = await pair();
    const seen: string[] = [];
    b.subscribe(['*', '*', '*'], (key: EventKey, m) =>
      seen.push(`${key.join('/')}=${JSON.stringify(m)}`),
    );
    b.subscribe(['*', '*', '*', '*', '*'], (key: EventKey, m) =>
      seen.push(`${key.join('/')}=${JSON.stringify(m)}`),
    );
    a.publishAll(
      [
        ['builders', '2', 'builds', '7', 'finished'],
        ['builds', '12', 'finished'],
        ['workers', '3', 'builds', '12', 'finished'],
      ],
      { buildid: 12 },
    );
    await waitFor(() => seen.length === 3, { timeoutMs: 5000 });
    // The canonical key first (a master of the previous version reads only that one).
    expect(seen).toEqual([
      'builds/12/finished={"buildid":12}',
      'builders/2/builds/7/finished={"buildid":12}',
      'workers/3/builds/12/finished={"buildid":12}',
    ]);
    expect(b.stats.received).toBe(1);
  });

  it('still delivers within about a second when the listening connection is gone', async () => {
    const { a, b } = await pair({ pollMs: 500 });
    const seen: number[] = [];
    b.subscribe(['buildrequests', '*', 'new'], (_k, m) => seen.push((m as { id: number }).id));
    b.dropListener();
    const sent = Date.now();
    a.publish(['buildrequests', '7', 'new'], { id: 7 });
    await waitFor(() => seen.includes(7), { timeoutMs: 3000 });
    expect(Date.now() - sent).toBeLessThan(1500);
    await waitFor(() => b.stats.listenerReconnects > 0, { timeoutMs: 5000 });
    a.publish(['buildrequests', '8', 'new'], { id: 8 });
    await waitFor(() => seen.includes(8), { timeoutMs: 3000 });
    expect(seen).toEqual([7, 8]);
  });
});
