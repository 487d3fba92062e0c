/**
 * The bus contract, run on every bus: `in-process-bus.test.ts` (one master) and
 * `postgres-bus.int.test.ts` (several masters on PostgreSQL).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, EventKey } from './bus.js';

export function busContract(
  name: string,
  open: () => Promise<{ bus: Bus; close: () => Promise<void> }>,
): void {
  describe(`bus contract: ${name}`, () => {
    const closers: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close();
    });
    async function make(): Promise<Bus> {
      const { bus, close } = await open();
      closers.push(close);
      return bus;
    }

    it('delivers to subscribers whose pattern matches, part by part and length for length', async () => {
      const bus = await make();
      const seen: string[] = [];
      bus.subscribe(['builds', '*', 'finished'], (key: EventKey) =>
        seen.push(`a:${key.join('/')}`),
      );
      bus.subscribe(['builds', '*', '*'], (key: EventKey) => seen.push(`b:${key.join('/')}`));
      bus.subscribe(['builds', '*'], (key: EventKey) => seen.push(`c:${key.join('/')}`));
      bus.publish(['builds', '1', 'new'], {});
      bus.publish(['builds', '1', 'finished'], {});
      bus.publish(['steps', '1', 'finished'], {});
      expect(seen).toEqual(['b:builds/1/new', 'a:builds/1/finished', 'b:builds/1/finished']);
    });

    it('keeps order and the message, and stops after unsubscribe', async () => {
      const bus = await make();
      const seen: unknown[] = [];
      const subscription = bus.subscribe(['workers', '*', '*'], (_key, message) =>
        seen.push(message),
      );
      for (let i = 0; i < 5; i++)
        bus.publish(['workers', String(i), 'connected'], { i, name: `w${i}` });
      subscription.unsubscribe();
      bus.publish(['workers', '9', 'connected'], { i: 9 });
      expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => ({ i, name: `w${i}` })));
    });

    it('delivers a message published under several keys once per key, in order', async () => {
      const bus = await make();
      const seen: string[] = [];
      bus.subscribe(['*', '*', '*'], (key: EventKey, m) =>
        seen.push(`${key.join('/')}=${JSON.stringify(m)}`),
      );
      bus.subscribe(['*', '*', '*', '*', '*'], (key: EventKey) => seen.push(key.join('/')));
      bus.publishAll(
        [
          ['builders', '2', 'builds', '7', 'new'],
          ['builds', '12', 'new'],
        ],
        { buildid: 12 },
      );
      expect(seen).toEqual(['builders/2/builds/7/new', 'builds/12/new={"buildid":12}']);
    });

    it('goes on delivering when one subscriber throws', async () => {
      const bus = await make();
      const seen: string[] = [];
      bus.subscribe(['x', '*'], () => {
        throw new Error('subscriber bug');
      });
      bus.subscribe(['x', '*'], (key: EventKey) => seen.push(key.join('/')));
      bus.publish(['x', '1'], null);
      expect(seen).toEqual(['x/1']);
    });
  });
}
