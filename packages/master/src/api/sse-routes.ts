/**
 * Server-sent events as Buildbot 3.7 serves them (`buildbot/www/sse.py`):
 *   GET /sse/listen/<pattern>   (or /sse/<pattern>, or /sse alone to subscribe later)
 *     text/event-stream: `event: handshake` / `data: <consumer id>`, then for each event
 *     `event: event` / `data: {"key": [...], "message": {...}}`, each ended by a blank line;
 *     plus `: keepalive` comments, which SSE clients ignore.
 *   GET /sse/add/<consumer id>/<pattern>      adds a subscription to an open stream ("ok")
 *   GET /sse/remove/<consumer id>/<pattern>   removes one ("ok")
 * Errors of add/remove are Buildbot's: text/plain `unknown uuid` / `need uuid` (400),
 * `consumer is not listening to this event` (404).
 *
 * Owns nothing beyond the response streams it opens: each is a LiveConsumer in the hub,
 * closed when the client goes away, when it falls too far behind, or when the master stops.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventKey } from '../data/events.js';
import {
  InvalidEventPathError,
  parseEventPattern,
  type LiveConsumer,
  type LiveEvents,
  type LiveTransport,
} from './live-events.js';

class SseTransport implements LiveTransport {
  readonly kind = 'sse';

  constructor(private readonly res: ServerResponse) {}

  send(key: EventKey, message: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.res.write(`event: event\ndata: ${JSON.stringify({ key, message })}\n\n`);
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  keepalive(): void {
    if (!this.res.destroyed && !this.res.writableEnded) this.res.write(': keepalive\n\n');
  }

  close(reason: string): void {
    if (reason === 'too far behind') this.res.destroy();
    else if (!this.res.writableEnded) this.res.end();
  }
}

function text(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).type('text/plain; charset=utf-8').send(body);
}

export function registerSseRoutes(app: FastifyInstance, live: LiveEvents): void {
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const queryAt = request.url.indexOf('?');
    const pathname = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
    let parts = pathname.replace(/^\/sse\/?/, '').split('/');
    if (parts[parts.length - 1] === '') parts = parts.slice(0, -1);
    let command = 'listen';
    if (parts[0] === 'listen' || parts[0] === 'add' || parts[0] === 'remove') {
      command = parts[0];
      parts = parts.slice(1);
    }
    if (command === 'listen') return listen(request, reply, parts.join('/'));

    const id = parts[0];
    if (id === undefined) return text(reply, 400, 'need uuid');
    const consumer = live.get(id);
    if (!consumer || consumer.transport.kind !== 'sse') return text(reply, 400, 'unknown uuid');
    const path = parts.slice(1).join('/');
    if (command === 'add') {
      try {
        consumer.startConsuming(path);
      } catch (error) {
        if (error instanceof InvalidEventPathError) return text(reply, 400, error.message);
        throw error;
      }
      return text(reply, 200, 'ok');
    }
    if (!consumer.stopConsuming(path))
      return text(reply, 404, 'consumer is not listening to this event');
    return text(reply, 200, 'ok');
  };

  const listen = (request: FastifyRequest, reply: FastifyReply, path: string) => {
    if (path !== '' && !parseEventPattern(path))
      return text(reply, 400, new InvalidEventPathError(path).message);
    const res = reply.raw;
    const consumer: LiveConsumer | null = live.add(new SseTransport(res));
    if (!consumer) return text(reply, 503, 'the master is shutting down');
    if (path !== '') consumer.startConsuming(path);
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      // One stream per connection: when it ends, so does the socket.
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    res.write(`event: handshake\ndata: ${consumer.id}\n\n`);
    res.on('close', () => consumer.close('client went away'));
    request.log.debug({ consumer: consumer.id, path }, 'sse client connected');
    return reply;
  };

  app.get('/sse', handle);
  app.get('/sse/*', handle);
}
