/**
 * The web UI's WebSocket at `/ws`, speaking Buildbot 3.7's "legacy" protocol
 * (`buildbot/www/ws.py`), JSON text frames:
 *   client  {"cmd": "startConsuming", "path": "builds/*\/*", "_id": 1}
 *   server  {"msg": "OK", "code": 200, "_id": 1}
 *   server  {"k": "builds/12/new", "m": {...build...}}          for each matching event
 *   client  {"cmd": "stopConsuming", "path": "...", "_id": 2}   → OK, or 400 if not consumed
 *   client  {"cmd": "ping", "_id": 3}                           → {"msg": "pong", "code": 200, "_id": 3}
 * Errors: {"error": "...", "code": 400|404|500, "_id": ...}. Buildbot's GraphQL
 * subscriptions (frames with "type") are not supported and get a 400.
 *
 * Owns the WebSocketServer (noServer) attached to the web server's `upgrade` event for
 * `/ws`; each connection is one LiveConsumer in the hub, closed with its socket, when it
 * falls too far behind (bufferedAmount), or when the master stops.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { EventKey } from '../data/events.js';
import {
  InvalidEventPathError,
  type LiveConsumer,
  type LiveEvents,
  type LiveTransport,
} from './live-events.js';

const MAX_FRAME_BYTES = 64 * 1024;

class WsTransport implements LiveTransport {
  readonly kind = 'ws';

  constructor(private readonly socket: WebSocket) {}

  send(key: EventKey, message: unknown): void {
    this.json({ k: key.join('/'), m: message });
  }

  json(frame: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  keepalive(): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping();
  }

  close(reason: string): void {
    if (reason === 'too far behind') {
      this.socket.terminate();
      return;
    }
    if (
      this.socket.readyState === this.socket.OPEN ||
      this.socket.readyState === this.socket.CONNECTING
    ) {
      this.socket.close(1001, reason.slice(0, 100));
      // A client that never answers the close handshake must not hold the master's shutdown.
      const timer = setTimeout(() => this.socket.terminate(), 2000);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
    }
  }
}

type Frame = Record<string, unknown>;

function handleFrame(consumer: LiveConsumer, transport: WsTransport, raw: RawData): void {
  const error = (message: string, code: number, id: unknown) =>
    transport.json({ error: message, code, _id: id ?? null });
  let frame: Frame;
  try {
    const bytes = Buffer.isBuffer(raw)
      ? raw
      : Array.isArray(raw)
        ? Buffer.concat(raw)
        : Buffer.from(raw);
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    frame = parsed as Frame;
  } catch {
    error(
      'invalid websocket frame: expected a JSON object such as {"cmd": "ping", "_id": 1}',
      400,
      null,
    );
    return;
  }
  const id = frame._id;
  if (frame.type !== undefined) {
    error(
      'GraphQL subscriptions are not supported on this master; use {"cmd": "startConsuming", ...}',
      400,
      frame.id ?? id,
    );
    return;
  }
  if (id === undefined) {
    error("no '_id' or 'type' in websocket frame", 400, null);
    return;
  }
  const cmd = frame.cmd;
  if (cmd === undefined) {
    error("no 'cmd' in websocket frame", 400, null);
    return;
  }
  const path = frame.path;
  switch (cmd) {
    case 'ping':
      transport.json({ msg: 'pong', code: 200, _id: id });
      return;
    case 'startConsuming':
    case 'stopConsuming': {
      if (typeof path !== 'string') {
        error(
          path === undefined
            ? `Invalid method argument 'missing path'`
            : `invalid path format '${JSON.stringify(path)}'`,
          400,
          id,
        );
        return;
      }
      if (cmd === 'stopConsuming') {
        if (consumer.stopConsuming(path)) transport.json({ msg: 'OK', code: 200, _id: id });
        else error(`path was not consumed '${path}'`, 400, id);
        return;
      }
      try {
        consumer.startConsuming(path);
      } catch (e) {
        if (e instanceof InvalidEventPathError) {
          error(e.message, 400, id);
          return;
        }
        throw e;
      }
      transport.json({ msg: 'OK', code: 200, _id: id });
      return;
    }
    default:
      error(
        `no such command type '${typeof cmd === 'string' ? cmd : JSON.stringify(cmd)}'`,
        404,
        id,
      );
  }
}

/** Serves `/ws` on the Fastify server; call before `listen`. */
export function attachWebSocket(app: FastifyInstance, live: LiveEvents): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  wss.on('connection', (socket: WebSocket) => {
    const transport = new WsTransport(socket);
    const consumer = live.add(transport);
    if (!consumer) {
      socket.close(1001, 'the master is shutting down');
      return;
    }
    socket.on('message', (raw: RawData) => {
      try {
        handleFrame(consumer, transport, raw);
      } catch (e) {
        live.log.error({ err: e }, 'websocket command failed');
        transport.json({
          error: `Internal Error '${e instanceof Error ? e.message : String(e)}'`,
          code: 500,
          _id: null,
        });
      }
    });
    socket.on('close', () => consumer.close('client went away'));
    socket.on('error', (e) => {
      live.log.debug({ err: e }, 'websocket error');
      consumer.close('socket error');
    });
  });

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (request.url ?? '').split('?')[0];
    if (pathname === '/ws' || pathname === '/ws/') {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      return;
    }
    // Leave other paths to any other upgrade listener; refuse them if there is none.
    if (app.server.listenerCount('upgrade') === 1) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });

  app.addHook('onClose', (_instance, done) => {
    wss.close(() => done());
  });
}
