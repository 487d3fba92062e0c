/**
 * Live events for readers outside the data layer (the REST API's /sse and /ws): a thin
 * window on the bus, so that api/ never imports mq/. Keys look like
 * `['builds', '12', 'finished']`; a pattern has the same length, with `*` for any part.
 */
import type { DataContext } from './context.js';
import type { EventHandler, EventKey, Subscription } from '../mq/bus.js';

export type { EventHandler, EventKey, Subscription };

export class EventsData {
  constructor(private readonly ctx: DataContext) {}

  /** Calls `handler` synchronously for every event whose key matches `pattern`. */
  subscribe(pattern: readonly string[], handler: EventHandler): Subscription {
    return this.ctx.bus.subscribe(pattern, handler);
  }
}
