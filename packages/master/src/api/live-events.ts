/**
 * Live events for web clients: the consumers behind `GET /sse/...` and the `/ws`
 * WebSocket, each subscribed to bus events by path patterns such as `builds/*\/*`.
 *
 * Owns: every live consumer (by id), its subscriptions (by the path string it asked for),
 * and one keepalive timer that runs while any consumer is connected.
 * States of a consumer: open → closed. Closing (client gone, too far behind, or master
 * shutting down) unsubscribes everything and removes it from the hub; it happens once.
 * Invariants: a closed consumer has no subscription left and receives nothing; a consumer
 * whose transport holds more than `maxBufferedBytes` unsent is closed rather than
 * buffered further, so a stalled client cannot grow the master's memory.
 *
 * Patterns follow Buildbot's message-queue keys: same number of parts as the key, `*` for
 * any one part (`builds/*\/finished`, `builders/3/builds/*\/*`). As an extension, a path
 * that names a collection (`builds`, `builders/3/builds`) or one entity (`builds/12`)
 * means all of its events (`builds/*\/*`, `builds/12/*`); Buildbot would deliver nothing
 * for these, since no event key has that shape.
 */
import { randomUUID } from 'node:crypto';
import type { EventKey, EventsData, Subscription } from '../data/events.js';
import type { Logger } from '../logger.js';

/** How a consumer's events reach its client. */
export interface LiveTransport {
  readonly kind: 'sse' | 'ws';
  send(key: EventKey, message: unknown): void;
  /** Bytes accepted but not yet written to the socket. */
  bufferedBytes(): number;
  keepalive(): void;
  /** Ends the connection; `reason` is for the log. */
  close(reason: string): void;
}

export interface LiveEventsOptions {
  log: Logger;
  /** A consumer with more than this many unsent bytes is dropped (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Keepalive period: an SSE comment or a WebSocket ping (default 15 s). */
  keepaliveMs?: number;
}

/** Names of Buildbot's resource collections, for the collection-path extension above. */
const COLLECTIONS = new Set([
  'builders',
  'builds',
  'buildrequests',
  'buildsets',
  'changes',
  'changesources',
  'logs',
  'masters',
  'schedulers',
  'sourcestamps',
  'steps',
  'workers',
]);

/** Parses `builds/*\/*` into a bus pattern; undefined if a part is empty or undecodable. */
export function parseEventPattern(path: string): string[] | undefined {
  if (path === '') return undefined;
  let parts: string[];
  try {
    parts = path.split('/').map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
  if (parts.some((p) => p === '')) return undefined;
  const last = parts[parts.length - 1] ?? '';
  if (COLLECTIONS.has(last)) return [...parts, '*', '*'];
  if (parts.length % 2 === 0) return [...parts, '*'];
  return parts;
}

export class LiveConsumer {
  readonly id = randomUUID();
  private readonly subscriptions = new Map<string, Subscription>();
  private open = true;

  constructor(
    private readonly hub: LiveEvents,
    readonly transport: LiveTransport,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Paths this consumer listens to, as it gave them. */
  get paths(): string[] {
    return [...this.subscriptions.keys()];
  }

  /**
   * Starts delivering events matching `path`; 'already' if it listens to it already.
   * Throws on a path that is not a pattern.
   */
  startConsuming(path: string): 'started' | 'already' {
    if (!this.open) throw new Error(`live consumer ${this.id} is closed`);
    if (this.subscriptions.has(path)) return 'already';
    const pattern = parseEventPattern(path);
    if (!pattern) throw new InvalidEventPathError(path);
    this.subscriptions.set(
      path,
      this.hub.subscribe(pattern, (key, message) => this.deliver(key, message)),
    );
    return 'started';
  }

  /** Stops the subscription to `path`; false if there was none. */
  stopConsuming(path: string): boolean {
    const subscription = this.subscriptions.get(path);
    if (!subscription) return false;
    subscription.unsubscribe();
    this.subscriptions.delete(path);
    return true;
  }

  /** Unsubscribes everything and ends the transport; idempotent. */
  close(reason: string): void {
    if (!this.open) return;
    this.open = false;
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
    this.hub.remove(this);
    this.transport.close(reason);
  }

  private deliver(key: EventKey, message: unknown): void {
    if (!this.open) return;
    if (this.transport.bufferedBytes() > this.hub.maxBufferedBytes) {
      this.hub.log.warn(
        { consumer: this.id, kind: this.transport.kind, buffered: this.transport.bufferedBytes() },
        `live-events client ${this.id} (${this.transport.kind}) is too far behind; disconnecting it`,
      );
      this.close('too far behind');
      return;
    }
    this.transport.send(key, message);
  }
}

export class InvalidEventPathError extends Error {
  constructor(readonly path: string) {
    super(
      `invalid event path "${path}": use parts separated by "/", with * for any part, e.g. builds/*/*`,
    );
  }
}

export class LiveEvents {
  readonly log: Logger;
  readonly maxBufferedBytes: number;
  private readonly keepaliveMs: number;
  private readonly consumers = new Map<string, LiveConsumer>();
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly events: EventsData,
    options: LiveEventsOptions,
  ) {
    this.log = options.log;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.keepaliveMs = options.keepaliveMs ?? 15_000;
  }

  get size(): number {
    return this.consumers.size;
  }

  /** A new consumer for a connected client; refused (null) once the hub is closed. */
  add(transport: LiveTransport): LiveConsumer | null {
    if (this.closed) return null;
    const consumer = new LiveConsumer(this, transport);
    this.consumers.set(consumer.id, consumer);
    if (!this.keepaliveTimer) {
      this.keepaliveTimer = setInterval(() => {
        for (const c of this.consumers.values()) c.transport.keepalive();
      }, this.keepaliveMs);
      this.keepaliveTimer.unref();
    }
    return consumer;
  }

  get(id: string): LiveConsumer | undefined {
    return this.consumers.get(id);
  }

  subscribe(
    pattern: readonly string[],
    handler: (key: EventKey, message: unknown) => void,
  ): Subscription {
    return this.events.subscribe(pattern, handler);
  }

  /** Called by a consumer as it closes. */
  remove(consumer: LiveConsumer): void {
    this.consumers.delete(consumer.id);
    if (this.consumers.size === 0 && this.keepaliveTimer) {
      clearInterval(this.keepaliveTimer);
      this.keepaliveTimer = null;
    }
  }

  /** Closes every consumer (the master is stopping) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const consumer of [...this.consumers.values()])
      consumer.close('the master is shutting down');
  }
}
