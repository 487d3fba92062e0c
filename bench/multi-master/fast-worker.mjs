// A stand-in for a very fast worker, for benchmarks only: speaks msgpack_experimental_v7
// (through our protocol package) and answers every command at once with rc 0, so the
// figures measure the masters, not process start-up on the 2 cores.
import WebSocket from 'ws';
import { MsgpackPeer } from '@yardmaster/protocol';

export function startFastWorker({ masters, name, password }) {
  let stopped = false;
  let socket = null;
  let index = 0;
  const connect = () => {
    if (stopped) return;
    const address = masters[index++ % masters.length];
    const ws = new WebSocket(`ws://${address}`, {
      headers: { authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` },
    });
    socket = ws;
    const peer = new MsgpackPeer({
      send: (data) => ws.readyState === WebSocket.OPEN && ws.send(data, { binary: true }),
      onRequest: (frame) => {
        switch (frame.op) {
          case 'get_worker_info':
            return {
              basedir: `/tmp/fast/${name}`,
              system: 'posix',
              version: 'fast-bench',
              environ: {},
              worker_commands: {},
            };
          case 'start_command': {
            const id = frame.command_id;
            const command = JSON.stringify(frame.args?.command ?? '');
            if (command.includes('hold')) return null; // runs until interrupted or the master goes
            setImmediate(() => {
              if (frame.command_name === 'stat') {
                void peer.request('update', { command_id: id, args: [['rc', 1]] });
              } else {
                void peer.request('update', {
                  command_id: id,
                  args: [
                    ['rc', 0],
                    ['elapsed', 0],
                  ],
                });
              }
              void peer.request('complete', { command_id: id, args: null });
            });
            return null;
          }
          case 'interrupt_command':
            setImmediate(() => {
              void peer.request('update', { command_id: frame.command_id, args: [['rc', -1]] });
              void peer.request('complete', { command_id: frame.command_id, args: null });
            });
            return null;
          default:
            return null;
        }
      },
    });
    ws.on('message', (data) => {
      try {
        peer.receive(Buffer.isBuffer(data) ? data : Buffer.from(data));
      } catch {
        ws.terminate();
      }
    });
    const retry = () => {
      peer.close();
      if (!stopped) setTimeout(connect, 200);
    };
    ws.on('close', retry);
    ws.on('error', () => undefined);
  };
  connect();
  return {
    stop() {
      stopped = true;
      socket?.terminate();
    },
  };
}
