/**
 * The UI's read cache: one entry per REST path, shared by every component that shows it.
 *
 * Each entry owns the last data (or error) for its path and at most one request in flight.
 * A page declares which live-event paths concern it (`builds/*\/*`); an event matching one
 * marks the entry stale, and it re-reads — at most once per `MIN_REFRESH_GAP_MS`, the
 * events in between coalesced into that one request — so a busy master cannot make a page
 * fire a request per event. Entries nobody shows are kept for a while, so the back button
 * draws the previous page at once from the cache, then refreshes it.
 *
 * Invariants: a snapshot object changes only when its data, error or loading flag does
 * (React re-renders on identity); an entry with listeners is never evicted.
 */
import { useCallback, useEffect, useSyncExternalStore } from 'react';
import { ApiError, getJson } from './client.js';
import { liveEvents } from './live.js';

export interface QuerySnapshot<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** True until the first answer (data or error) arrives. */
  loading: boolean;
}

export const MIN_REFRESH_GAP_MS = 750;
const MAX_IDLE_ENTRIES = 60;

const EMPTY: QuerySnapshot<never> = Object.freeze({
  data: undefined,
  error: undefined,
  loading: false,
});

class Entry {
  snapshot: QuerySnapshot<unknown> = { data: undefined, error: undefined, loading: true };
  private readonly listeners = new Set<() => void>();
  private inflight = false;
  private stale = false;
  private lastStart = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  lastUsed = Date.now();

  constructor(readonly path: string) {}

  get watched(): boolean {
    return this.listeners.size > 0;
  }

  subscribe = (listener: () => void): (() => void) => {
    const first = this.listeners.size === 0;
    this.listeners.add(listener);
    this.lastUsed = Date.now();
    // A page (re)appearing shows what the cache has and reads it again.
    if (first) this.invalidate();
    return () => {
      this.listeners.delete(listener);
      this.lastUsed = Date.now();
    };
  };

  getSnapshot = (): QuerySnapshot<unknown> => this.snapshot;

  invalidate(): void {
    if (this.inflight) {
      this.stale = true;
      return;
    }
    if (this.timer) return;
    const wait = this.lastStart + MIN_REFRESH_GAP_MS - Date.now();
    if (wait > 0 && this.snapshot.data !== undefined) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.fetch();
      }, wait);
      return;
    }
    this.fetch();
  }

  private fetch(): void {
    this.inflight = true;
    this.stale = false;
    this.lastStart = Date.now();
    getJson<unknown>(this.path).then(
      (data) => this.settle({ data, error: undefined, loading: false }),
      (error: unknown) =>
        this.settle({
          data: this.snapshot.data,
          error: error instanceof ApiError ? error : new ApiError(String(error), 0),
          loading: false,
        }),
    );
  }

  private settle(next: QuerySnapshot<unknown>): void {
    this.inflight = false;
    this.snapshot = next;
    for (const l of [...this.listeners]) l();
    if (this.stale && this.watched) this.invalidate();
  }
}

const cache = new Map<string, Entry>();

function entryFor(path: string): Entry {
  let entry = cache.get(path);
  if (!entry) {
    entry = new Entry(path);
    cache.set(path, entry);
    prune();
  }
  return entry;
}

function prune(): void {
  const idle = [...cache.values()]
    .filter((e) => !e.watched)
    .sort((a, b) => a.lastUsed - b.lastUsed);
  for (const e of idle.slice(0, Math.max(0, idle.length - MAX_IDLE_ENTRIES))) cache.delete(e.path);
}

/** Makes every shown entry re-read (after an action whose effects we want to see now). */
export function refreshAll(): void {
  for (const e of cache.values()) if (e.watched) e.invalidate();
}

/** Re-reads the entries whose path starts with `prefix`. */
export function refreshPaths(prefix: string): void {
  for (const e of cache.values()) if (e.watched && e.path.startsWith(prefix)) e.invalidate();
}

const noSubscribe = () => () => undefined;
const noSnapshot = () => EMPTY;

export interface QueryOptions {
  /** Live-event paths (Buildbot patterns) whose events make this path stale. */
  live?: readonly string[];
  /** Also re-read on this period (for data that changes without events, such as heartbeats). */
  refreshMs?: number;
}

/**
 * Reads `/api/v2<path>` (null: nothing yet, for reads that wait on another) and keeps it
 * fresh with live events.
 */
export function useApi<T>(
  path: string | null,
  options: QueryOptions = {},
): QuerySnapshot<T> & { reload: () => void } {
  const entry = path === null ? null : entryFor(path);
  const snapshot = useSyncExternalStore(
    entry ? entry.subscribe : noSubscribe,
    entry ? entry.getSnapshot : noSnapshot,
  ) as QuerySnapshot<T>;
  const livePaths = (options.live ?? []).join(' ');
  const refreshMs = options.refreshMs ?? 0;

  useEffect(() => {
    if (!entry || livePaths === '') return undefined;
    const live = liveEvents();
    const unsubscribes = livePaths
      .split(' ')
      .map((p) => live.subscribe(p, () => entry.invalidate()));
    // Unsubscribed after the next effect has subscribed (React runs a cleanup and the next
    // effect in one task): a path kept across a change of `live` is never stopped and
    // restarted, so no event falls between the two.
    return () => queueMicrotask(() => unsubscribes.forEach((u) => u()));
  }, [entry, livePaths]);

  useEffect(() => {
    if (!entry || refreshMs <= 0) return undefined;
    const timer = setInterval(() => entry.invalidate(), refreshMs);
    return () => clearInterval(timer);
  }, [entry, refreshMs]);

  const reload = useCallback(() => entry?.invalidate(), [entry]);
  return { ...snapshot, reload };
}

/** Forgets everything (tests). */
export function clearCache(): void {
  cache.clear();
}
