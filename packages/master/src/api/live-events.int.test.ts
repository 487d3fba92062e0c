/**
 * Live events against a real master and worker: /sse framing as Buildbot 3.7 (and as the
 * bench client parses it), /sse/add and /sse/remove, the /ws protocol; and, on a bare API
 * server, that a client which stops reading is dropped and unsubscribed.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pino } from 'pino';
import { waitFor } from '@yardmaster/testkit';
import { startApiFixture, type ApiFixture } from '../../test/api-fixture.js';
// A bare data layer for the backpressure test, which needs its own bus to count subscribers.
// eslint-disable-next-line import-x/no-restricted-paths
import { openDatabase } from '../db/connect.js';
// eslint-disable-next-line import-x/no-restricted-paths
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from '../data/data-api.js';
import { createApiServer } from './server.js';
import type { MasterControl } from './control.js';

interface SseEvent {
  event: string;
  data: string;
}

/**
 * An SSE client that parses exactly like the bench client (split on a blank line,
 * `event: handshake` first, one `data: ` line per event), keeping every block.
 */
class SseClient {
  readonly blocks: string[] = [];
  readonly events: SseEvent[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  ended = false;
  private request: http.ClientRequest | undefined;

  static async open(url: string): Promise<SseClient> {
    const client = new SseClient();
    await new Promise<void>((resolve, reject) => {
      const request = http.get(url, (res) => {
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            client.blocks.push(block);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event !== undefined && data !== undefined) client.events.push({ event, data });
            if (block.startsWith('event: handshake')) resolve();
          }
        });
        res.on('end', () => (client.ended = true));
        res.on('close', () => (client.ended = true));
        if (client.status !== 200) resolve();
      });
      request.on('error', reject);
      client.request = request;
    });
    return client;
  }

  get consumerId(): string {
    return this.events.find((e) => e.event === 'handshake')?.data ?? '';
  }

  messages(): { key: string[]; message: Record<string, unknown> }[] {
    return this.events
      .filter((e) => e.event === 'event')
      .map((e) => JSON.parse(e.data) as { key: string[]; message: Record<string, unknown> });
  }

  close(): void {
    this.request?.destroy();
  }
}

class WsClient {
  readonly frames: Record<string, unknown>[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      this.frames.push(JSON.parse(bytes.toString('utf8')) as Record<string, unknown>);
    });
  }

  static async open(url: string): Promise<WsClient> {
    const socket = new WebSocket(url);
    const client = new WsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a command and waits for the answer with its `_id`. */
  async call(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.send(frame);
    return waitFor(() => this.frames.find((f) => f._id === frame._id && f.k === undefined), {
      message: `the answer to ${JSON.stringify(frame)}`,
    });
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

describe('live events from a real master', () => {
  let f: ApiFixture;
  const clients: { close(): unknown }[] = [];

  beforeAll(async () => {
    f = await startApiFixture();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await f?.stop();
  });

  const sse = async (path: string) => {
    const client = await SseClient.open(`${f.base}${path}`);
    clients.push(client);
    return client;
  };

  it('streams a forced build over /sse/listen/builds/*/* in Buildbot framing, new before finished', async () => {
    const client = await sse('/sse/listen/builds/*/*');
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream');
    expect(client.blocks[0]).toMatch(/^event: handshake\ndata: [0-9a-f-]{36}$/);
    const brid = await f.force('noop');
    const finished = await waitFor(() =>
      client.messages().find((m) => m.key[2] === 'finished' && m.message.buildrequestid === brid),
    );
    const mine = client.messages().filter((m) => m.message.buildrequestid === brid);
    const buildid = String(finished.message.buildid);
    expect(
      mine.every((m) => m.key.length === 3 && m.key[0] === 'builds' && m.key[1] === buildid),
    ).toBe(true);
    const events = mine.map((m) => m.key[2]);
    expect(events[0]).toBe('new');
    expect(events.at(-1)).toBe('finished');
    expect(events.filter((e) => e === 'finished')).toHaveLength(1);
    expect(finished.message).toMatchObject({ buildrequestid: brid, complete: true, results: 0 });
    // The message is the build as the REST API shows it.
    const rest = await f.ok<{ builds: Record<string, unknown>[] }>(`/api/v2/builds/${buildid}`);
    expect(Object.keys(finished.message).sort()).toEqual(Object.keys(rest.builds[0] ?? {}).sort());
    // Every block is an event with one data line, or a comment.
    for (const block of client.blocks)
      expect(block).toMatch(/^(event: (handshake|event)\ndata: .+|: .*)$/);
  });

  it('filters by the event part and by builder, and expands collection paths', async () => {
    const finishedOnly = await sse('/sse/listen/builds/*/finished');
    const byBuilder = await sse(`/sse/builders/${f.builderIds.noop}/builds/*/*`);
    const collection = await sse('/sse/listen/buildrequests');
    const brid = await f.force('noop');
    await waitFor(() => finishedOnly.messages().some((m) => m.message.buildrequestid === brid));
    await waitFor(() =>
      collection
        .messages()
        .some((m) => m.key[2] === 'complete' && m.message.buildrequestid === brid),
    );
    expect(finishedOnly.messages().every((m) => m.key[2] === 'finished')).toBe(true);
    await waitFor(() =>
      byBuilder
        .messages()
        .some((m) => m.key[4] === 'finished' && m.message.buildrequestid === brid),
    );
    const number = String(byBuilder.messages()[0]?.message.number);
    expect(byBuilder.messages()[0]?.key.slice(0, 4)).toEqual([
      'builders',
      String(f.builderIds.noop),
      'builds',
      number,
    ]);
    expect(collection.messages().map((m) => m.key[2])).toEqual(
      expect.arrayContaining(['new', 'claimed', 'complete']),
    );
  });

  it('adds and removes subscriptions of an open stream by consumer id', async () => {
    const client = await sse('/sse');
    const id = client.consumerId;
    const get = async (path: string) => {
      const r = await fetch(`${f.base}${path}`, { headers: { connection: 'close' } });
      return { status: r.status, text: await r.text() };
    };
    expect(await get(`/sse/add/${id}/builds/*/finished`)).toEqual({ status: 200, text: 'ok' });
    expect(await get(`/sse/add/${id}/workers/*/*`)).toEqual({ status: 200, text: 'ok' });
    expect(await get('/sse/add/not-a-consumer/builds/*/*')).toEqual({
      status: 400,
      text: 'unknown uuid',
    });
    expect(await get('/sse/add')).toEqual({ status: 400, text: 'need uuid' });
    const brid = await f.force('noop');
    await waitFor(() => client.messages().some((m) => m.message.buildrequestid === brid));
    expect(await get(`/sse/remove/${id}/builds/*/finished`)).toEqual({ status: 200, text: 'ok' });
    expect(await get(`/sse/remove/${id}/builds/*/finished`)).toEqual({
      status: 404,
      text: 'consumer is not listening to this event',
    });
    const witness = await sse('/sse/listen/builds/*/finished');
    const before = client.messages().length;
    const second = await f.force('noop');
    await waitFor(() => witness.messages().some((m) => m.message.buildrequestid === second));
    expect(
      client
        .messages()
        .slice(before)
        .filter((m) => m.key[0] === 'builds'),
    ).toEqual([]);
  });

  it('refuses a malformed pattern', async () => {
    const r = await fetch(`${f.base}/sse/listen/builds//finished`, {
      headers: { connection: 'close' },
    });
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/invalid event path/);
  });

  it('speaks Buildbot\'s /ws protocol: startConsuming, events as {"k", "m"}, ping, stopConsuming', async () => {
    const ws = await WsClient.open(`ws://127.0.0.1:${f.master.webPort}/ws`);
    clients.push(ws);
    expect(await ws.call({ cmd: 'startConsuming', path: 'builds/*/*', _id: 1 })).toEqual({
      msg: 'OK',
      code: 200,
      _id: 1,
    });
    expect(await ws.call({ cmd: 'startConsuming', path: 'builds/*/*', _id: 2 })).toEqual({
      msg: 'OK',
      code: 200,
      _id: 2,
    });
    expect(await ws.call({ cmd: 'ping', _id: 3 })).toEqual({ msg: 'pong', code: 200, _id: 3 });
    const brid = await f.force('noop');
    const finished = await waitFor(() =>
      ws.frames.find(
        (x) =>
          typeof x.k === 'string' &&
          x.k.endsWith('/finished') &&
          (x.m as Record<string, unknown>).buildrequestid === brid,
      ),
    );
    const buildid = String((finished.m as Record<string, unknown>).buildid);
    const keys = ws.frames
      .filter((x) => typeof x.k === 'string' && x.k.startsWith(`builds/${buildid}/`))
      .map((x) => x.k);
    expect(keys[0]).toBe(`builds/${buildid}/new`);
    expect(keys.at(-1)).toBe(`builds/${buildid}/finished`);
    expect(Object.keys(finished).sort()).toEqual(['k', 'm']);

    expect(await ws.call({ cmd: 'stopConsuming', path: 'builds/*/*', _id: 4 })).toEqual({
      msg: 'OK',
      code: 200,
      _id: 4,
    });
    expect(await ws.call({ cmd: 'stopConsuming', path: 'builds/*/*', _id: 5 })).toEqual({
      error: "path was not consumed 'builds/*/*'",
      code: 400,
      _id: 5,
    });
    expect(await ws.call({ cmd: 'explode', _id: 6 })).toEqual({
      error: "no such command type 'explode'",
      code: 404,
      _id: 6,
    });
    expect(await ws.call({ cmd: 'startConsuming', path: 7, _id: 7 })).toMatchObject({
      code: 400,
      _id: 7,
    });
    expect(await ws.call({ cmd: 'startConsuming', _id: 8 })).toMatchObject({ code: 400, _id: 8 });
    expect(await ws.call({ cmd: 'startConsuming', path: 'builds//x', _id: 9 })).toMatchObject({
      code: 400,
      _id: 9,
    });
    const errorsBefore = ws.frames.filter((x) => x._id === null).length;
    ws.send({ cmd: 'ping' });
    ws.send('not json');
    ws.send({ _id: 10 });
    await waitFor(() => ws.frames.filter((x) => x._id === null).length === errorsBefore + 3);
    expect(ws.frames.filter((x) => x._id === null).slice(-3)).toEqual([
      { error: "no '_id' or 'type' in websocket frame", code: 400, _id: null },
      expect.objectContaining({ code: 400, _id: null }),
      { error: "no 'cmd' in websocket frame", code: 400, _id: null },
    ]);
    const after = ws.frames.length;
    await f.buildOf(await f.force('noop'));
    expect(ws.frames.slice(after).filter((x) => x.k !== undefined)).toEqual([]);
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${f.master.webPort}/elsewhere`);
    const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
    expect(error.message).toMatch(/404/);
  });

  it('closes open streams and sockets when the master stops', async () => {
    const client = await sse('/sse/listen/builds/*/*');
    const ws = await WsClient.open(`ws://127.0.0.1:${f.master.webPort}/ws`);
    clients.push(ws);
    const wsClosed = new Promise<number>((resolve) =>
      ws.socket.once('close', (code) => resolve(code)),
    );
    await f.stop();
    expect(await wsClosed).toBe(1001);
    await waitFor(() => client.ended, { message: 'the SSE stream to end' });
  });
});

describe('live events backpressure', () => {
  it('drops a client that stops reading and unsubscribes it', async () => {
    const handle = await openDatabase('sqlite://', '/tmp');
    const bus = new InProcessBus((error) => {
      throw error;
    });
    const data = new DataApi({ db: handle.db, bus, now: Date.now });
    const control: MasterControl = {
      forceSchedulers: () => [],
      configuredSchedulers: () => [],
      force: () => Promise.reject(new Error('no')),
      stopBuild: () => Promise.reject(new Error('no')),
      rebuild: () => Promise.reject(new Error('no')),
    };
    const app = createApiServer({
      data,
      control,
      log: pino({ level: 'silent' }),
      maxLiveEventBufferBytes: 256 * 1024,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const baseline = bus.subscriberCount;
    const socket = net.connect(port, '127.0.0.1');
    try {
      let received = '';
      await new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString();
          if (received.includes('event: handshake')) resolve();
        });
        socket.write('GET /sse/listen/logs/*/* HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(bus.subscriberCount).toBe(baseline + 1);
      // Stop reading: the kernel buffers fill, then the server's write buffer grows.
      socket.pause();
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const big = { logid: 1, text: 'x'.repeat(64 * 1024) };
      await waitFor(
        () => {
          for (let i = 0; i < 64; i++) bus.publish(['logs', '1', 'append'], big);
          return bus.subscriberCount === baseline;
        },
        { timeoutMs: 20_000, intervalMs: 10, message: 'the stalled client to be dropped' },
      );
      socket.resume();
      await closed;
      // A client that goes away on its own is unsubscribed too.
      const again = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => {
        again.once('data', () => resolve());
        again.write('GET /sse/listen/builds/*/* HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(bus.subscriberCount).toBe(baseline + 1);
      again.destroy();
      await waitFor(() => bus.subscriberCount === baseline, {
        message: 'the SSE client to be unsubscribed',
      });
    } finally {
      socket.destroy();
      await app.close();
      await handle.close();
    }
  });
});
