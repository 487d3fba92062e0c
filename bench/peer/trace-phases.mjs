#!/usr/bin/env node
// Phases of each noop build in a trace-build.mjs log (one build at a time), medians in ms:
//   node bench/peer/trace-phases.mjs /tmp/trace.log
// The first 2 builds (warm-up) are left out. See decision 0019 for what the phases mean.
import fs from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: trace-phases.mjs <trace log>');
const lines = fs
  .readFileSync(file, 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const space = line.indexOf(' ');
    return [Number(line.slice(0, space)), line.slice(space + 1)];
  });
const seqOf = (text) => text.split('#')[1];
const builds = [];
let build = null;
for (const [t, text] of lines) {
  if (text.startsWith('http< POST /api/v2/forceschedulers/force')) {
    build = { force: t };
    builds.push(build);
    continue;
  }
  if (!build) continue;
  if (text.startsWith('sql') && text.endsWith(' commit') && build.committed === undefined)
    build.committed = t;
  else if (text.includes('with "head" as materialized') && build.claim === undefined)
    build.claim = t;
  else if (text.startsWith('ws> print')) [build.ping, build.pingSeq] = [t, seqOf(text)];
  else if (text.startsWith('ws< response') && seqOf(text) === build.pingSeq) build.pong ??= t;
  else if (text.startsWith('ws> start_command')) [build.start, build.startSeq] = [t, seqOf(text)];
  else if (text.startsWith('ws< response') && seqOf(text) === build.startSeq) build.started ??= t;
  else if (text.startsWith('ws< complete')) build.complete = t;
  else if (text.includes('update "builds" set "results"') && build.complete !== undefined)
    build.done ??= t;
}
const phases = {
  'force POST in -> buildset and request committed': (b) => b.committed - b.force,
  'commit -> claim': (b) => b.claim - b.committed,
  'claim -> start_command sent': (b) => b.start - b.claim,
  '  of which the ping round trip (worker)': (b) => b.pong - b.ping,
  'start_command -> complete received (worker)': (b) => b.complete - b.start,
  '  of which the start_command answer': (b) => b.started - b.start,
  'complete -> build written complete': (b) => b.done - b.complete,
  'force POST in -> build written complete': (b) => b.done - b.force,
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = (s.length - 1) / 2;
  return (s[Math.floor(mid)] + s[Math.ceil(mid)]) / 2;
};
const complete = builds.filter((b) => b.done !== undefined && b.claim !== undefined).slice(2);
if (complete.length === 0) throw new Error(`no complete noop build in ${file}`);
console.log(`${complete.length} builds; median and min, ms`);
for (const [name, phase] of Object.entries(phases)) {
  const values = complete.map(phase);
  console.log(
    `${median(values).toFixed(2).padStart(7)} ${Math.min(...values)
      .toFixed(2)
      .padStart(7)}  ${name}`,
  );
}
