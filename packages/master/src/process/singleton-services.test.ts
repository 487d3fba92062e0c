import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { openDatabase, type DatabaseHandle } from '../db/connect.js';
import { InProcessBus } from '../mq/in-process-bus.js';
import { DataApi } from '../data/data-api.js';
import { SingletonServices, type SingletonService } from './singleton-services.js';

describe('SingletonServices', () => {
  let handle: DatabaseHandle;
  afterEach(async () => {
    await handle.close();
  });

  it('runs each service on one master and moves it when that master stops renewing', async () => {
    handle = await openDatabase('sqlite://', '/tmp');
    let now = 1_000_000;
    const data = new DataApi({
      db: handle.db,
      bus: new InProcessBus(() => undefined),
      now: () => now,
    });
    const log = pino({ level: 'silent' });
    const running = new Map<string, string>();
    const service = (master: string): SingletonService => ({
      name: 'poller:repo',
      start: () => void running.set(master, 'poller:repo'),
      stop: () => void running.delete(master),
    });
    const options = { renewMs: 1_000, ttlMs: 5_000 };
    const one = new SingletonServices(data, 1, log, options);
    const two = new SingletonServices(data, 2, log, options);
    await one.set([service('one')]);
    await two.set([service('two')]);
    expect([...running.keys()]).toEqual(['one']);
    for (let i = 0; i < 3; i++) {
      now += 1_000;
      await one.tick();
      await two.tick();
    }
    expect([...running.keys()]).toEqual(['one']);
    // master one dies: it stops renewing; after the ttl, master two takes over
    now += 4_000;
    await two.tick();
    expect([...running.keys()]).toEqual(['one']);
    now += 2_000;
    await two.tick();
    expect(two.runningHere()).toEqual(['poller:repo']);
    // master one comes back and finds the lease gone: it stops its copy
    await one.tick();
    expect([...running.keys()]).toEqual(['two']);
    await two.stop();
    await one.stop();
  });
});
