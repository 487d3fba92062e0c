#!/usr/bin/env node
// The `yardmaster` command; the code is compiled into ../dist by `npm run build` (run by `npm ci`).
import { holdStartup } from '../dist/startup-heap.js';

// A master's start-up would otherwise grow V8's young generation for good and have TurboFan
// optimize code that runs once (src/startup-heap.ts); set before the master's modules load,
// released once it runs.
if (process.argv[2] === 'start') holdStartup();
const { main } = await import('../dist/cli.js');

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; do not let a stray handle keep a stopped master alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
