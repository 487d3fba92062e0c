import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { decodeFrame, encodeFrame } from '@yardmaster/protocol';
import { waitFor } from '@yardmaster/testkit';
import { createLogger } from '../logger.js';
import {
  DEFAULT_WORKER_SETTINGS,
  OWN_WORKER_BUFFER_SIZE,
  WorkerConnection,
  workerSettingsFor,
} from './worker-connection.js';

describe('workerSettingsFor', () => {
  it("gives buildbot-worker Buildbot's 64 KiB buffer_size and our worker a larger one", () => {
    expect(workerSettingsFor({ version: '3.7.0' })).toEqual(DEFAULT_WORKER_SETTINGS);
    expect(workerSettingsFor({})).toEqual(DEFAULT_WORKER_SETTINGS);
    expect(DEFAULT_WORKER_SETTINGS.buffer_size).toBe(65536);
    expect(workerSettingsFor({ version: 'yardmaster-0.1.0' })).toEqual({
      ...DEFAULT_WORKER_SETTINGS,
      buffer_size: OWN_WORKER_BUFFER_SIZE,
      send_line_lists: false,
    });
    expect(OWN_WORKER_BUFFER_SIZE).toBeGreaterThan(65536);
  });
});

describe('WorkerConnection.startCommand', () => {
  it('sends an unsolicited pong once the worker accepted a command or its interruption (the ACK leaves at once)', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const events: string[] = [];
    client.on('pong', () => events.push('pong'));
    client.on('message', (data: Buffer) => {
      const frame = decodeFrame(data);
      events.push(String(frame.op));
      // The worker's side: accept every request.
      client.send(encodeFrame({ op: 'response', seq_number: frame.seq_number, result: null }));
    });
    const connection = new WorkerConnection(
      await accepted,
      'w1',
      '127.0.0.1',
      createLogger({ level: 'silent' }),
    );
    try {
      await connection.ping();
      await connection.startCommand(
        '1',
        'b',
        'shell',
        { command: ['true'] },
        {
          update: () => undefined,
          complete: () => undefined,
          lost: () => undefined,
        },
      );
      await waitFor(() => events.includes('pong'));
      // Only after start_command: a ping's answer is followed by the master's next request.
      expect(events).toEqual(['print', 'start_command', 'pong']);
      await connection.interruptCommand('1', 'b', 'stopped');
      await waitFor(() => events.length === 5);
      expect(events.slice(3)).toEqual(['interrupt_command', 'pong']);
    } finally {
      connection.close();
      client.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
