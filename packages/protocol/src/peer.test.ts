import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeFrame, encodeFrame, encodeValue, type Frame } from './codec.js';
import {
  ConnectionClosedError,
  ProtocolError,
  RemoteError,
  RequestTimeoutError,
} from './errors.js';
import { MsgpackPeer } from './peer.js';

/** Two peers wired back to back, as a master and a worker over one socket. */
function pair(
  onMasterRequest: (frame: Frame) => unknown = () => null,
  onWorkerRequest: (frame: Frame) => unknown = () => null,
) {
  const masterSent: Frame[] = [];
  const workerSent: Frame[] = [];
  const master: MsgpackPeer = new MsgpackPeer({
    send: (data) => {
      masterSent.push(decodeFrame(data));
      queueMicrotask(() => worker.receive(data));
    },
    onRequest: onMasterRequest,
  });
  const worker: MsgpackPeer = new MsgpackPeer({
    send: (data) => {
      workerSent.push(decodeFrame(data));
      queueMicrotask(() => master.receive(data));
    },
    onRequest: onWorkerRequest,
  });
  return { master, worker, masterSent, workerSent };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MsgpackPeer', () => {
  it('numbers requests from 0 and resolves each with its own response', async () => {
    const { master, masterSent, workerSent } = pair(undefined, (frame) =>
      frame.op === 'get_worker_info' ? { numcpus: 2 } : null,
    );
    const printed = master.request('print', { message: 'attached' });
    const info = master.request('get_worker_info');
    await expect(printed).resolves.toBeNull();
    await expect(info).resolves.toEqual({ numcpus: 2 });
    expect(masterSent).toEqual([
      { op: 'print', message: 'attached', seq_number: 0 },
      { op: 'get_worker_info', seq_number: 1 },
    ]);
    expect(workerSent).toEqual([
      { op: 'response', seq_number: 0, result: null },
      { op: 'response', seq_number: 1, result: { numcpus: 2 } },
    ]);
    expect(master.pendingCount).toBe(0);
  });

  it('keeps a counter per side', async () => {
    const { master, worker, workerSent } = pair();
    await master.request('print', { message: 'a' });
    await master.request('print', { message: 'b' });
    await worker.request('update', { command_id: '1', args: [['rc', 0]] });
    expect(workerSent.at(-1)).toEqual({
      op: 'update',
      command_id: '1',
      args: [['rc', 0]],
      seq_number: 0,
    });
  });

  it('answers async handlers when they settle, in completion order', async () => {
    let release: (value: string) => void = () => undefined;
    const slow = new Promise<string>((resolve) => {
      release = resolve;
    });
    const { master, workerSent } = pair(undefined, (frame) =>
      frame.op === 'start_command' ? slow : 'fast',
    );
    const first = master.request('start_command', { command_id: '0' });
    await expect(master.request('keepalive')).resolves.toBe('fast');
    expect(workerSent.map((frame) => frame.seq_number)).toEqual([1]);
    release('done');
    await expect(first).resolves.toBe('done');
  });

  it('turns a thrown error into is_exception and rejects the caller with RemoteError', async () => {
    const { master, workerSent } = pair(undefined, () => {
      throw new Error("unrecognized WorkerCommand 'frobnicate'");
    });
    const failed = master.request('start_command', { command_name: 'frobnicate' });
    await expect(failed).rejects.toThrow(RemoteError);
    await expect(failed).rejects.toThrow("unrecognized WorkerCommand 'frobnicate'");
    expect(workerSent).toEqual([
      {
        op: 'response',
        seq_number: 0,
        result: "unrecognized WorkerCommand 'frobnicate'",
        is_exception: true,
      },
    ]);
  });

  it('answers rejected promises and non-Error throws as exceptions', async () => {
    const { master } = pair(undefined, (frame) =>
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a peer may throw anything
      frame.op === 'a' ? Promise.reject(new Error('nope')) : Promise.reject('plain'),
    );
    await expect(master.request('a')).rejects.toThrow('nope');
    await expect(master.request('b')).rejects.toThrow('plain');
  });

  it('answers with an exception if the result cannot be encoded', async () => {
    const errors: Error[] = [];
    const sent: Frame[] = [];
    const peer = new MsgpackPeer({
      send: (data) => sent.push(decodeFrame(data)),
      onRequest: () => ({ when: new Date(0) }),
      onError: (error) => errors.push(error),
    });
    peer.receive(encodeFrame({ op: 'get_worker_info', seq_number: 5 }));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatchObject({ op: 'response', seq_number: 5, is_exception: true });
    expect(errors[0]).toBeInstanceOf(ProtocolError);
  });

  it('throws ProtocolError on garbage and keeps working afterwards', async () => {
    const { master, worker } = pair();
    expect(() => worker.receive(Buffer.from('not msgpack at all'))).toThrow(ProtocolError);
    expect(() => worker.receive(encodeValue([1, 2]))).toThrow(ProtocolError);
    expect(() => worker.receive(encodeValue({ op: 'print' }))).toThrow(/seq_number/);
    await expect(master.request('keepalive')).resolves.toBeNull();
  });

  it('reports a response to an unknown seq_number through onError', () => {
    const errors: Error[] = [];
    const peer = new MsgpackPeer({
      send: () => undefined,
      onRequest: () => null,
      onError: (e) => errors.push(e),
    });
    peer.receive(encodeFrame({ op: 'response', seq_number: 42, result: null }));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/unknown seq_number 42/);
  });

  it('close() rejects every pending request with ConnectionClosedError', async () => {
    const peer = new MsgpackPeer({ send: () => undefined, onRequest: () => null });
    const one = peer.request('update', { command_id: '1', args: [] });
    const two = peer.request('complete', { command_id: '1', args: null });
    expect(peer.pendingCount).toBe(2);
    peer.close(new Error('socket closed (1006)'));
    await expect(one).rejects.toThrow(ConnectionClosedError);
    await expect(two).rejects.toThrow(/"complete".*socket closed \(1006\)/);
    expect(peer.pendingCount).toBe(0);
    await expect(peer.request('keepalive')).rejects.toThrow(ConnectionClosedError);
  });

  it('does not answer requests that finish after close()', async () => {
    const sent: Buffer[] = [];
    let release: () => void = () => undefined;
    const peer = new MsgpackPeer({
      send: (data) => sent.push(data),
      onRequest: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    });
    peer.receive(encodeFrame({ op: 'shutdown', seq_number: 0 }));
    peer.close();
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(0);
  });

  it('rejects a request whose send throws, without leaving it pending', async () => {
    const peer = new MsgpackPeer({
      send: () => {
        throw new Error('WebSocket is not open');
      },
      onRequest: () => null,
    });
    await expect(peer.request('update')).rejects.toThrow(
      /cannot send "update": WebSocket is not open/,
    );
    expect(peer.pendingCount).toBe(0);
  });

  it('times requests out when requestTimeoutMs is set, and ignores the late response', async () => {
    vi.useFakeTimers();
    const errors: Error[] = [];
    const peer = new MsgpackPeer({
      send: () => undefined,
      onRequest: () => null,
      requestTimeoutMs: 1000,
      onError: (e) => errors.push(e),
    });
    const request = peer.request('keepalive');
    const assertion = expect(request).rejects.toThrow(RequestTimeoutError);
    await vi.advanceTimersByTimeAsync(1000);
    await assertion;
    expect(peer.pendingCount).toBe(0);
    peer.receive(encodeFrame({ op: 'response', seq_number: 0, result: null }));
    expect(errors).toEqual([]);
  });

  it('clears the timeout timer when the response arrives', async () => {
    vi.useFakeTimers();
    const sent: Frame[] = [];
    const peer = new MsgpackPeer({
      send: (data) => sent.push(decodeFrame(data)),
      onRequest: () => null,
      requestTimeoutMs: 1000,
    });
    const request = peer.request('keepalive');
    peer.receive(encodeFrame({ op: 'response', seq_number: 0, result: 'ok' }));
    await expect(request).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });
});
