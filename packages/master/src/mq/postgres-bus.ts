/**
 * The bus between masters on one PostgreSQL database, with no broker.
 *
 * Publishing delivers to this master's subscribers at once (as the in-process bus) and
 * appends the event to `mq_events`, batched (one flush at a time and at most one per
 * `flushIntervalMs`; what is published meanwhile goes in the next), with a `NOTIFY` in
 * the same statement. Other masters read new rows when notified and, behind that, every
 * `pollMs`, so a lost notification or a dropped listening connection only delays an
 * event, never loses it. The listening connection reconnects by itself with backoff.
 *
 * Reading: rows are read by id above a low-water mark. Ids are assigned at insert but
 * become visible at commit, so a lower id can appear after a higher one: ids above the
 * mark already delivered are remembered, and a hole is waited for up to `gapTimeoutMs`
 * (then taken for a rolled-back insert) before the mark moves past it.
 * Old rows are deleted after `retentionMs` by whichever master gets there.
 */
import { randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from '../db/schema.js';
import type { Bus, EventHandler, EventKey, Subscription } from './bus.js';
import { InProcessBus } from './in-process-bus.js';

export const CHANNEL = 'yardmaster_events';

export interface PostgresBusOptions {
  db: Kysely<Database>;
  /** URL for the dedicated LISTEN connection. */
  url: string;
  onError: (error: unknown, context: string) => void;
  now?: () => number;
  pollMs?: number;
  /** Least time between two writes of events (default 50 ms). */
  flushIntervalMs?: number;
  gapTimeoutMs?: number;
  retentionMs?: number;
}

interface Pending {
  key: string;
  /** The message's other keys, '\n'-separated, or null. */
  more: string | null;
  message: string;
}

export class PostgresBus implements Bus {
  /** This bus's id in `mq_events.origin`: its own events are not delivered twice. */
  readonly origin = randomInt(1, 2 ** 31 - 1);
  private readonly local: InProcessBus;
  private readonly db: Kysely<Database>;
  private readonly now: () => number;
  private outbox: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private flushScheduled = false;
  private lastFlushAt = 0;
  private readonly flushIntervalMs: number;
  private lowWater = 0;
  private readonly delivered = new Set<number>();
  private readonly gapSeen = new Map<number, number>();
  private reading: Promise<void> | null = null;
  private readAgain = false;
  private listener: pg.Client | null = null;
  private listenerBackoffMs = 250;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private janitorTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Counters for metrics and tests. */
  readonly stats = { published: 0, received: 0, notifications: 0, polls: 0, listenerReconnects: 0 };

  constructor(private readonly options: PostgresBusOptions) {
    this.db = options.db;
    this.now = options.now ?? Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.local = new InProcessBus((error, key) =>
      options.onError(error, `subscriber of ${key.join('/')}`),
    );
  }

  /** Starts reading: everything published from now on by other masters is delivered. */
  async start(): Promise<void> {
    const max = await this.db
      .selectFrom('mq_events')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    this.lowWater = Number(max?.id ?? 0);
    await this.connectListener();
    this.pollTimer = setInterval(() => this.read(), this.options.pollMs ?? 1000);
    this.pollTimer.unref();
    const retention = this.options.retentionMs ?? 5 * 60_000;
    this.janitorTimer = setInterval(() => {
      this.db
        .deleteFrom('mq_events')
        .where('created_at', '<', this.now() - retention)
        .execute()
        .catch((error: unknown) => this.options.onError(error, 'deleting old events'));
    }, 60_000);
    this.janitorTimer.unref();
  }

  publish(key: EventKey, message: unknown): void {
    this.publishAll([key], message);
  }

  publishAll(keys: readonly EventKey[], message: unknown): void {
    for (const key of keys) this.local.publish(key, message);
    if (this.closed || keys.length === 0) return;
    this.stats.published++;
    // The canonical `type/id/event` key goes in event_key (a master of the previous
    // version reads only that one), the others in more_keys.
    const first = keys.find((k) => k.length === 3) ?? keys[0]!;
    const more = keys.filter((k) => k !== first).map((k) => k.join('/'));
    this.outbox.push({
      key: first.join('/'),
      more: more.length > 0 ? more.join('\n') : null,
      message: JSON.stringify(message ?? null),
    });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // At most one flush per `flushIntervalMs`: an event published after a quiet spell
      // is stored on the next tick, one in a busy spell waits for the interval, so the
      // bus costs a bounded number of statements per second (on this master, and reads
      // on the others) however many builds run.
      const wait = Math.max(0, this.lastFlushAt + this.flushIntervalMs - performance.now());
      const run = () => {
        this.flushScheduled = false;
        void this.flush();
      };
      if (wait === 0) setImmediate(run);
      else setTimeout(run, wait);
    }
  }

  subscribe(pattern: readonly string[], handler: EventHandler): Subscription {
    return this.local.subscribe(pattern, handler);
  }

  /** Writes what was published and not yet stored; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.flushing) {
      return this.flushing.then(() => (this.outbox.length > 0 ? this.flush() : undefined));
    }
    const batch = this.outbox;
    if (batch.length === 0) return Promise.resolve();
    this.outbox = [];
    const createdAt = this.now();
    this.lastFlushAt = performance.now();
    let stored = 0;
    this.flushing = (async () => {
      // One statement per 500 events: the rows and the NOTIFY together (a data-modifying
      // CTE runs whether or not it is read), so a flush is one round trip, not four.
      for (let i = 0; i < batch.length; i += 500) {
        const rows = batch.slice(i, i + 500).map((e) => ({
          origin: this.origin,
          event_key: e.key,
          more_keys: e.more,
          message: e.message,
          created_at: createdAt,
        }));
        await this.db
          .with('stored', (db) => db.insertInto('mq_events').values(rows))
          .selectNoFrom(sql<string>`pg_notify(${CHANNEL}, '')`.as('notified'))
          .execute();
        stored = i + rows.length;
      }
    })()
      .catch((error: unknown) => {
        // The database is away: keep the events not stored yet and try again.
        this.outbox = [...batch.slice(stored), ...this.outbox];
        this.options.onError(error, 'storing events');
        if (!this.closed) setTimeout(() => void this.flush(), 1000).unref();
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  private async connectListener(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.options.url, keepAlive: true });
    client.on('notification', () => {
      this.stats.notifications++;
      this.read();
    });
    const lost = (error?: unknown) => {
      if (this.listener !== client) return;
      this.listener = null;
      if (error) this.options.onError(error, 'the LISTEN connection');
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', (error) => lost(error));
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      this.listenerBackoffMs = 250;
      this.read(); // catch up on what was missed while not listening
    } catch (error) {
      client.end().catch(() => undefined);
      this.options.onError(error, 'connecting the LISTEN connection');
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = this.listenerBackoffMs;
    this.listenerBackoffMs = Math.min(this.listenerBackoffMs * 2, 10_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.stats.listenerReconnects++;
      void this.connectListener();
    }, delay);
    this.reconnectTimer.unref();
  }

  /** For tests: drops the LISTEN connection as a network fault would. */
  dropListener(): void {
    const client = this.listener;
    if (!client) return;
    client.emit('error', new Error('listening connection dropped on purpose'));
  }

  /** Reads and delivers new events; one read at a time, a request during it reads again. */
  private read(): void {
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = (async () => {
      do {
        this.readAgain = false;
        this.stats.polls++;
        try {
          await this.readOnce();
        } catch (error) {
          this.options.onError(error, 'reading events');
        }
      } while (this.readAgain && !this.closed);
      this.reading = null;
    })();
  }

  private async readOnce(): Promise<void> {
    for (;;) {
      const rows = await this.db
        .selectFrom('mq_events')
        .select(['id', 'origin', 'event_key', 'more_keys', 'message'])
        .where('id', '>', this.lowWater)
        .orderBy('id')
        .limit(2000)
        .execute();
      let fresh = 0;
      for (const row of rows) {
        const id = Number(row.id);
        if (this.delivered.has(id)) continue;
        this.delivered.add(id);
        fresh++;
        if (row.origin === this.origin) continue;
        this.stats.received++;
        let message: unknown = null;
        try {
          message = JSON.parse(row.message);
        } catch {
          message = null;
        }
        this.local.publish(row.event_key.split('/'), message);
        if (row.more_keys) {
          for (const key of row.more_keys.split('\n')) this.local.publish(key.split('/'), message);
        }
      }
      this.advanceLowWater(rows.length > 0 ? Number(rows[rows.length - 1]?.id) : this.lowWater);
      if (rows.length < 2000 || fresh === 0) return;
    }
  }

  private advanceLowWater(highest: number): void {
    const now = this.now();
    const gapTimeout = this.options.gapTimeoutMs ?? 5_000;
    while (this.lowWater < highest) {
      const next = this.lowWater + 1;
      if (this.delivered.delete(next)) {
        this.gapSeen.delete(next);
        this.lowWater = next;
        continue;
      }
      const since = this.gapSeen.get(next);
      if (since === undefined) {
        this.gapSeen.set(next, now);
        return;
      }
      if (now - since < gapTimeout) return;
      this.gapSeen.delete(next); // a rolled-back insert: never coming
      this.lowWater = next;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of [this.pollTimer, this.janitorTimer, this.reconnectTimer])
      if (timer) clearInterval(timer);
    await this.flushing?.catch(() => undefined);
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0) {
      this.closed = false;
      this.outbox = batch;
      await this.flush().catch(() => undefined);
      this.closed = true;
    }
    await this.reading;
    const client = this.listener;
    this.listener = null;
    await client?.end().catch(() => undefined);
    await this.local.close();
  }
}
