/**
 * kubernetesLatentWorker end to end: a real master, testkit's fake Kubernetes API through
 * @kubernetes/client-node, and each pod run as a real `yardmaster-worker` process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@yardmaster/testkit';
import { K8sFixture } from '../../../test/k8s-fixture.js';
import { Results } from '../../results.js';
import { LABELS } from './pod-spec.js';

let fixture: K8sFixture | null = null;

afterEach(async () => {
  await fixture?.stop();
  fixture = null;
});

describe('kubernetesLatentWorker', () => {
  it('runs a burst of 30 requests on at most 5 pods, then deletes every pod', async () => {
    fixture = new K8sFixture({ latent: { maxPods: 5 } });
    await fixture.start();
    const ids = await fixture.force(30);
    const results = await fixture.results(ids);
    expect(results).toEqual(ids.map(() => Results.SUCCESS));
    expect(fixture.fake.peakPods).toBeLessThanOrEqual(5);
    expect(fixture.fake.peakPods).toBeGreaterThanOrEqual(2);
    const builds = await fixture.builds();
    expect(builds).toHaveLength(30);
    expect(builds.every((b) => b.results === Results.SUCCESS)).toBe(true);
    await waitFor(() => fixture?.fake.listPods().length === 0, {
      message: 'every pod is deleted once its build ended',
    });
    expect(fixture.fake.deletedWhileBusy).toEqual([]);
    // One build per pod: 30 pods in all, each labelled with its latent worker and master.
    expect(fixture.fake.history.size).toBe(30);
    const podNames = new Set([...fixture.fake.history.values()].map((h) => h.name));
    expect([...podNames].every((name) => /^k8s-[0-4]$/.test(name))).toBe(true);
    // Each pod had a Secret of its own, deleted with it.
    await waitFor(() => fixture?.fake.listSecrets().length === 0, {
      message: 'every worker Secret is deleted with its pod',
    });
    // The pods' names are slots, so the workers table holds one row per slot, not per pod;
    // every build refers to one of them.
    const workers = await fixture.master.data.workers.list();
    expect(workers.map((w) => w.name).sort()).toEqual([...podNames].sort());
    expect(workers.length).toBeLessThanOrEqual(5);
    const workerids = new Set(workers.map((w) => w.workerid));
    const list = await fixture.master.data.builds.list(
      { filters: [], order: [], limit: null, offset: 0, fields: null, properties: [] },
      {},
    );
    expect(list.items.every((b) => b.workerid !== null && workerids.has(b.workerid))).toBe(true);
  });

  it('fails the build within 30 s with the reason when the image cannot be pulled', async () => {
    fixture = new K8sFixture({ latent: { image: 'registry.invalid/bad-image:1' } });
    await fixture.start();
    const started = Date.now();
    const [id] = await fixture.force(1);
    const [result] = await fixture.results([id ?? 0], 30_000);
    expect(result).toBe(Results.EXCEPTION);
    expect(Date.now() - started).toBeLessThan(30_000);
    const [build] = await fixture.builds();
    expect(build?.results).toBe(Results.EXCEPTION);
    expect(build?.state_string).toMatch(/^worker pod k8s-0 could not start: ErrImagePull: /);
    expect(build?.state_string).toContain('bad-image:1');
    await waitFor(() => fixture?.fake.listPods().length === 0, {
      message: 'the failed pod is deleted',
    });
  });

  it('fails the build when the worker container crashes before connecting', async () => {
    fixture = new K8sFixture({ latent: { image: 'yardmaster/worker:crash' } });
    await fixture.start();
    const [id] = await fixture.force(1);
    const [result] = await fixture.results([id ?? 0], 30_000);
    expect(result).toBe(Results.EXCEPTION);
    const [build] = await fixture.builds();
    expect(build?.state_string).toMatch(
      /could not start: the worker container exited with code 1 \(Error\)/,
    );
  });

  it('fails the build when the API refuses the pod spec', async () => {
    fixture = new K8sFixture({ latent: { serviceAccountName: 'missing-sa' } });
    await fixture.start();
    const [id] = await fixture.force(1);
    const [result] = await fixture.results([id ?? 0], 30_000);
    expect(result).toBe(Results.EXCEPTION);
    const [build] = await fixture.builds();
    expect(build?.state_string).toMatch(
      /the Kubernetes API refused worker pod k8s-0 \(HTTP 403\): .*serviceaccount "missing-sa" not found/,
    );
    expect(fixture.fake.listPods()).toEqual([]);
    // Its Secret, created first, is deleted again.
    expect(fixture.fake.listSecrets()).toEqual([]);
  });

  it('waits for an Unschedulable pod up to unschedulableDeadline, then fails with the reason', async () => {
    fixture = new K8sFixture({
      latent: { image: 'yardmaster/worker:unschedulable', unschedulableDeadline: '2s' },
    });
    await fixture.start();
    const [id] = await fixture.force(1);
    await waitFor(() => fixture?.fake.listPods().length === 1, { message: 'a pod is created' });
    const [result] = await fixture.results([id ?? 0], 20_000);
    expect(result).toBe(Results.EXCEPTION);
    const [build] = await fixture.builds();
    expect(build?.state_string).toMatch(/could not start: Unschedulable: 0\/3 nodes are available/);
    expect(build?.state_string).toContain('waited 2 s');
  });

  it('labels pods and keeps a warm pool of minIdle pods', async () => {
    fixture = new K8sFixture({ latent: { minIdle: 2, maxPods: 3 } });
    await fixture.start();
    await waitFor(() => fixture?.fake.listPods().length === 2, { message: 'two warm pods' });
    const pods = fixture.fake.listPods();
    for (const pod of pods) {
      expect(pod.metadata.labels?.[LABELS.latentWorker]).toBe('k8s');
      expect(pod.metadata.labels?.[LABELS.master]).toBe('master-0');
      expect(pod.metadata.labels?.[LABELS.buildRequest]).toBe('none');
      expect(pod.spec.activeDeadlineSeconds).toBe(86_400);
      expect(pod.spec.restartPolicy).toBe('Never');
    }
    await waitFor(() => fixture?.latent.podCounts()[0]?.byState.idle === 2, {
      message: 'both warm pods connected and idle',
    });
    const metrics = await (
      await fetch(`http://127.0.0.1:${fixture.master.webPort}/metrics`)
    ).text();
    expect(metrics).toContain('yardmaster_worker_pods{latent_worker="k8s",state="idle"} 2');
    expect(metrics).toContain('yardmaster_worker_pods_max{latent_worker="k8s"} 3');
    expect(metrics).toContain('yardmaster_workers{state="idle"} 2');
    const ids = await fixture.force(1);
    expect(await fixture.results(ids)).toEqual([Results.SUCCESS]);
    // The warm pool is refilled; the pod that ran the build is gone.
    await waitFor(
      () => {
        const names = fixture?.fake.listPods().map((p) => p.metadata.name) ?? [];
        return names.length === 2 && fixture?.latent.podCounts()[0]?.byState.idle === 2;
      },
      { message: 'two idle pods again' },
    );
  });

  it('leaves no orphaned pod when masters restart or are replaced', async () => {
    fixture = new K8sFixture({ latent: { minIdle: 2, maxPods: 4 } });
    await fixture.start();
    await waitFor(() => fixture?.latent.podCounts()[0]?.byState.idle === 2, {
      message: 'two warm pods of master-0',
    });
    const first = new Set(fixture.fake.listPods().map((p) => p.metadata.name));
    expect(fixture.fake.listSecrets()).toHaveLength(2);
    // A worker Secret whose pod is gone (deleted by hand, or its delete failed): an orphan.
    const orphan = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'k8s-9-abcde',
        labels: {
          [LABELS.managedBy]: 'yardmaster',
          [LABELS.latentWorker]: 'k8s',
          [LABELS.pod]: 'k8s-9',
        },
      },
      stringData: { password: 'x' },
    };
    const response = await fetch(
      `${fixture.fake.url}/api/v1/namespaces/${fixture.fake.namespace}/secrets`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(orphan),
      },
    );
    expect(response.status).toBe(201);
    fixture.fake.backdateSecret('k8s-9-abcde', 120_000);

    // The same master restarts: it adopts its idle pods (they reconnect), starts none, and
    // deletes the orphaned Secret.
    await fixture.restart();
    await waitFor(
      () => !fixture?.fake.listSecrets().some((x) => JSON.stringify(x).includes('k8s-9-abcde')),
      { message: 'the orphaned Secret is deleted' },
    );
    expect(fixture.fake.listSecrets()).toHaveLength(2);
    await waitFor(() => fixture?.latent.podCounts()[0]?.byState.idle === 2, {
      message: 'the restarted master adopted both pods',
      timeoutMs: 20_000,
    });
    expect(new Set(fixture.fake.listPods().map((p) => p.metadata.name))).toEqual(first);
    const ids = await fixture.force(2);
    expect(await fixture.results(ids)).toEqual([Results.SUCCESS, Results.SUCCESS]);

    // Another master replaces it (a new name): the old master's pods are orphans.
    await fixture.restart('master-1');
    await waitFor(
      () => {
        const pods = fixture?.fake.listPods() ?? [];
        return (
          pods.length === 2 &&
          pods.every((p) => p.metadata.labels?.[LABELS.master] === 'master-1') &&
          fixture?.latent.podCounts()[0]?.byState.idle === 2
        );
      },
      { message: 'only master-1 pods remain', timeoutMs: 30_000 },
    );
    expect(fixture.fake.deletedWhileBusy).toEqual([]);
  });
});
