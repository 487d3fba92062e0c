/**
 * The KubeClient (through @kubernetes/client-node) against testkit's fake API server:
 * pods, label selectors, watch, graceful delete, events, leases, secrets, and the kubelet's
 * phases, injected faults and `secretKeyRef` resolution.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { FakeKubernetes, waitFor, type RunningContainer } from '@yardmaster/testkit';
import { createKubeClient, KubeApiError, type KubeClient, type PodObject } from './kube-client.js';
import { classifyPod } from './pod-status.js';
import { LeaseElector } from './lease-elector.js';

let fake: FakeKubernetes;
let client: KubeClient;
let stopped: string[];
/** The env each container was started with, by pod name. */
let envs: Map<string, Record<string, string>>;

/** A container that runs until it is stopped (no process). */
function sleeper(name: string): RunningContainer {
  let finish: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    finish = resolve;
  });
  return {
    exited,
    busy: () => false,
    stop: async () => {
      stopped.push(name);
      finish(143);
    },
  };
}

function pod(name: string, image = 'worker:1', labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'test', ...labels } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'worker', image }] },
  };
}

beforeEach(async () => {
  stopped = [];
  envs = new Map();
  fake = await new FakeKubernetes({
    runner: (p, env) => {
      envs.set(p.metadata.name, env);
      return sleeper(p.metadata.name);
    },
  }).start();
  client = await createKubeClient({
    inCluster: false,
    kubeconfig: fake.kubeconfigPath,
    namespace: null,
  });
});

afterEach(async () => {
  await fake.stop();
});

describe('the fake Kubernetes API through @kubernetes/client-node', () => {
  it('takes the namespace from the kubeconfig context', () => {
    expect(client.namespace).toBe('yardmaster');
  });

  it('creates, lists by label, watches and deletes pods', async () => {
    const events: string[] = [];
    const list = await client.listPods('app=test');
    const stop = await client.watchPods(
      'app=test,role=a',
      list.resourceVersion,
      (type, p) => events.push(`${type} ${p.metadata?.name} ${classifyPod(p).state}`),
      () => undefined,
    );
    await client.createPod(pod('a-1', 'worker:1', { role: 'a' }));
    await client.createPod(pod('b-1', 'worker:1', { role: 'b' }));
    await waitFor(() => events.some((e) => e.startsWith('MODIFIED a-1 running')), {
      message: 'a-1 runs',
    });
    expect((await client.listPods('app=test,role=b')).items.map((p) => p.metadata?.name)).toEqual([
      'b-1',
    ]);
    await client.deletePod('a-1');
    await waitFor(() => events.some((e) => e.startsWith('DELETED a-1')), { message: 'a-1 gone' });
    expect(events.some((e) => e.includes('b-1'))).toBe(false);
    expect(events).toContain('MODIFIED a-1 terminating');
    expect(stopped).toEqual(['a-1']);
    // Deleting a pod that is gone is not an error.
    await client.deletePod('a-1');
    stop();
  });

  it('refuses an invalid pod and a duplicate name with the API status', async () => {
    await expect(
      client.createPod({ ...pod('x-1'), spec: { containers: [{ name: 'w', image: '' }] } }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringContaining('image') as string });
    await client.createPod(pod('x-2'));
    const error: unknown = await client.createPod(pod('x-2')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(409);
  });

  it('reports image pull errors, Unschedulable and evictions with their reasons', async () => {
    const seen = new Map<string, PodObject>();
    const stop = await client.watchPods(
      'app=test',
      '',
      (_t, p) => seen.set(p.metadata?.name ?? '', p),
      () => undefined,
    );
    await client.createPod(pod('pull-1', 'registry.invalid/bad-image:2'));
    await client.createPod(pod('sched-1', 'worker:unschedulable'));
    await client.createPod(pod('evict-1'));
    await waitFor(
      () => {
        const condition = classifyPod(seen.get('pull-1') ?? {});
        return condition.state === 'failed' && condition.reason.startsWith('ErrImagePull');
      },
      { message: 'ErrImagePull' },
    );
    await waitFor(
      () => {
        const condition = classifyPod(seen.get('pull-1') ?? {});
        return condition.state === 'failed' && condition.reason.startsWith('ImagePullBackOff');
      },
      { message: 'then ImagePullBackOff' },
    );
    await waitFor(() => classifyPod(seen.get('sched-1') ?? {}).state === 'unschedulable', {
      message: 'Unschedulable',
    });
    expect(await client.podWarnings('sched-1')).toEqual([
      expect.stringMatching(/^FailedScheduling: 0\/3 nodes are available/),
    ]);
    fake.schedule('sched-1');
    await waitFor(() => classifyPod(seen.get('sched-1') ?? {}).state === 'running', {
      message: 'scheduled and running',
    });
    await waitFor(() => classifyPod(seen.get('evict-1') ?? {}).state === 'running', {
      message: 'evict-1 runs',
    });
    await fake.evict('evict-1');
    await waitFor(
      () => {
        const condition = classifyPod(seen.get('evict-1') ?? {});
        return condition.state === 'ended' && condition.reason.startsWith('Evicted');
      },
      { message: 'evicted' },
    );
    stop();
  });

  it('ends a pod at its activeDeadlineSeconds', async () => {
    const seen = new Map<string, PodObject>();
    const stop = await client.watchPods(
      'app=test',
      '',
      (_t, p) => seen.set(p.metadata?.name ?? '', p),
      () => undefined,
    );
    await client.createPod({
      ...pod('deadline-1'),
      spec: {
        restartPolicy: 'Never',
        activeDeadlineSeconds: 1,
        containers: [{ name: 'w', image: 'i' }],
      },
    });
    await waitFor(() => classifyPod(seen.get('deadline-1') ?? {}).state === 'ended', {
      message: 'DeadlineExceeded',
    });
    expect(classifyPod(seen.get('deadline-1') ?? {})).toMatchObject({
      reason: expect.stringMatching(/^DeadlineExceeded/) as string,
    });
    stop();
  });

  it('creates, lists by label and deletes secrets', async () => {
    const secret = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, labels },
      data: { password: Buffer.from('pw').toString('base64') },
    });
    await client.createSecret(secret('s-1', { app: 'test', role: 'a' }));
    await client.createSecret(secret('s-2', { app: 'test', role: 'b' }));
    const listed = await client.listSecrets('app=test,role=a');
    expect(listed.map((x) => [x.name, x.labels.role])).toEqual([['s-1', 'a']]);
    expect(Math.abs(Date.now() - (listed[0]?.created ?? 0))).toBeLessThan(5_000);
    const duplicate: unknown = await client
      .createSecret(secret('s-1', {}))
      .catch((e: unknown) => e);
    expect((duplicate as KubeApiError).status).toBe(409);
    await expect(client.createSecret(secret('Not_A_Name', {}))).rejects.toMatchObject({
      status: 422,
    });
    await client.deleteSecret('s-1');
    await client.deleteSecret('s-1'); // gone already: not an error
    expect((await client.listSecrets('app=test')).map((x) => x.name)).toEqual(['s-2']);
    expect(fake.listSecrets().map((x) => (x.metadata as { name: string }).name)).toEqual(['s-2']);
  });

  it("resolves a container's secretKeyRef; a missing Secret is CreateContainerConfigError until it exists", async () => {
    const seen = new Map<string, PodObject>();
    const stop = await client.watchPods(
      'app=test',
      '',
      (_t, p) => seen.set(p.metadata?.name ?? '', p),
      () => undefined,
    );
    const withSecret = (name: string, secretName: string) => ({
      ...pod(name),
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'worker',
            image: 'worker:1',
            env: [
              { name: 'PLAIN', value: 'x' },
              {
                name: 'PASSWORD',
                valueFrom: { secretKeyRef: { name: secretName, key: 'password' } },
              },
            ],
          },
        ],
      },
    });
    await client.createSecret({
      metadata: { name: 'pw-1' },
      stringData: { password: 'hunter2' },
    });
    await client.createPod(withSecret('sec-1', 'pw-1'));
    await client.createPod(withSecret('sec-2', 'pw-2'));
    await waitFor(() => classifyPod(seen.get('sec-1') ?? {}).state === 'running', {
      message: 'sec-1 runs',
    });
    expect(envs.get('sec-1')).toMatchObject({ PLAIN: 'x', PASSWORD: 'hunter2' });
    await waitFor(
      () => {
        const condition = classifyPod(seen.get('sec-2') ?? {});
        return condition.state === 'failed' ? condition.reason : null;
      },
      { message: 'sec-2 waits for its Secret' },
    ).then((reason) => expect(reason).toBe('CreateContainerConfigError: secret "pw-2" not found'));
    expect(await client.podWarnings('sec-2')).toContain('Failed: Error: secret "pw-2" not found');
    expect(envs.has('sec-2')).toBe(false);
    // As the kubelet, it tries again: once the Secret exists the container starts.
    await client.createSecret({
      metadata: { name: 'pw-2' },
      data: { password: Buffer.from('s3cret').toString('base64') },
    });
    await waitFor(() => classifyPod(seen.get('sec-2') ?? {}).state === 'running', {
      message: 'sec-2 runs once its Secret exists',
    });
    expect(envs.get('sec-2')?.PASSWORD).toBe('s3cret');
    stop();
  });

  it('holds a lease for one master at a time and hands it over on stop', async () => {
    const log = pino({ level: 'silent' });
    const other = await createKubeClient({
      inCluster: false,
      kubeconfig: fake.kubeconfigPath,
      namespace: null,
    });
    const a = new LeaseElector(
      client,
      { leaseName: 'l', identity: 'a', renewMs: 100, durationSeconds: 2 },
      log,
    );
    const b = new LeaseElector(
      other,
      { leaseName: 'l', identity: 'b', renewMs: 100, durationSeconds: 2 },
      log,
    );
    await a.start(() => undefined);
    await b.start(() => undefined);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    await a.stop();
    await waitFor(() => b.isLeader, { message: 'b takes over once a handed the lease over' });
    expect((await client.getLease('l'))?.spec?.holderIdentity).toBe('b');
    // A stale write is refused.
    const lease = await client.getLease('l');
    await b.stop();
    expect(
      await client.writeLease({ ...lease, metadata: { name: 'l', resourceVersion: '1' } }, false),
    ).toBeNull();
  });
});
