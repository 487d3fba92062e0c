/**
 * Test helpers for the worker package (no test framework imports, so it also builds):
 * `waitFor` and TestMaster, a minimal msgpack_experimental_v7 master on 127.0.0.1 that checks
 * HTTP Basic credentials, records every frame and plays the master's side of commands and
 * file transfers.
 *
 * TestMaster owns its HTTP server, WebSocket server and every accepted socket; `close()`
 * terminates them all. Each TestMasterConnection owns one socket's MsgpackPeer and the
 * records of the commands started on it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  MsgpackPeer,
  parseUpdateArgs,
  type Frame,
  type UnknownUpdateEntry,
  type UpdateEntry,
} from '@yardmaster/protocol';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';

/** Poll `condition` until it returns a truthy value (returned) or `timeoutMs` passes. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const suffix = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface CommandRecord {
  commandId: string;
  commandName: string;
  updates: (UpdateEntry | UnknownUpdateEntry)[];
  /** Resolves with `complete`'s args (null or the failure text). */
  completed: Promise<string | null>;
  /** Bytes received with update_upload_file_write / update_upload_directory_write. */
  uploaded: Buffer[];
  /** Requests other than update/complete, in order (ops only). */
  transferOps: string[];
  utime?: { access_time: unknown; modified_time: unknown };
  /** Data served to update_read_file requests. */
  download?: { data: Buffer; offset: number };
}

export function updateValues(record: CommandRecord, key: string): unknown[] {
  return record.updates.filter((entry) => entry[0] === key).map((entry) => entry[1]);
}

/** The text of all chunks of one stream ('stdout', 'stderr', 'header'). */
export function streamText(record: CommandRecord, key: 'stdout' | 'stderr' | 'header'): string {
  return updateValues(record, key)
    .map((chunk) => (chunk as [string])[0])
    .join('');
}

export function lastRc(record: CommandRecord): number | undefined {
  return updateValues(record, 'rc').at(-1) as number | undefined;
}

export class TestMasterConnection {
  readonly peer: MsgpackPeer;
  readonly socket: WebSocket;
  readonly authorization: string | undefined;
  /** Every request the worker sent, in order. */
  readonly requests: Frame[] = [];
  readonly commands = new Map<
    string,
    CommandRecord & { resolve: (value: string | null) => void }
  >();
  readonly closed: Promise<void>;
  #nextCommandId = 0;

  constructor(socket: WebSocket, request: IncomingMessage) {
    this.socket = socket;
    this.authorization = request.headers.authorization;
    this.peer = new MsgpackPeer({
      send: (data) => socket.send(data, { binary: true }),
      onRequest: (frame) => this.#onRequest(frame),
    });
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.peer.receive(data);
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.peer.close(new Error('test master socket closed'));
        resolve();
      });
    });
  }

  request(op: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    return this.peer.request(op, fields);
  }

  /** Send start_command and return the record that collects its updates. */
  async startCommand(
    commandName: string,
    args: Record<string, unknown>,
    options: { download?: Buffer; builderName?: string } = {},
  ): Promise<CommandRecord> {
    const commandId = String(this.#nextCommandId++);
    let resolve: (value: string | null) => void = () => undefined;
    const completed = new Promise<string | null>((done) => {
      resolve = done;
    });
    const record = {
      commandId,
      commandName,
      updates: [],
      completed,
      uploaded: [],
      transferOps: [],
      resolve,
      download: options.download ? { data: options.download, offset: 0 } : undefined,
    };
    this.commands.set(commandId, record);
    await this.request('start_command', {
      builder_name: options.builderName ?? 'test',
      command_id: commandId,
      command_name: commandName,
      args,
    });
    return record;
  }

  /** start_command and wait for `complete`. */
  async runCommand(
    commandName: string,
    args: Record<string, unknown>,
    options: { download?: Buffer; timeoutMs?: number } = {},
  ): Promise<CommandRecord & { failure: string | null }> {
    const record = await this.startCommand(commandName, args, options);
    const failure = await withTimeout(
      record.completed,
      options.timeoutMs ?? 10_000,
      `complete of ${commandName}`,
    );
    return { ...record, failure };
  }

  #onRequest(frame: Frame): unknown {
    this.requests.push(frame);
    const record = this.commands.get(String(frame['command_id']));
    if (!record) throw new Error('unknown "command_id"');
    switch (frame.op) {
      case 'update':
        record.updates.push(...parseUpdateArgs(frame['args']));
        return null;
      case 'complete':
        record.resolve((frame['args'] as string | null) ?? null);
        return null;
      case 'update_upload_file_write':
      case 'update_upload_directory_write':
        record.transferOps.push(frame.op);
        record.uploaded.push(frame['args'] as Buffer);
        return null;
      case 'update_upload_file_utime':
        record.transferOps.push(frame.op);
        record.utime = { access_time: frame['access_time'], modified_time: frame['modified_time'] };
        return null;
      case 'update_read_file': {
        record.transferOps.push(frame.op);
        const download = record.download;
        if (!download) throw new Error('no download data for this command');
        const length = frame['length'] as number;
        const chunk = download.data.subarray(download.offset, download.offset + length);
        download.offset += chunk.length;
        return chunk;
      }
      case 'update_upload_file_close':
      case 'update_upload_directory_unpack':
      case 'update_read_file_close':
        record.transferOps.push(frame.op);
        return null;
      default:
        throw new Error(`Command ${frame.op} does not exist.`);
    }
  }
}

export interface TestMasterOptions {
  /** name → password accepted. */
  workers: Record<string, string>;
}

export class TestMaster {
  readonly connections: TestMasterConnection[] = [];
  /** Authorization headers of every upgrade request, accepted or not. */
  readonly authHeaders: (string | undefined)[] = [];
  /** When set, every upgrade is answered with this HTTP status. */
  refuseWith: number | undefined;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #workers: Record<string, string>;
  readonly #sockets = new Set<Duplex>();

  private constructor(server: Server, options: TestMasterOptions) {
    this.#server = server;
    this.#workers = options.workers;
    this.#wss = new WebSocketServer({ noServer: true });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    server.on('upgrade', (request, socket, head) => this.#onUpgrade(request, socket, head));
  }

  static async start(options: TestMasterOptions): Promise<TestMaster> {
    const server = createServer((_request, response) => {
      response.writeHead(426).end();
    });
    const master = new TestMaster(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return master;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** host:port for WorkerOptions.masters. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async waitForConnection(index: number, timeoutMs = 5000): Promise<TestMasterConnection> {
    return waitFor(() => this.connections[index], timeoutMs, `worker connection #${index}`);
  }

  /** Close every socket and the server. */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.authHeaders.push(request.headers.authorization);
    const status =
      this.refuseWith ?? (this.#authorized(request.headers.authorization) ? undefined : 401);
    if (status !== undefined) {
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Refused'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      this.connections.push(new TestMasterConnection(ws, request));
    });
  }

  #authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const name = decoded.slice(0, colon);
    return Object.hasOwn(this.#workers, name) && this.#workers[name] === decoded.slice(colon + 1);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Is any process in process group `pgid` still alive? */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
