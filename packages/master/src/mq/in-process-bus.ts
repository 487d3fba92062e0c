/**
 * The bus for one master: delivers each event synchronously to every matching
 * subscriber, in subscription order. A throwing subscriber is reported and does not
 * stop delivery to the others.
 */
import type { Bus, EventHandler, EventKey, Subscription } from './bus.js';
import { keyMatches } from './bus.js';

interface Entry {
  pattern: readonly string[];
  handler: EventHandler;
}

export class InProcessBus implements Bus {
  private readonly entries = new Set<Entry>();

  constructor(private readonly onHandlerError: (error: unknown, key: EventKey) => void) {}

  publish(key: EventKey, message: unknown): void {
    for (const entry of [...this.entries]) {
      if (!keyMatches(entry.pattern, key)) continue;
      try {
        entry.handler(key, message);
      } catch (error) {
        this.onHandlerError(error, key);
      }
    }
  }

  publishAll(keys: readonly EventKey[], message: unknown): void {
    for (const key of keys) this.publish(key, message);
  }

  subscribe(pattern: readonly string[], handler: EventHandler): Subscription {
    const entry: Entry = { pattern, handler };
    this.entries.add(entry);
    return { unsubscribe: () => this.entries.delete(entry) };
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }

  get subscriberCount(): number {
    return this.entries.size;
  }
}
