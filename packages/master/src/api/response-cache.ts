/**
 * A cache of rendered REST responses (the JSON bytes of `GET /api/v2/...`), keyed by the
 * request's path and query exactly as sent, and emptied by the bus events that can change
 * them: each cacheable route names the event patterns its data depends on (a topic, for
 * example `builds/*\/*` for the build lists).
 *
 * Owns: the entries (a Map in least-recently-used order), one bus subscription per topic
 * and one generation counter per topic.
 * Invariants:
 * - An event of a topic removes every entry of that topic synchronously, while the bus
 *   delivers it, and bumps the topic's generation. Events from other masters reach this
 *   bus too (PostgresBus), so after an event is delivered here no response rendered
 *   before it is served again.
 * - A response is stored only if no event of its topics was delivered between the start
 *   of its reads (`begin`) and its storing (`store`): a read that raced a write is served
 *   once and never cached.
 * - Writes must publish their event after they commit (the data layer does: write, then
 *   publish); an entity whose table changes without an event must not be cached.
 * - At most `maxEntries` entries and `maxBytes` bytes; the least recently used leave first.
 * - No entry is served after `maxAgeMs` (default 5 s): the bound on staleness if an event
 *   never arrives (a master that dies between committing a write and its bus batch
 *   reaching the database, see mq/ "at most one bus write per 50 ms").
 * A closed cache unsubscribes, stores nothing and finds nothing.
 */
import type { EventsData, Subscription } from '../data/events.js';

/** Bus patterns (`['builds', '*', '*']`) whose events change a route's responses. */
export type Topic = readonly (readonly string[])[];

export interface ResponseCacheOptions {
  /** Most entries kept (default 256). */
  maxEntries?: number;
  /** Most response bytes kept in all (default 8 MiB). A larger response is not cached. */
  maxBytes?: number;
  /** Longest an entry is served, in ms, events or not (default 5,000). */
  maxAgeMs?: number;
  /** The clock (ms); tests pass their own. */
  now?: () => number;
}

interface TopicState {
  generation: number;
  keys: Set<string>;
  subscriptions: Subscription[];
}

interface Entry {
  body: Buffer;
  topic: TopicState;
  storedAt: number;
}

/** What `begin` hands out and `store` checks: the topic's generation when reading began. */
export interface FillTicket {
  readonly topic: TopicState;
  readonly generation: number;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  /** By the topic's patterns joined (`builds/*\/*`), so equal topics share their state. */
  private readonly topics = new Map<string, TopicState>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private bytes = 0;
  private closed = false;
  /** Counters for tests and metrics. */
  readonly stats = { hits: 0, misses: 0, stored: 0, invalidations: 0, raced: 0 };

  constructor(
    private readonly events: Pick<EventsData, 'subscribe'>,
    options: ResponseCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 256;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.maxAgeMs = options.maxAgeMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The cached body for `key`, or undefined; a hit becomes the most recently used. */
  get(key: string): Buffer | undefined {
    const entry = this.entries.get(key);
    const fresh = entry !== undefined && this.now() - entry.storedAt <= this.maxAgeMs;
    if (!fresh) {
      if (entry) this.remove(key);
      this.stats.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.stats.hits++;
    return entry.body;
  }

  /** Call before reading the data of a response of `topic`; hand the ticket to `store`. */
  begin(topic: Topic): FillTicket {
    const state = this.topicState(topic);
    return { topic: state, generation: state.generation };
  }

  /** Keeps `body` for `key` unless an event of the ticket's topic came since `begin`. */
  store(key: string, ticket: FillTicket, body: Buffer): void {
    if (this.closed) return;
    if (ticket.generation !== ticket.topic.generation) {
      this.stats.raced++;
      return;
    }
    if (body.length > this.maxBytes) return;
    this.remove(key);
    this.entries.set(key, { body, topic: ticket.topic, storedAt: this.now() });
    ticket.topic.keys.add(key);
    this.bytes += body.length;
    this.stats.stored++;
    for (const [oldest] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
  }

  /** Unsubscribes from the bus and drops every entry. */
  close(): void {
    this.closed = true;
    for (const state of this.topics.values()) {
      for (const subscription of state.subscriptions) subscription.unsubscribe();
      state.generation++;
    }
    this.topics.clear();
    this.entries.clear();
    this.bytes = 0;
  }

  private topicState(topic: Topic): TopicState {
    const name = topic.map((pattern) => pattern.join('/')).join(' ');
    const known = this.topics.get(name);
    if (known) return known;
    const created: TopicState = { generation: 0, keys: new Set(), subscriptions: [] };
    if (this.closed) return created;
    const invalidate = () => {
      created.generation++;
      if (created.keys.size === 0) return;
      this.stats.invalidations++;
      for (const key of [...created.keys]) this.remove(key);
    };
    for (const pattern of topic) {
      created.subscriptions.push(this.events.subscribe(pattern, invalidate));
    }
    this.topics.set(name, created);
    return created;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    entry.topic.keys.delete(key);
    this.bytes -= entry.body.length;
  }
}
