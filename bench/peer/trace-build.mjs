// Timestamps every worker frame, HTTP request and SQL statement of a running master, one
// line each, to see where one build's time goes (decision 0019). Preload it:
//
//   TRACE_OUT=/tmp/trace.log node --import ./bench/peer/trace-build.mjs \
//     packages/master/bin/yardmaster.js start --config bench/peer/master.config.ts --basedir X
//
// then force builds one at a time (`bench-client.mjs latency`) and summarize with
// `node bench/peer/trace-phases.mjs /tmp/trace.log`. Lines: `<ms> ws> <op> #<seq>`,
// `<ms> ws< <op>`, `<ms> http< METHOD url`, `<ms> http> url` (response finished),
// `<ms> sql <duration>ms <statement start>`. Each line is written synchronously: it costs
// the master a few microseconds per event, so use it to order and split phases, not for
// throughput figures. Patches the same module instances the master loads (CommonJS cache).
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

// The CommonJS instances the master's imports get (ESM imports of these packages load them).
const require = createRequire(new URL('../../package.json', import.meta.url));
const { unpack } = require('msgpackr');
const WebSocket = require('ws');
const Database = require('better-sqlite3');

const out = fs.openSync(process.env.TRACE_OUT || 'trace-build.log', 'w');
const now = () => (Number(process.hrtime.bigint()) / 1e6).toFixed(3);
const log = (text) => fs.writeSync(out, `${now()} ${text}\n`);
const describe = (data) => {
  try {
    const m = unpack(Buffer.isBuffer(data) ? data : Buffer.from(data));
    const keys =
      m.op === 'update' && Array.isArray(m.args) ? `:${m.args.map((a) => a[0]).join(',')}` : '';
    return `${m.op}${keys} #${m.seq_number}`;
  } catch {
    return '(not msgpack)';
  }
};

const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data, ...rest) {
  log(`ws> ${describe(data)}`);
  return send.call(this, data, ...rest);
};
const pong = WebSocket.prototype.pong;
WebSocket.prototype.pong = function (...args) {
  log('ws> pong');
  return pong.apply(this, args);
};
const emit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function (event, data, ...rest) {
  if (event === 'message') log(`ws< ${describe(data)}`);
  return emit.call(this, event, data, ...rest);
};

const serverEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res, ...rest) {
  if (event === 'request') {
    const url = req.url;
    log(`http< ${req.method} ${url}`);
    res.on('finish', () => log(`http> ${url}`));
  }
  return serverEmit.call(this, event, req, res, ...rest);
};

const prepare = Database.prototype.prepare;
Database.prototype.prepare = function (source, ...rest) {
  const statement = prepare.call(this, source, ...rest);
  const text = source.replace(/\s+/g, ' ').slice(0, 60);
  for (const method of ['run', 'all', 'get']) {
    const original = statement[method];
    statement[method] = function (...args) {
      const start = process.hrtime.bigint();
      const result = original.apply(this, args);
      log(`sql ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(3)}ms ${text}`);
      return result;
    };
  }
  return statement;
};
