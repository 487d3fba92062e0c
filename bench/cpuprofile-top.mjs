#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (node --cpu-prof): where the samples fall, by module group and
// by function (self time, and inclusive time for our own code).
//   node bench/cpuprofile-top.mjs FILE.cpuprofile [--top 25]
import fs from 'node:fs';

const file = process.argv[2];
const topIndex = process.argv.indexOf('--top');
const TOP = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 25;
if (!file) {
  console.error('usage: cpuprofile-top.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

// self time per node from samples + timeDeltas (µs)
const self = new Map();
profile.samples.forEach((id, index) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

/** A short place: packages/master/dist/process/log-writer.js:42, node:internal/…, pkg name. */
function place(frame) {
  const url = frame.url ?? '';
  if (url === '') return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const ours = url.indexOf('/packages/');
  if (ours >= 0) return `${url.slice(ours + 10)}:${frame.lineNumber + 1}`;
  return url.replace(/^file:\/\//, '');
}
function group(frame) {
  const name = frame.functionName;
  const url = frame.url ?? '';
  if (url === '' && name.startsWith('(')) return name; // (garbage collector), (idle), (program)
  if (url === '') return '(native)';
  if (url.includes('/node_modules/')) return `npm: ${place(frame)}`;
  const ours = /\/packages\/([^/]+)\//.exec(url);
  if (ours) return `ours: ${ours[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}
const label = (frame) => `${frame.functionName || '(anonymous)'} ${place(frame)}`.trim();

const byGroup = new Map();
const bySelf = new Map();
for (const [id, us] of self) {
  const frame = nodes.get(id).callFrame;
  byGroup.set(group(frame), (byGroup.get(group(frame)) ?? 0) + us);
  bySelf.set(label(frame), (bySelf.get(label(frame)) ?? 0) + us);
}
// inclusive: each node's self time counted once per distinct function on its stack
const inclusive = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frame = nodes.get(at).callFrame;
    if (!(frame.url ?? '').includes('/packages/')) continue;
    const key = label(frame);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
const busy = total - (byGroup.get('(idle)') ?? 0);
const ms = (us) => (us / 1000).toFixed(0).padStart(7);
const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const show = (title, map, n) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${ms(us)} ms ${pct(us)}  ${key}`);
  }
};
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (not idle); % of busy`,
);
show('by group', byGroup, 20);
show('self time by function', bySelf, TOP);
show('inclusive time, our functions', inclusive, TOP);
