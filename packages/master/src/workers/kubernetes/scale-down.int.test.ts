/**
 * Only idle pods are ever deleted: random scale-downs (config reloads lowering maxPods, no warm
 * pool, no idle time) and master restarts while builds run kill no build — every request ends
 * SUCCESS with one build, no pod is deleted while its worker runs a command, and no pod
 * is left afterwards.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@yardmaster/testkit';
import { K8sFixture } from '../../../test/k8s-fixture.js';
import { Results } from '../../results.js';

let fixture: K8sFixture | null = null;

afterAll(async () => {
  await fixture?.stop();
});

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('scale-downs and master restarts during builds', () => {
  it('kill no build', async () => {
    const seed = Number(process.env.YARDMASTER_CHAOS_SEED ?? 7);
    const next = random(seed);
    fixture = new K8sFixture({
      command: 'sleep 2',
      latent: { maxPods: 4, idleTimeout: 1 },
      drainTimeoutMs: 30_000,
    });
    await fixture.start();
    const ids = await fixture.force(14);

    const actions: string[] = [];
    let restarts = 0;
    const deadline = Date.now() + 35_000;
    for (;;) {
      const current = fixture;
      const done = await Promise.all(ids.map((id) => current.master.data.buildsets.getRequest(id)));
      if (done.every((r) => r?.complete) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 600 + next() * 900));
      const running = fixture.latent.podCounts()[0]?.byState.busy ?? 0;
      if (running > 0 && restarts < 2 && next() < 0.3) {
        restarts += 1;
        actions.push(`restart with ${running} busy pod(s)`);
        await fixture.restart();
      } else {
        const maxPods = 1 + Math.floor(next() * 4);
        actions.push(`maxPods ${maxPods} with ${running} busy pod(s)`);
        // A reload of the whole config (Master.reconfig), as SIGHUP does.
        await fixture.master.reconfig(fixture.makeConfig({ maxPods, minIdle: 0, idleTimeout: 0 }));
      }
    }
    await fixture.master.reconfig(fixture.makeConfig({ maxPods: 4, minIdle: 0, idleTimeout: 0 }));
    const results = await fixture.results(ids, 40_000);
    expect(results, `seed ${seed}: ${actions.join('; ')}`).toEqual(ids.map(() => Results.SUCCESS));
    const builds = await fixture.builds();
    expect(builds.filter((b) => b.results !== Results.SUCCESS)).toEqual([]);
    expect(builds).toHaveLength(ids.length);
    expect(fixture.fake.deletedWhileBusy).toEqual([]);
    expect(actions.some((a) => a.startsWith('restart'))).toBe(true);
    await waitFor(() => fixture?.fake.listPods().length === 0, {
      message: 'no pod is left',
      timeoutMs: 15_000,
    });
  });
});
