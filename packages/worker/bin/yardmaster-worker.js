#!/usr/bin/env node
// The worker agent's command: see `yardmaster-worker --help`.
import { workerMain } from '../dist/cli.js';

const code = await workerMain(process.argv.slice(2), process.env);
process.exit(code);
