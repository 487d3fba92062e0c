#!/usr/bin/env node
// The latency of ONE `true` on one idle buildbot-worker when the master costs nothing:
// the single-command floor under force -> complete (decision 0019). A bare
// msgpack_experimental_v7 master that, every GAP ms, pings the worker (`print`, as a
// build's worker_preparation does) and runs `shell true`, timing the answers; it cycles
// through MODES, so the variants are compared in the same minute.
//
//   PORT=29995 N=20 node bench/peer/one-command.mjs &
//   buildbot-worker start <a msgpack worker dir pointed at 127.0.0.1:29995>
//
// MODES (default "plain,pong"): `plain` does what Buildbot's master does; `pong` also sends
// an empty WebSocket pong right after the worker answered start_command (what Yardmaster
// does), so the TCP ACK of that answer is not delayed. Prints one summary per mode and exits.
import { WebSocketServer } from 'ws';
import { decodeFrame, encodeFrame } from '@yardmaster/protocol';

const PORT = Number(process.env.PORT ?? 29995);
const N = Number(process.env.N ?? 20);
const GAP = Number(process.env.GAP ?? 300);
const MODES = (process.env.MODES ?? 'plain,pong').split(',');
for (const mode of MODES) {
  if (mode !== 'plain' && mode !== 'pong') throw new Error(`MODES: plain or pong, not ${mode}`);
}
const WARMUP = 2;

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
const summary = (xs) =>
  `median ${quantile(xs, 0.5).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)}, p90 ${quantile(xs, 0.9).toFixed(1)}`;

const wss = new WebSocketServer({ port: PORT, host: '127.0.0.1' });
console.error(`waiting for one buildbot-worker on 127.0.0.1:${PORT}`);
wss.once('connection', (ws) => {
  let seq = 0;
  const waiters = new Map();
  let onComplete = null;
  const call = (frame) =>
    new Promise((resolve, reject) => {
      const n = seq++;
      waiters.set(n, { resolve, reject });
      ws.send(encodeFrame({ ...frame, seq_number: n }));
    });
  ws.on('message', (data) => {
    const t = now();
    const frame = decodeFrame(data);
    if (frame.op === 'response') {
      const waiter = waiters.get(frame.seq_number);
      waiters.delete(frame.seq_number);
      if (frame.is_exception) waiter?.reject(new Error(String(frame.result)));
      else waiter?.resolve(frame.result);
      return;
    }
    ws.send(encodeFrame({ op: 'response', seq_number: frame.seq_number, result: null }));
    if (frame.op === 'complete' && onComplete) onComplete(t);
  });

  const run = async () => {
    await call({ op: 'print', message: 'attached' });
    const info = await call({ op: 'get_worker_info' });
    await call({
      op: 'set_worker_settings',
      args: {
        newline_re: '(\\r\\n|\\r(?=.)|\\x08+)',
        max_line_length: 4096,
        buffer_timeout: 5,
        buffer_size: 65536,
      },
    });
    const stats = new Map(MODES.map((m) => [m, { ping: [], command: [], total: [] }]));
    for (let i = 0; i < (N + WARMUP) * MODES.length; i++) {
      const mode = MODES[i % MODES.length];
      await sleep(GAP);
      const t0 = now();
      await call({ op: 'print', message: 'ping' });
      const t1 = now();
      const completed = new Promise((resolve) => (onComplete = resolve));
      await call({
        op: 'start_command',
        builder_name: 'noop',
        command_id: String(i),
        command_name: 'shell',
        args: {
          workdir: `${String(info.basedir)}/noop/build`,
          env: {},
          want_stdout: true,
          want_stderr: true,
          logfiles: {},
          timeout: 1200,
          maxTime: null,
          sigtermTime: null,
          usePTY: false,
          logEnviron: true,
          initial_stdin: null,
          interruptSignal: 'KILL',
          command: ['true'],
        },
      });
      if (mode === 'pong') ws.pong();
      const t2 = await completed;
      onComplete = null;
      if (i < WARMUP * MODES.length) continue;
      const s = stats.get(mode);
      s.ping.push(t1 - t0);
      s.command.push(t2 - t1);
      s.total.push(t2 - t0);
    }
    for (const [mode, s] of stats) {
      console.log(`${mode} (${N} commands, ${GAP} ms apart)`);
      console.log(`  ping round trip:               ${summary(s.ping)}`);
      console.log(`  start_command -> complete:     ${summary(s.command)}`);
      console.log(`  ping + command:                ${summary(s.total)}`);
    }
  };
  run()
    .then(() => process.exit(0))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
});
