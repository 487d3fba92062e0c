import { describe, expect, it } from 'vitest';
import type { EventHandler, EventKey, EventsData } from '../data/events.js';
import { ResponseCache, type Topic } from './response-cache.js';

/** The bus as the cache sees it (api/ may not import mq/): patterns with `*` parts. */
class FakeEvents implements Pick<EventsData, 'subscribe'> {
  private readonly subscribers = new Set<{ pattern: readonly string[]; handler: EventHandler }>();
  get subscriberCount(): number {
    return this.subscribers.size;
  }
  subscribe(pattern: readonly string[], handler: EventHandler) {
    const entry = { pattern, handler };
    this.subscribers.add(entry);
    return { unsubscribe: () => this.subscribers.delete(entry) };
  }
  publish(key: EventKey, message: unknown): void {
    for (const { pattern, handler } of this.subscribers) {
      if (pattern.length === key.length && pattern.every((p, i) => p === '*' || p === key[i]))
        handler(key, message);
    }
  }
}

const BUILDS: Topic = [['builds', '*', '*']];
const WORKERS: Topic = [['workers', '*', '*']];

function setup(options: ConstructorParameters<typeof ResponseCache>[1] = {}) {
  const bus = new FakeEvents();
  return { bus, cache: new ResponseCache(bus, options) };
}

const body = (text: string) => Buffer.from(text);

describe('ResponseCache', () => {
  it('serves a stored response until an event of its topic, then never again', () => {
    const { bus, cache } = setup();
    cache.store('/builds?limit=1', cache.begin(BUILDS), body('old'));
    expect(cache.get('/builds?limit=1')?.toString()).toBe('old');
    bus.publish(['builds', '7', 'finished'], {});
    expect(cache.get('/builds?limit=1')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.totalBytes).toBe(0);
  });

  it('serves no entry older than maxAgeMs, even without an event', () => {
    let now = 1_000;
    const { cache } = setup({ maxAgeMs: 5_000, now: () => now });
    cache.store('/builds', cache.begin(BUILDS), body('old'));
    now += 5_000;
    expect(cache.get('/builds')?.toString()).toBe('old');
    now += 1;
    expect(cache.get('/builds')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.totalBytes).toBe(0);
  });

  it('keeps responses of other topics, and ignores events that match no pattern', () => {
    const { bus, cache } = setup();
    cache.store('/builds', cache.begin(BUILDS), body('b'));
    cache.store('/workers', cache.begin(WORKERS), body('w'));
    bus.publish(['builders', '1', 'builds', '3', 'new'], {});
    bus.publish(['steps', '4', 'finished'], {});
    expect(cache.get('/builds')?.toString()).toBe('b');
    bus.publish(['builds', '3', 'new'], {});
    expect(cache.get('/builds')).toBeUndefined();
    expect(cache.get('/workers')?.toString()).toBe('w');
  });

  it('does not store a response whose reads raced an event of its topic', () => {
    const { bus, cache } = setup();
    const ticket = cache.begin(BUILDS);
    // The read has started; a write commits and publishes before the response is stored.
    bus.publish(['builds', '1', 'update'], {});
    cache.store('/builds', ticket, body('maybe stale'));
    expect(cache.get('/builds')).toBeUndefined();
    expect(cache.stats.raced).toBe(1);
    // An event of another topic does not spoil a fill.
    const next = cache.begin(BUILDS);
    bus.publish(['workers', '1', 'connected'], {});
    cache.store('/builds', next, body('fresh'));
    expect(cache.get('/builds')?.toString()).toBe('fresh');
  });

  it('topics with the same patterns share their generation', () => {
    const { bus, cache } = setup();
    const ticket = cache.begin([['builds', '*', '*']]);
    bus.publish(['builds', '1', 'new'], {});
    cache.store('/x', ticket, body('x'));
    expect(cache.get('/x')).toBeUndefined();
  });

  it('drops the least recently used entries beyond maxEntries', () => {
    const { cache } = setup({ maxEntries: 2 });
    cache.store('/a', cache.begin(BUILDS), body('a'));
    cache.store('/b', cache.begin(BUILDS), body('b'));
    expect(cache.get('/a')).toBeDefined(); // /b is now the least recently used
    cache.store('/c', cache.begin(BUILDS), body('c'));
    expect(cache.get('/b')).toBeUndefined();
    expect(cache.get('/a')?.toString()).toBe('a');
    expect(cache.get('/c')?.toString()).toBe('c');
    expect(cache.size).toBe(2);
  });

  it('keeps at most maxBytes, and never a response larger than that', () => {
    const { cache } = setup({ maxBytes: 10 });
    cache.store('/big', cache.begin(BUILDS), body('x'.repeat(11)));
    expect(cache.get('/big')).toBeUndefined();
    cache.store('/a', cache.begin(BUILDS), body('aaaaaa'));
    cache.store('/b', cache.begin(BUILDS), body('bbbbbb'));
    expect(cache.get('/a')).toBeUndefined();
    expect(cache.get('/b')?.toString()).toBe('bbbbbb');
    expect(cache.totalBytes).toBe(6);
  });

  it('replacing an entry counts its bytes once', () => {
    const { cache } = setup();
    cache.store('/a', cache.begin(BUILDS), body('1234'));
    cache.store('/a', cache.begin(BUILDS), body('12'));
    expect(cache.totalBytes).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('unsubscribes and stores nothing once closed', () => {
    const { bus, cache } = setup();
    const ticket = cache.begin(BUILDS);
    expect(bus.subscriberCount).toBe(1);
    cache.close();
    expect(bus.subscriberCount).toBe(0);
    cache.store('/a', ticket, body('a'));
    cache.store('/b', cache.begin(BUILDS), body('b'));
    expect(cache.get('/a')).toBeUndefined();
    expect(cache.get('/b')).toBeUndefined();
  });
});
