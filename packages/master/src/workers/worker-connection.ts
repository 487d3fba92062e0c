/**
 * The master's side of one worker's WebSocket (msgpack_experimental_v7).
 *
 * Owns the socket, the request/response peer and the map of running commands.
 * States: attaching (print/get_worker_info/set_worker_settings) → attached → closed.
 * Invariants: once closed, every running command has been told it is lost exactly once,
 * and no timer is left behind. A frame that is not a valid msgpack message closes this
 * connection (and only this one).
 */
import type { WebSocket } from 'ws';
import { MsgpackPeer, ProtocolError, type Frame } from '@yardmaster/protocol';
import type { Logger } from '../logger.js';

export interface CommandSink {
  update(args: [string, unknown][]): void | Promise<void>;
  complete(failure: unknown): void;
  lost(detail: string): void;
  uploadWrite?(data: Buffer): void | Promise<void>;
  uploadUtime?(accessTime: number, modifiedTime: number): void | Promise<void>;
  uploadClose?(): void | Promise<void>;
  uploadUnpack?(): void | Promise<void>;
  readFile?(length: number): Buffer | Promise<Buffer>;
  readClose?(): void | Promise<void>;
}

/**
 * Buildbot's settings, but for `buffer_timeout`: Buildbot lets a worker hold output for
 * 5 s, which makes a live log lag by as much; 0.2 s keeps it live, and at high output
 * rates `buffer_size` triggers first anyway, so the message count does not grow.
 */
export const DEFAULT_WORKER_SETTINGS = {
  newline_re: '(\\r\\n|\\r(?=.)|\\033\\[u|\\033\\[[0-9]+;[0-9]+[Hf]|\\033\\[2J|\\x08+)',
  max_line_length: 4096,
  buffer_timeout: 0.2,
  buffer_size: 64 * 1024,
};

/**
 * `buffer_size` for Yardmaster's own worker (its `get_worker_info` version starts with
 * "yardmaster-"): 256 KiB instead of Buildbot's 64 KiB, so fast output travels in 4 times
 * fewer update frames (fewer requests, responses and per-frame work on both sides). 1 MiB
 * was no faster and raised the master's peak RSS by ~50 MB when it falls behind (frames
 * wait decoded). The flush timer still sends slower output within tens of milliseconds.
 * buildbot-worker keeps Buildbot's 64 KiB.
 */
export const OWN_WORKER_BUFFER_SIZE = 256 * 1024;

/** What a worker is sent with `set_worker_settings`. */
export type WorkerSettingsSent = typeof DEFAULT_WORKER_SETTINGS & { send_line_lists?: boolean };

/**
 * The settings sent to a worker that answered `get_worker_info` with `info`. Ours is also
 * asked for log chunks without their offset and timestamp lists (`send_line_lists`), which
 * this master never reads: building and encoding them was a fifth of our worker's CPU per
 * line (decision 0021). buildbot-worker gets Buildbot's four settings only.
 */
export function workerSettingsFor(info: Record<string, unknown>): WorkerSettingsSent {
  const ours = typeof info.version === 'string' && info.version.startsWith('yardmaster-');
  return ours
    ? { ...DEFAULT_WORKER_SETTINGS, buffer_size: OWN_WORKER_BUFFER_SIZE, send_line_lists: false }
    : DEFAULT_WORKER_SETTINGS;
}

const PING_INTERVAL_MS = 10_000;
const PING_TIMEOUT_MS = 30_000;

export class WorkerConnection {
  private readonly peer: MsgpackPeer;
  private readonly commands = new Map<string, CommandSink>();
  private readonly closeHandlers = new Set<(reason: string) => void>();
  private closed = false;
  private closeReason = '';
  private lastPong = Date.now();
  private readonly pingTimer: NodeJS.Timeout;
  info: Record<string, unknown> = {};

  constructor(
    private readonly socket: WebSocket,
    readonly workerName: string,
    readonly remoteAddress: string,
    private readonly log: Logger,
  ) {
    this.peer = new MsgpackPeer({
      send: (data) => {
        if (!this.closed) socket.send(data, { binary: true });
      },
      onRequest: (frame) => this.onRequest(frame),
      // Log chunks' offset and timestamp lists are never read here (as in Buildbot's
      // master), and their text is stored as the bytes it came in (decision 0021).
      rawLogChunks: true,
    });
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) {
        this.fail('sent a text frame; only binary msgpack frames are allowed');
        return;
      }
      const buffer = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      try {
        this.peer.receive(buffer);
      } catch (error) {
        const detail = error instanceof ProtocolError ? error.message : String(error);
        this.fail(`sent an invalid frame (${detail})`);
      }
    });
    socket.on('pong', () => {
      this.lastPong = Date.now();
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.onClosed(
        `connection closed (code ${code}${reason.length ? `: ${reason.toString()}` : ''})`,
      );
    });
    socket.on('error', (error: Error) => {
      this.log.warn({ worker: workerName, err: error.message }, 'worker socket error');
    });
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastPong > PING_TIMEOUT_MS) {
        this.fail(`did not answer pings for ${PING_TIMEOUT_MS / 1000} s`);
        return;
      }
      socket.ping();
    }, PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Buildbot's attach sequence: greet, ask what the worker is, send the line settings. */
  async attach(): Promise<Record<string, unknown>> {
    await this.peer.request('print', { message: 'attached' });
    const info = await this.peer.request('get_worker_info');
    this.info = info !== null && typeof info === 'object' ? (info as Record<string, unknown>) : {};
    await this.peer.request('set_worker_settings', { args: workerSettingsFor(this.info) });
    return this.info;
  }

  get basedir(): string {
    return typeof this.info.basedir === 'string' ? this.info.basedir : '.';
  }

  async ping(): Promise<void> {
    await this.peer.request('print', { message: 'ping' });
  }

  async startCommand(
    commandId: string,
    builderName: string,
    commandName: string,
    args: Record<string, unknown>,
    sink: CommandSink,
  ): Promise<void> {
    if (this.closed) {
      sink.lost(this.closeReason);
      return;
    }
    this.commands.set(commandId, sink);
    await this.peer.request('start_command', {
      builder_name: builderName,
      command_id: commandId,
      command_name: commandName,
      args,
    });
    this.acknowledgeNow();
  }

  /**
   * Sends an empty unsolicited WebSocket pong (RFC 6455 §5.5.3: no answer expected), so
   * the TCP ACK of what the worker just sent leaves now instead of with the kernel's
   * delayed ACK, up to 40 ms later. buildbot-worker's socket keeps Nagle on (autobahn
   * asks for TCP_NODELAY before it has read the setting), so its next small frame (a
   * short command's update and `complete`) would wait for that ACK: 50 ms for `true`
   * instead of 15 (decision 0019). Sent after `start_command` and `interrupt_command`
   * answers; our own worker (Node `ws`, no Nagle) counts it as a sign of life, which it is.
   */
  private acknowledgeNow(): void {
    if (!this.closed) this.socket.pong();
  }

  forgetCommand(commandId: string): void {
    this.commands.delete(commandId);
  }

  async interruptCommand(commandId: string, builderName: string, why: string): Promise<void> {
    await this.peer.request('interrupt_command', {
      builder_name: builderName,
      command_id: commandId,
      why,
    });
    // The command's last update and `complete` follow within milliseconds, as after start.
    this.acknowledgeNow();
  }

  async shutdown(): Promise<void> {
    await this.peer.request('shutdown');
  }

  /** Calls `handler` once when the connection closes; returns a function that cancels that. */
  onClose(handler: (reason: string) => void): () => void {
    if (this.closed) {
      handler(this.closeReason);
      return () => undefined;
    }
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /** Drops the connection because the worker misbehaved or is being replaced. */
  fail(reason: string): void {
    if (this.closed) return;
    this.log.warn(
      { worker: this.workerName, remote: this.remoteAddress },
      `worker ${this.workerName} ${reason}; closing its connection`,
    );
    this.socket.terminate();
    this.onClosed(reason);
  }

  close(reason = 'master is shutting down'): void {
    if (this.closed) return;
    this.socket.close(1001, reason);
    this.onClosed(reason);
  }

  private onClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    clearInterval(this.pingTimer);
    this.peer.close(new Error(reason));
    const commands = [...this.commands.values()];
    this.commands.clear();
    for (const sink of commands) sink.lost(reason);
    const handlers = [...this.closeHandlers];
    this.closeHandlers.clear();
    for (const handler of handlers) handler(reason);
  }

  private command(frame: Frame): CommandSink {
    const id = frame.command_id;
    const sink = typeof id === 'string' ? this.commands.get(id) : undefined;
    if (!sink) throw new Error(`unknown "command_id" ${String(id)}`);
    return sink;
  }

  private async onRequest(frame: Frame): Promise<unknown> {
    switch (frame.op) {
      case 'update': {
        const args = frame.args;
        if (!Array.isArray(args)) throw new Error('update without args');
        await this.command(frame).update(args as [string, unknown][]);
        return null;
      }
      case 'complete': {
        const sink = this.command(frame);
        this.commands.delete(frame.command_id as string);
        sink.complete(frame.args ?? null);
        return null;
      }
      case 'update_upload_file_write':
      case 'update_upload_directory_write': {
        const sink = this.command(frame);
        if (!sink.uploadWrite) throw new Error(`${frame.op} for a command that uploads nothing`);
        const data = frame.args;
        await sink.uploadWrite(
          Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : '', 'utf8'),
        );
        return null;
      }
      case 'update_upload_file_utime':
        await this.command(frame).uploadUtime?.(
          Number(frame.access_time),
          Number(frame.modified_time),
        );
        return null;
      case 'update_upload_file_close':
        await this.command(frame).uploadClose?.();
        return null;
      case 'update_upload_directory_unpack':
        await this.command(frame).uploadUnpack?.();
        return null;
      case 'update_read_file': {
        const sink = this.command(frame);
        if (!sink.readFile)
          throw new Error('update_read_file for a command that downloads nothing');
        return await sink.readFile(Number(frame.length));
      }
      case 'update_read_file_close':
        await this.command(frame).readClose?.();
        return null;
      case 'keepalive':
        return null;
      default:
        throw new Error(`Command ${frame.op} does not exist.`);
    }
  }
}
