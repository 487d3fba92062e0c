/**
 * The worker port: an HTTP server that only upgrades to WebSocket, after checking
 * HTTP Basic credentials against the configured workers (401 otherwise, and logged).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';
import type { WorkerRegistry } from './worker-registry.js';

export function parseBasicAuth(
  header: string | undefined,
): { name: string; password: string } | null {
  if (!header) return null;
  const match = /^Basic\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class WorkerServer {
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
  ) {
    this.server = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end(
        'This is the Yardmaster worker port: connect a worker with the WebSocket protocol.\n',
      );
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    socket.on('error', () => socket.destroy());
    const credentials = parseBasicAuth(req.headers.authorization);
    if (!credentials || !this.registry.authenticate(credentials.name, credentials.password)) {
      this.log.warn(
        { remote, worker: credentials?.name ?? null },
        credentials
          ? `refused worker "${credentials.name}" from ${remote}: unknown name or wrong password`
          : `refused a worker connection from ${remote}: no HTTP Basic credentials`,
      );
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.registry.attach(credentials.name, ws, remote).catch((error: unknown) => {
        this.log.error({ err: error }, 'attaching a worker failed');
        ws.terminate();
      });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
