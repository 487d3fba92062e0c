/**
 * Pieces of a config reload (`yardmaster reconfig`, SIGHUP) that are not the master's own
 * wiring: what changed between two validated configs, the master-wide services a build
 * runs with, and the set of running reporters.
 *
 * `ReporterSet` owns the reporters started from the config. States of each: started →
 * stopped. `apply` keeps a reporter whose config is unchanged (compared as JSON, so
 * `renderer(fn)`s by their source text), stops removed and changed ones (waiting for the
 * report in flight to end) and starts new ones; calls are serialized by the caller.
 */
import type { LockConfig, MasterConfig, ReporterConfig, StepConfig } from '../config/types.js';
import { createReporter, type Reporter, type ReporterDeps } from '../reporters/index.js';
import type { BuildServices } from './builder-runtime.js';
import type { LockManager } from './locks.js';
import type { SecretsProvider } from './secrets.js';

/** What a reload changed, for the log line and `yardmaster reconfig`'s answer. */
export interface ConfigChanges {
  added: string[];
  removed: string[];
  changed: string[];
  /** Settings a reload cannot change: they take effect at the next start. */
  needsRestart: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function compareNamed<T extends { name: string }>(
  kind: string,
  before: readonly T[],
  after: readonly T[],
  changes: ConfigChanges,
): void {
  const old = new Map(before.map((item) => [item.name, item]));
  const next = new Map(after.map((item) => [item.name, item]));
  for (const [name, item] of next) {
    const previous = old.get(name);
    if (previous === undefined) changes.added.push(`${kind} ${name}`);
    else if (!same(previous, item)) changes.changed.push(`${kind} ${name}`);
  }
  for (const name of old.keys()) {
    if (!next.has(name)) changes.removed.push(`${kind} ${name}`);
  }
}

/** Builders, workers, schedulers and reporters added, removed or changed by a reload. */
export function diffConfigs(before: MasterConfig, after: MasterConfig): ConfigChanges {
  const changes: ConfigChanges = { added: [], removed: [], changed: [], needsRestart: [] };
  compareNamed('worker', before.workers, after.workers, changes);
  compareNamed('latent worker', before.latentWorkers, after.latentWorkers, changes);
  compareNamed('builder', before.builders, after.builders, changes);
  compareNamed('scheduler', before.schedulers, after.schedulers, changes);
  const reporters = (config: MasterConfig) =>
    config.reporters.map((reporter, index) => ({
      ...reporter,
      name: `${index + 1} (${reporter.type})`,
    }));
  compareNamed('reporter', reporters(before), reporters(after), changes);
  for (const key of ['db', 'www', 'workerPort', 'workerHost'] as const) {
    if (!same(before[key], after[key])) changes.needsRestart.push(key);
  }
  for (const key of [
    'title',
    'collapseRequests',
    'properties',
    'secrets',
    'buildbotURL',
  ] as const) {
    if (!same(before[key], after[key])) changes.changed.push(key);
  }
  return changes;
}

/** One line: "added builder b; removed worker w1; changed builder a". */
export function describeChanges(changes: ConfigChanges): string {
  const parts = [
    changes.added.length > 0 ? `added ${changes.added.join(', ')}` : '',
    changes.removed.length > 0 ? `removed ${changes.removed.join(', ')}` : '',
    changes.changed.length > 0 ? `changed ${changes.changed.join(', ')}` : '',
    changes.needsRestart.length > 0
      ? `needs a restart to change ${changes.needsRestart.join(', ')} (kept as they were)`
      : '',
  ].filter((part) => part !== '');
  return parts.length > 0 ? parts.join('; ') : 'nothing changed';
}

/** Every lock definition of the config: builders' and steps' locks. */
export function configLocks(config: MasterConfig): LockConfig[] {
  const locks: LockConfig[] = [];
  const stepLocks = (step: StepConfig) => ('locks' in step ? step.locks : []);
  for (const builder of config.builders) {
    for (const access of builder.locks) locks.push(access.lock);
    for (const step of builder.factory.steps) {
      for (const access of stepLocks(step)) locks.push(access.lock);
    }
  }
  return locks;
}

/** The services builds started under `config` use. */
export function buildServices(
  config: MasterConfig,
  options: { basedir: string; locks: LockManager; secrets: SecretsProvider },
): BuildServices {
  const workerProperties = new Map<string, Record<string, unknown>>(
    [...config.workers, ...config.latentWorkers].map((w) => [w.name, w.properties]),
  );
  return {
    secrets: options.secrets,
    locks: options.locks,
    masterBasedir: options.basedir,
    globalProperties: config.properties,
    workerProperties: (name) => workerProperties.get(name) ?? {},
  };
}

/** The running reporters, matched to their configs. */
export class ReporterSet {
  private running: { config: ReporterConfig; reporter: Reporter }[] = [];

  get reporters(): Reporter[] {
    return this.running.map((entry) => entry.reporter);
  }

  async apply(configs: readonly ReporterConfig[], deps: ReporterDeps): Promise<void> {
    const keep: { config: ReporterConfig; reporter: Reporter }[] = [];
    const leftover = [...this.running];
    for (const config of configs) {
      const index = leftover.findIndex((entry) => same(entry.config, config));
      const existing = index >= 0 ? leftover.splice(index, 1)[0] : undefined;
      if (existing) keep.push(existing);
      else {
        const reporter = createReporter(config, deps);
        reporter.start();
        keep.push({ config, reporter });
      }
    }
    this.running = keep;
    await Promise.all(leftover.map((entry) => entry.reporter.stop()));
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = [];
    await Promise.all(running.map((entry) => entry.reporter.stop()));
  }
}
