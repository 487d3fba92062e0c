/**
 * The change-based, timed, dependent and triggerable schedulers on an in-memory SQLite
 * database with a hand-driven clock: what they build, when, with which source stamps and
 * properties, exactly once across restarts and across two "masters".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from '../data/data-api.js';
import { EMPTY_SPEC } from '../data/result-spec.js';
import type { BuildsetEntity } from '../data/buildsets.js';
import type { ChangeInput } from '../data/changes.js';
import { Results } from '../results.js';
import { schedulerSchema } from '../config/schema.js';
import type {
  DependentSchedulerConfig,
  NightlySchedulerConfig,
  PeriodicSchedulerConfig,
  TriggerableSchedulerConfig,
} from '../config/types.js';
import { ManualClock } from './clock.js';
import { BasicScheduler, type BasicSchedulerConfig } from './basic-schedulers.js';
import { TimedScheduler } from './timed-schedulers.js';
import { DependentScheduler } from './dependent.js';
import { TriggerableScheduler, waitForBuildset } from './triggerable.js';
import type { SchedulerDeps } from './base-scheduler.js';

const START = Date.parse('2026-01-10T02:00:00Z');
const log = pino({ level: 'silent' });

let handle: DatabaseHandle;
let data: DataApi;
let clock: ManualClock;
let deps: SchedulerDeps;

beforeEach(async () => {
  handle = await openDatabase('sqlite://', '/tmp');
  clock = new ManualClock(START);
  data = new DataApi({
    db: handle.db,
    bus: new InProcessBus(() => undefined),
    now: () => clock.now(),
  });
  deps = { data, log, clock };
  await data.builders.ensure('b1', null, []);
  await data.builders.ensure('b2', null, []);
});

afterEach(async () => {
  await handle.close();
});

function config<T>(input: Record<string, unknown>): T {
  return schedulerSchema.parse({ builderNames: ['b1'], ...input }) as T;
}

async function buildsets(): Promise<
  (BuildsetEntity & { properties: Record<string, [unknown, string]> })[]
> {
  const { items } = await data.buildsets.list(EMPTY_SPEC);
  return Promise.all(
    items.map(async (b) => ({
      ...b,
      properties: await data.buildsets.properties(b.bsid),
    })),
  );
}

function change(overrides: Partial<ChangeInput> = {}): ChangeInput {
  return {
    author: 'dev <dev@example.invalid>',
    branch: 'main',
    revision: Math.random().toString(16).slice(2),
    repository: 'https://example.invalid/app.git',
    files: ['src/a.ts'],
    ...overrides,
  };
}

async function completeBuildset(bsid: number, results: number): Promise<void> {
  const { items } = await data.buildsets.listRequests(EMPTY_SPEC);
  await data.buildsets.complete(
    items.filter((r) => r.buildsetid === bsid).map((r) => r.buildrequestid),
    results as 0,
  );
}

describe('singleBranchScheduler and anyBranchScheduler', () => {
  it('builds each important change on its branch at once, with the change source stamp and properties', async () => {
    await data.changes.add([change({ revision: 'old' })]); // before the scheduler existed: not built
    const scheduler = new BasicScheduler(
      config<BasicSchedulerConfig>({
        type: 'singleBranch',
        name: 'main',
        branch: 'main',
        builderNames: ['b1', 'b2'],
        properties: { tier: 'ci' },
        fileIsImportant: { files: ['src/**'] },
      }),
      deps,
    );
    await scheduler.activate();
    const [first] = await data.changes.add([
      change({ revision: 'r1', properties: { ticket: 'T-1', tier: 'from-change' } }),
    ]);
    await data.changes.add([change({ revision: 'r2', branch: 'dev' })]);
    await data.changes.add([change({ revision: 'r3', files: ['docs/x.md'] })]);
    await scheduler.settle();
    const sets = await buildsets();
    expect(sets).toHaveLength(1);
    const [set] = sets;
    expect(set?.reason).toBe(
      "The SingleBranchScheduler scheduler named 'main' triggered this build",
    );
    const stored = await data.changes.get(first ?? 0);
    expect(set?.sourcestamps.map((s) => s.ssid)).toEqual([stored?.sourcestamp.ssid]);
    expect(set?.sourcestamps[0]).toMatchObject({ branch: 'main', revision: 'r1' });
    expect(set?.properties).toEqual({
      scheduler: ['main', 'Scheduler'],
      tier: ['from-change', 'Change'],
      ticket: ['T-1', 'Change'],
    });
    const requests = await data.buildsets.listRequests(EMPTY_SPEC);
    expect(requests.items).toHaveLength(2);
    await scheduler.deactivate();
  });

  it('waits for the tree to be stable, across a restart, and builds the changes together once', async () => {
    const cfg = config<BasicSchedulerConfig>({
      type: 'singleBranch',
      name: 'stable',
      branch: 'main',
      treeStableTimer: '5m',
    });
    let scheduler = new BasicScheduler(cfg, deps);
    await scheduler.activate();
    await data.changes.add([change({ revision: 'a' })]);
    await scheduler.settle();
    await clock.advance(4 * 60_000);
    await data.changes.add([change({ revision: 'b' })]);
    await scheduler.settle();
    await clock.advance(4 * 60_000);
    expect(await buildsets()).toHaveLength(0);
    // The master restarts: the classified changes restart the timer.
    await scheduler.deactivate();
    scheduler = new BasicScheduler(cfg, deps);
    await scheduler.activate();
    await clock.advance(4 * 60_000);
    expect(await buildsets()).toHaveLength(0);
    await clock.advance(60_000);
    const sets = await buildsets();
    expect(sets).toHaveLength(1);
    expect(sets[0]?.sourcestamps[0]?.revision).toBe('b');
    expect(
      await data.schedulers.classifications(
        await data.state.objectId('stable', 'SingleBranchScheduler'),
      ),
    ).toEqual(new Map());
    await clock.advance(60 * 60_000);
    expect(await buildsets()).toHaveLength(1);
    await scheduler.deactivate();
  });

  it('anyBranch keeps one timer per branch', async () => {
    const scheduler = new BasicScheduler(
      config<BasicSchedulerConfig>({
        type: 'anyBranch',
        name: 'any',
        treeStableTimer: 60,
        branches: ['main', 'dev'],
      }),
      deps,
    );
    await scheduler.activate();
    await data.changes.add([change({ revision: 'm1' }), change({ revision: 'd1', branch: 'dev' })]);
    await data.changes.add([change({ revision: 'x1', branch: 'other' })]);
    await scheduler.settle();
    await clock.advance(61_000);
    const sets = await buildsets();
    expect(sets.map((s) => s.sourcestamps[0]?.branch).sort()).toEqual(['dev', 'main']);
    await scheduler.deactivate();
  });

  it('two masters running the same scheduler build each change once', async () => {
    const cfg = config<BasicSchedulerConfig>({
      type: 'singleBranch',
      name: 'twice',
      branch: 'main',
    });
    const one = new BasicScheduler(cfg, deps);
    const two = new BasicScheduler(cfg, deps);
    await one.activate();
    await two.activate();
    for (let i = 0; i < 5; i++) await data.changes.add([change({ revision: `r${i}` })]);
    await Promise.all([one.settle(), two.settle()]);
    const revisions = (await buildsets()).map((s) => s.sourcestamps[0]?.revision).sort();
    expect(revisions).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    await one.deactivate();
    await two.deactivate();
  });
});

describe('periodic and nightly', () => {
  it('periodic builds at start, then every period; a restart keeps the rhythm and catches up once', async () => {
    const cfg = config<PeriodicSchedulerConfig>({
      type: 'periodic',
      name: 'hourly',
      periodicBuildTimer: '1h',
      codebases: { '': { repository: 'https://example.invalid/app.git', branch: 'main' } },
    });
    let scheduler = new TimedScheduler(cfg, deps);
    await scheduler.activate();
    await clock.advance(0);
    expect(await buildsets()).toHaveLength(1);
    expect((await buildsets())[0]?.sourcestamps[0]).toMatchObject({
      branch: 'main',
      revision: null,
    });
    await clock.advance(59 * 60_000);
    expect(await buildsets()).toHaveLength(1);
    await clock.advance(60_000);
    expect(await buildsets()).toHaveLength(2);
    await scheduler.deactivate();
    // Down for three hours: one build at once, then hourly from then on.
    await clock.advance(3 * 3_600_000);
    scheduler = new TimedScheduler(cfg, deps);
    await scheduler.activate();
    await clock.advance(0);
    expect(await buildsets()).toHaveLength(3);
    expect(scheduler.nextBuildAt).toBe(clock.now() + 3_600_000);
    await scheduler.deactivate();
  });

  it('nightly fires on its cron schedule; onlyIfChanged skips nights without an important change', async () => {
    const cfg = config<NightlySchedulerConfig>({
      type: 'nightly',
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'UTC',
      onlyIfChanged: true,
      branch: 'main',
      fileIsImportant: { files: ['src/**'] },
    });
    const scheduler = new TimedScheduler(cfg, deps, { pollMs: 24 * 3_600_000 });
    await scheduler.activate();
    expect(scheduler.nextBuildAt).toBe(Date.parse('2026-01-10T03:00:00Z'));
    await clock.advance(3_600_000);
    // The first firing with onlyIfChanged builds whatever is there.
    let sets = await buildsets();
    expect(sets).toHaveLength(1);
    expect(sets[0]?.reason).toBe("The Nightly scheduler named 'nightly' triggered this build");
    await clock.advance(24 * 3_600_000);
    expect(await buildsets()).toHaveLength(1);
    await data.changes.add([change({ revision: 'docs', files: ['docs/a.md'] })]);
    await scheduler.settle();
    await clock.advance(24 * 3_600_000);
    expect(await buildsets()).toHaveLength(1);
    await data.changes.add([
      change({ revision: 'code' }),
      change({ revision: 'other', branch: 'dev' }),
    ]);
    await scheduler.settle();
    await clock.advance(24 * 3_600_000);
    sets = await buildsets();
    expect(sets).toHaveLength(2);
    expect(sets[1]?.sourcestamps[0]?.revision).toBe('code');
    expect(
      await data.state.get(await data.state.objectId('nightly', 'Nightly'), 'last_build'),
    ).toBe(Date.parse('2026-01-13T03:00:00Z'));
    await scheduler.deactivate();
  });
});

describe('dependent and triggerable', () => {
  it('dependent builds the upstream source stamps after a successful upstream buildset only', async () => {
    const upstream = new TriggerableScheduler(
      config<TriggerableSchedulerConfig>({ type: 'triggerable', name: 'up' }),
      deps,
    );
    const downstream = new DependentScheduler(
      config<DependentSchedulerConfig>({
        type: 'dependent',
        name: 'down',
        upstream: 'up',
        builderNames: ['b2'],
      }),
      deps,
    );
    await downstream.activate();
    const good = await upstream.trigger({
      waitedFor: false,
      sourcestamps: [{ codebase: '', branch: 'main', revision: 'abc' }],
      properties: {},
      parentBuildid: null,
      parentRelationship: null,
    });
    const bad = await upstream.trigger({
      waitedFor: false,
      sourcestamps: [{ codebase: '', branch: 'main', revision: 'def' }],
      properties: {},
      parentBuildid: null,
      parentRelationship: null,
    });
    await completeBuildset(bad.buildsetid, Results.FAILURE);
    await completeBuildset(good.buildsetid, Results.SUCCESS);
    await downstream.check();
    await downstream.check();
    const sets = await buildsets();
    expect(sets).toHaveLength(3);
    const down = sets[2];
    expect(down?.reason).toBe('downstream');
    expect(down?.sourcestamps.map((s) => s.ssid)).toEqual(sets[0]?.sourcestamps.map((s) => s.ssid));
    expect(down?.properties.scheduler).toEqual(['down', 'Scheduler']);
    const objectid = await data.state.objectId('down', 'Dependent');
    expect(await data.state.get(objectid, 'upstream')).toEqual({ after: bad.buildsetid, done: [] });
    await downstream.deactivate();
  });

  it('triggerable merges source stamps with its codebases and reports completion', async () => {
    const scheduler = new TriggerableScheduler(
      config<TriggerableSchedulerConfig>({
        type: 'triggerable',
        name: 'tests',
        codebases: {
          app: { repository: 'app.git', branch: 'main' },
          lib: { repository: 'lib.git', branch: 'stable' },
        },
        properties: { suite: 'all' },
      }),
      deps,
    );
    const added = await scheduler.trigger({
      waitedFor: true,
      sourcestamps: [
        { codebase: 'app', repository: 'app.git', branch: 'feature', revision: '123', project: '' },
      ],
      properties: { suite: ['smoke', 'Trigger'], reason: ['because', 'Trigger'] },
      parentBuildid: 42,
      parentRelationship: 'Triggered from',
    });
    const [set] = await buildsets();
    expect(set?.reason).toBe('because');
    expect(set?.parent_buildid).toBe(42);
    expect(set?.parent_relationship).toBe('Triggered from');
    expect(set?.sourcestamps.map((s) => [s.codebase, s.branch, s.revision])).toEqual([
      ['app', 'feature', '123'],
      ['lib', 'stable', null],
    ]);
    expect(set?.properties.suite).toEqual(['smoke', 'Trigger']);
    const requests = await data.buildsets.listRequests(EMPTY_SPEC);
    expect(requests.items[0]?.waited_for).toBe(true);
    const abort = new AbortController();
    const waiting = waitForBuildset(data, added.buildsetid, abort.signal, 60_000);
    await completeBuildset(added.buildsetid, Results.WARNINGS);
    await expect(waiting).resolves.toBe(Results.WARNINGS);
    const stopped = new AbortController();
    const other = await scheduler.trigger({
      waitedFor: true,
      sourcestamps: [],
      properties: {},
      parentBuildid: null,
      parentRelationship: null,
    });
    const pending = waitForBuildset(data, other.buildsetid, stopped.signal, 60_000);
    stopped.abort(new Error('parent stopped'));
    await expect(pending).rejects.toThrow('parent stopped');
  });
});
