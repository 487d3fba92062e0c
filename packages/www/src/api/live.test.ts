import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveEvents, POLL_INTERVAL_MS, matchPattern, type LiveHandler } from './live.js';

/** Just enough of a browser WebSocket for LiveEvents. */
class FakeSocket {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  push(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.();
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const live = new LiveEvents('ws://test/ws', () => {
    const socket = new FakeSocket();
    sockets.push(socket);
    return socket as unknown as WebSocket;
  });
  return { live, sockets };
}

let current: LiveEvents | null = null;
afterEach(() => {
  current?.close();
  current = null;
  vi.useRealTimers();
});

describe('matchPattern', () => {
  it("matches Buildbot's patterns: same length, * for one part", () => {
    expect(matchPattern(['builds', '*', '*'], ['builds', '12', 'new'])).toBe(true);
    expect(matchPattern(['builds', '*', 'finished'], ['builds', '12', 'new'])).toBe(false);
    expect(matchPattern(['builds', '*', '*'], ['builds', '12', 'steps', '3', 'new'])).toBe(false);
    expect(matchPattern(['logs', '7', '*'], ['logs', '7', 'append'])).toBe(true);
  });
});

describe('LiveEvents', () => {
  it('consumes each path once over one socket and delivers matching events', () => {
    const { live, sockets } = setup();
    current = live;
    const a = vi.fn<LiveHandler>();
    const b = vi.fn<LiveHandler>();
    const stopA = live.subscribe('builds/*/*', a);
    const stopB = live.subscribe('builds/*/*', b);
    expect(sockets).toHaveLength(1);
    const socket = sockets[0]!;
    socket.open();
    expect(live.mode).toBe('live');
    expect(socket.sent).toEqual([{ cmd: 'startConsuming', path: 'builds/*/*', _id: 1 }]);

    socket.push({ k: 'builds/12/new', m: { buildid: 12 } });
    socket.push({ k: 'workers/1/connected', m: {} });
    socket.push({ msg: 'OK', code: 200, _id: 1 });
    expect(a).toHaveBeenCalledTimes(1);
    expect(a).toHaveBeenCalledWith(['builds', '12', 'new'], { buildid: 12 });
    expect(b).toHaveBeenCalledTimes(1);

    stopA();
    expect(socket.sent).toHaveLength(1);
    stopB();
    expect(socket.sent[1]).toEqual({ cmd: 'stopConsuming', path: 'builds/*/*', _id: 2 });
  });

  it('polls when the master has no WebSocket', () => {
    vi.useFakeTimers();
    const { live, sockets } = setup();
    current = live;
    const handler = vi.fn<LiveHandler>();
    live.subscribe('builds/*/*', handler);
    sockets[0]!.drop();
    vi.advanceTimersByTime(2_000);
    sockets[1]!.drop();
    expect(live.mode).toBe('polling');
    vi.advanceTimersByTime(POLL_INTERVAL_MS);
    expect(handler).toHaveBeenCalledWith(null, null);
  });

  it('after a lost connection, polls while reconnecting, then has everyone re-read once', () => {
    vi.useFakeTimers();
    const { live, sockets } = setup();
    current = live;
    const handler = vi.fn<LiveHandler>();
    live.subscribe('logs/7/*', handler);
    sockets[0]!.open();
    sockets[0]!.drop();
    expect(live.mode).toBe('reconnecting');
    vi.advanceTimersByTime(1_000); // the first retry: a new socket, not open yet
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(POLL_INTERVAL_MS - 1_000);
    expect(handler).toHaveBeenCalledWith(null, null);
    handler.mockClear();
    const again = sockets[1]!;
    again.open();
    expect(live.mode).toBe('live');
    expect(again.sent).toContainEqual(
      expect.objectContaining({ cmd: 'startConsuming', path: 'logs/7/*' }),
    );
    expect(handler).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(POLL_INTERVAL_MS * 3); // polling stopped with the socket back
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler).toHaveBeenCalledWith(null, null);
  });
});
