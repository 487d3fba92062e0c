import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { EventHandler, EventKey, EventsData, Subscription } from '../data/events.js';
import { LiveEvents, parseEventPattern, type LiveTransport } from './live-events.js';

class FakeTransport implements LiveTransport {
  readonly kind = 'sse';
  readonly sent: string[] = [];
  buffered = 0;
  closedWith: string | null = null;
  keepalives = 0;
  send(key: EventKey): void {
    this.sent.push(key.join('/'));
  }
  bufferedBytes(): number {
    return this.buffered;
  }
  keepalive(): void {
    this.keepalives++;
  }
  close(reason: string): void {
    this.closedWith = reason;
  }
}

/** A minimal bus: same-length patterns, `*` for any part. */
class FakeBus {
  private readonly entries = new Set<{ pattern: readonly string[]; handler: EventHandler }>();
  get subscriberCount(): number {
    return this.entries.size;
  }
  subscribe(pattern: readonly string[], handler: EventHandler): Subscription {
    const entry = { pattern, handler };
    this.entries.add(entry);
    return { unsubscribe: () => this.entries.delete(entry) };
  }
  publish(key: EventKey, message: unknown): void {
    for (const { pattern, handler } of [...this.entries]) {
      if (pattern.length === key.length && pattern.every((p, i) => p === '*' || p === key[i])) {
        handler(key, message);
      }
    }
  }
}

function hub() {
  const bus = new FakeBus();
  const events = {
    subscribe: (p: readonly string[], h: EventHandler) => bus.subscribe(p, h),
  } as EventsData;
  return {
    bus,
    live: new LiveEvents(events, { log: pino({ level: 'silent' }), maxBufferedBytes: 1000 }),
  };
}

describe('parseEventPattern', () => {
  it("keeps Buildbot's key patterns and expands collection and entity paths", () => {
    expect(parseEventPattern('builds/*/*')).toEqual(['builds', '*', '*']);
    expect(parseEventPattern('builds/*/finished')).toEqual(['builds', '*', 'finished']);
    expect(parseEventPattern('builders/3/builds/*/*')).toEqual([
      'builders',
      '3',
      'builds',
      '*',
      '*',
    ]);
    expect(parseEventPattern('builds')).toEqual(['builds', '*', '*']);
    expect(parseEventPattern('builders/3/builds')).toEqual(['builders', '3', 'builds', '*', '*']);
    expect(parseEventPattern('builds/12')).toEqual(['builds', '12', '*']);
    expect(parseEventPattern('')).toBeUndefined();
    expect(parseEventPattern('builds//x')).toBeUndefined();
  });
});

describe('LiveEvents', () => {
  it('delivers matching events, stops on stopConsuming and unsubscribes on close', () => {
    const { bus, live } = hub();
    const t = new FakeTransport();
    const consumer = live.add(t);
    if (!consumer) throw new Error('no consumer');
    expect(consumer.startConsuming('builds/*/finished')).toBe('started');
    expect(consumer.startConsuming('builds/*/finished')).toBe('already');
    consumer.startConsuming('workers');
    bus.publish(['builds', '1', 'new'], {});
    bus.publish(['builds', '1', 'finished'], {});
    bus.publish(['workers', '2', 'connected'], {});
    expect(t.sent).toEqual(['builds/1/finished', 'workers/2/connected']);
    expect(consumer.stopConsuming('workers')).toBe(true);
    expect(consumer.stopConsuming('workers')).toBe(false);
    bus.publish(['workers', '2', 'disconnected'], {});
    expect(t.sent).toHaveLength(2);
    expect(bus.subscriberCount).toBe(1);
    consumer.close('bye');
    expect(bus.subscriberCount).toBe(0);
    expect(live.size).toBe(0);
    expect(t.closedWith).toBe('bye');
    expect(live.get(consumer.id)).toBeUndefined();
  });

  it('drops a consumer whose transport falls too far behind', () => {
    const { bus, live } = hub();
    const slow = new FakeTransport();
    const fast = new FakeTransport();
    live.add(slow)?.startConsuming('builds/*/*');
    live.add(fast)?.startConsuming('builds/*/*');
    bus.publish(['builds', '1', 'new'], {});
    slow.buffered = 5000;
    bus.publish(['builds', '1', 'finished'], {});
    expect(slow.sent).toEqual(['builds/1/new']);
    expect(slow.closedWith).toBe('too far behind');
    expect(fast.sent).toEqual(['builds/1/new', 'builds/1/finished']);
    expect(bus.subscriberCount).toBe(1);
  });

  it('closes everyone on close and refuses newcomers', () => {
    const { bus, live } = hub();
    const t = new FakeTransport();
    live.add(t)?.startConsuming('builds/*/*');
    live.close();
    expect(t.closedWith).toBe('the master is shutting down');
    expect(bus.subscriberCount).toBe(0);
    expect(live.add(new FakeTransport())).toBeNull();
  });
});
