/**
 * The walking-skeleton scenarios again, with unmodified buildbot-worker 3.7 processes
 * (Debian's package, msgpack_experimental_v7) in place of our worker: git checkout, shell
 * steps, failure and halt, step timeout, stop, a worker killed mid-build, bad input, restart.
 */
process.env.YARDMASTER_E2E_WORKER = 'buildbot';
await import('./skeleton.e2e.test.js');
