/**
 * Keeps V8's young generation small while a master starts.
 *
 * Loading the modules and transpiling the config (jiti, Babel) allocates a lot of
 * short-lived memory with a high survival rate, and V8 answers by growing the young
 * generation's semi-spaces from 1 MB towards 16 MB each; V8 gives that memory back only
 * after tens of seconds of idleness (its memory reducer). A master that has just started
 * is idle, so that growth was ~22 MB of its idle RSS (bench/RESULTS.md, "What limits the
 * rest"). `holdYoungGeneration` (bin/yardmaster.js, before anything else is imported) sets
 * the growth factor to 1; `releaseYoungGeneration` (once the master runs) restores V8's
 * default of 2, so under load the young generation grows as before.
 *
 * State: whether the hold is on (module-level; one per process). A growth factor or
 * semi-space size given in NODE_OPTIONS or on node's command line is left alone.
 */
import v8 from 'node:v8';

/** V8's default --semi-space-growth-factor (node --v8-options). */
const DEFAULT_GROWTH_FACTOR = 2;

let held = false;

function setByUser(): boolean {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return /semi[-_]space/.test(given);
}

export function holdYoungGeneration(): void {
  if (held || setByUser()) return;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

export function releaseYoungGeneration(): void {
  if (!held) return;
  v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
  held = false;
}
