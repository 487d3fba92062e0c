/**
 * Keeps V8's young generation small and its optimizing compiler off while a master starts.
 *
 * Young generation: loading the modules and the config allocates a lot of short-lived
 * memory with a high survival rate, and V8 answers by growing the young generation's
 * semi-spaces from 1 MB towards 16 MB each; V8 gives that memory back only after tens of
 * seconds of idleness (its memory reducer). A master that has just started is idle, so that
 * growth was ~22 MB of its idle RSS (bench/RESULTS.md, "What limits the rest"). The hold
 * sets the growth factor to 1; the release restores V8's default of 2, so under load the
 * young generation grows as before.
 *
 * Optimizing compiler: start-up code runs once (module loading and resolution, config
 * validation, migrations), yet it is hot enough for TurboFan, which compiled ~50 functions
 * on V8's background threads. Their compilers' memory stayed in those threads' malloc arenas
 * (4–13 MB of an idle master; glibc keeps it). The hold turns TurboFan off (`--no-turbofan`; Ignition and Sparkplug still run
 * everything); the release turns it back on, so the code a running master repeats (builds,
 * worker messages, REST) is optimized as before, once it runs (decision 0018).
 *
 * Old generation, once the master runs: `releaseStartup` also lets the old generation grow
 * to 3 times its live size between full collections (`--heap-growing-percent=200`; V8 picks
 * 1.1–4 by itself). A master's live heap is small (~20 MB) while the frames it receives are
 * big and short-lived outside the heap (socket reads, WebSocket messages: 2 bytes per byte
 * of log). V8 counts those towards the old generation's limit until they are swept, so with
 * little slack above 20 MB it ran a full collection every 100–150 ms while a log streamed
 * (9–17 per 100 MB of 80-byte lines), each freeing almost nothing. With the factor there
 * are 2, and the master's CPU per 100 MB fell from 1.04–1.36 s to 0.65–0.76 s (decision 0021).
 *
 * `holdStartup` runs in bin/yardmaster.js before anything else is imported;
 * `releaseStartup` once the master runs (run-master.ts).
 *
 * State: whether each hold is on (module-level; one per process). A growth factor or
 * semi-space size, a heap growing percentage, or a TurboFan/JIT flag, given in NODE_OPTIONS
 * or on node's command line is left alone.
 */
import v8 from 'node:v8';

/** V8's default --semi-space-growth-factor (node --v8-options). */
const DEFAULT_GROWTH_FACTOR = 2;
/** The old generation's limit after a full collection: 3 times what survived it. */
const RUNNING_HEAP_GROWING_PERCENT = 200;

let youngGenerationHeld = false;
let optimizerHeld = false;

function givenByUser(pattern: RegExp): boolean {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return pattern.test(given);
}

export function holdStartup(): void {
  if (!youngGenerationHeld && !givenByUser(/semi[-_]space/)) {
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    youngGenerationHeld = true;
  }
  if (!optimizerHeld && !givenByUser(/turbofan|jitless|max[-_]opt|always[-_]turbofan/)) {
    v8.setFlagsFromString('--no-turbofan');
    optimizerHeld = true;
  }
}

export function releaseStartup(): void {
  if (!givenByUser(/heap[-_]growing/)) {
    v8.setFlagsFromString(`--heap-growing-percent=${RUNNING_HEAP_GROWING_PERCENT}`);
  }
  if (youngGenerationHeld) {
    v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
    youngGenerationHeld = false;
  }
  if (optimizerHeld) {
    v8.setFlagsFromString('--turbofan');
    optimizerHeld = false;
  }
}
