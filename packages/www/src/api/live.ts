/**
 * Live events from the master, for every page: one WebSocket at `/ws` speaking Buildbot's
 * protocol (`{"cmd": "startConsuming", "path": "builds/*\/*", "_id": 1}` → frames
 * `{"k": "builds/12/new", "m": {...}}`), shared by all subscribers and ref-counted per path.
 *
 * States: `connecting` → `live` (socket open) → `reconnecting` (socket lost; retried with
 * backoff) → `live` again; `polling` when the master has no WebSocket (it refused or never
 * opened one): then every subscriber is called on a timer, as if something had changed,
 * and the socket is tried again now and then.
 *
 * Invariants: a subscriber gets `(key, message)` for each event whose key matches its
 * pattern, or `(null, null)` when it should re-read everything (a poll tick, or the socket
 * came back after events may have been missed). Patterns are Buildbot's: the same number
 * of parts as the key, `*` matching any one part.
 */

export type LiveMode = 'connecting' | 'live' | 'reconnecting' | 'polling';
export type LiveHandler = (key: string[] | null, message: unknown) => void;

interface Subscriber {
  parts: string[];
  handler: LiveHandler;
}

export const POLL_INTERVAL_MS = 3_000;
const RETRY_SOCKET_WHILE_POLLING_MS = 30_000;
const MAX_BACKOFF_MS = 10_000;
/** WebSocket.OPEN, spelled out so this module also loads where WebSocket is not a global. */
const OPEN = 1;

export function matchPattern(pattern: readonly string[], key: readonly string[]): boolean {
  if (pattern.length !== key.length) return false;
  return pattern.every((part, i) => part === '*' || part === key[i]);
}

export class LiveEvents {
  private socket: WebSocket | null = null;
  private readonly subscribers = new Set<Subscriber>();
  /** path → number of subscribers asking for it. */
  private readonly paths = new Map<string, number>();
  private readonly modeListeners = new Set<() => void>();
  private nextId = 1;
  private failures = 0;
  private everOpened = false;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _mode: LiveMode = 'connecting';

  constructor(
    private readonly url: string,
    private readonly createSocket: (url: string) => WebSocket = (u) => new WebSocket(u),
  ) {}

  get mode(): LiveMode {
    return this._mode;
  }

  onModeChange(listener: () => void): () => void {
    this.modeListeners.add(listener);
    return () => this.modeListeners.delete(listener);
  }

  /** Calls `handler` for events matching `path` (`builds/*\/*`) until the returned function is called. */
  subscribe(path: string, handler: LiveHandler): () => void {
    const subscriber: Subscriber = { parts: path.split('/'), handler };
    this.subscribers.add(subscriber);
    const count = this.paths.get(path) ?? 0;
    this.paths.set(path, count + 1);
    if (count === 0) this.send({ cmd: 'startConsuming', path });
    this.ensureConnected();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.subscribers.delete(subscriber);
      const left = (this.paths.get(path) ?? 1) - 1;
      if (left > 0) this.paths.set(path, left);
      else {
        this.paths.delete(path);
        this.send({ cmd: 'stopConsuming', path });
      }
    };
  }

  private setMode(mode: LiveMode): void {
    if (this._mode === mode) return;
    this._mode = mode;
    for (const l of this.modeListeners) l();
  }

  private send(frame: Record<string, unknown>): void {
    if (this.socket?.readyState === OPEN) {
      this.socket.send(JSON.stringify({ ...frame, _id: this.nextId++ }));
    }
  }

  private ensureConnected(): void {
    if (this.socket || this.retryTimer) return;
    this.connect();
  }

  private connect(): void {
    this.retryTimer = null;
    let socket: WebSocket;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.socketFailed();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      const missedEvents = this.everOpened || this._mode === 'polling';
      this.everOpened = true;
      this.failures = 0;
      this.stopPolling();
      this.setMode('live');
      for (const path of this.paths.keys()) this.send({ cmd: 'startConsuming', path });
      // Events may have happened while the socket was down: everyone re-reads once.
      if (missedEvents) this.broadcast(null, null);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame === 'object' && 'k' in frame) {
        const { k, m } = frame as { k: unknown; m: unknown };
        if (typeof k === 'string') this.broadcast(k.split('/'), m);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (opened) this.failures = 0;
      this.socketFailed();
    };
  }

  private socketFailed(): void {
    this.failures++;
    if (this.subscribers.size === 0 && this.paths.size === 0) {
      this.setMode('connecting');
      return;
    }
    // Never opened twice in a row: this master has no live events; poll instead.
    if (!this.everOpened && this.failures >= 2) {
      this.setMode('polling');
      this.startPolling();
      this.retryTimer = setTimeout(() => this.connect(), RETRY_SOCKET_WHILE_POLLING_MS);
      return;
    }
    if (this._mode !== 'polling') this.setMode(this.everOpened ? 'reconnecting' : 'connecting');
    // While the socket is down, keep pages fresh by polling.
    if (this.everOpened) this.startPolling();
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 5));
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
      this.broadcast(null, null);
    }, POLL_INTERVAL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private broadcast(key: string[] | null, message: unknown): void {
    for (const s of [...this.subscribers]) {
      if (key !== null && !matchPattern(s.parts, key)) continue;
      try {
        s.handler(key, message);
      } catch (error) {
        console.error('a live-event handler failed', error);
      }
    }
  }

  /** Stops everything (tests). */
  close(): void {
    this.stopPolling();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }
}

function defaultUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/ws`;
}

let shared: LiveEvents | null = null;

/** The page's one live-event connection. */
export function liveEvents(): LiveEvents {
  shared ??= new LiveEvents(defaultUrl());
  return shared;
}
