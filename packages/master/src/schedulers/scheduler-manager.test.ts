import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from '../data/data-api.js';
import {
  buildFactory,
  builder,
  defineConfig,
  gitPoller,
  periodic,
  shellCommand,
  triggerable,
  validateConfig,
  worker,
} from '../config/index.js';
import type { SchedulerConfig } from '../config/types.js';
import { ManualClock } from './clock.js';
import { SchedulerManager } from './scheduler-manager.js';
import { type TimedScheduler } from './timed-schedulers.js';

let handle: DatabaseHandle;
let data: DataApi;
let clock: ManualClock;

beforeEach(async () => {
  handle = await openDatabase('sqlite://', '/tmp');
  clock = new ManualClock(1_700_000_000_000);
  data = new DataApi({
    db: handle.db,
    bus: new InProcessBus(() => undefined),
    now: () => clock.now(),
  });
});

afterEach(async () => {
  await handle.close();
});

function config(schedulers: SchedulerConfig[] | unknown[], withPoller = true) {
  return validateConfig(
    defineConfig({
      workers: [worker('w', { password: 'p' })],
      builders: [
        builder({
          name: 'b',
          workerNames: ['w'],
          factory: buildFactory([shellCommand({ command: 'true' })]),
        }),
      ],
      schedulers: schedulers as never,
      changeSources: withPoller
        ? [gitPoller({ repourl: 'file:///nowhere.git', name: 'repo' })]
        : [],
    }),
    'test',
  );
}

describe('SchedulerManager', () => {
  it('registers change sources and timed schedulers as singletons; a reload replaces a changed one in place', async () => {
    const manager = new SchedulerManager({
      data,
      log: pino({ level: 'silent' }),
      basedir: '/tmp',
      clock,
      cancelBuildRequest: async () => undefined,
    });
    const services = await manager.configure(
      config([
        periodic({ name: 'tick', periodicBuildTimer: '1h', builderNames: ['b'] }),
        triggerable({ name: 'tests', builderNames: ['b'] }),
      ]),
    );
    expect(services.map((s) => s.name)).toEqual(['scheduler:tick', 'changesource:repo']);
    const tick = services[0];
    await tick?.start();
    const first = manager.scheduler('tick') as TimedScheduler;
    expect(first.nextBuildAt).toBe(clock.now());
    // Same config: same instance. Changed config: the slot runs the new instance.
    expect(
      (
        await manager.configure(
          config([periodic({ name: 'tick', periodicBuildTimer: '1h', builderNames: ['b'] })]),
        )
      )[0],
    ).toBe(tick);
    expect(manager.scheduler('tick')).toBe(first);
    await clock.advance(0);
    const again = await manager.configure(
      config([periodic({ name: 'tick', periodicBuildTimer: '2h', builderNames: ['b'] })]),
    );
    expect(again[0]).toBe(tick);
    const second = manager.scheduler('tick') as TimedScheduler;
    expect(second).not.toBe(first);
    expect(first.nextBuildAt).toBeNull();
    expect(second.nextBuildAt).toBe(clock.now() + 2 * 3_600_000);
    // Removed: no longer registered (SingletonServices stops it).
    expect((await manager.configure(config([], false))).map((s) => s.name)).toEqual([]);
    await tick?.stop();
    expect(second.nextBuildAt).toBeNull();
    expect(
      await manager.triggers.trigger('tests', {
        waitedFor: false,
        sourcestamps: [],
        properties: {},
        parentBuildid: 1,
        parentRelationship: 'Triggered from',
      }),
    ).toBeUndefined();
  });
});
