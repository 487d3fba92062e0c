import * as models from 'kubernetes-models';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/validate-config.js';
import { kubernetesLatentWorker } from '../../config/factories.js';
import {
  buildPodSpec,
  buildWorkerSecret,
  freeSlot,
  LABELS,
  labelValue,
  passwordDigest,
  podName,
  secretName,
  secretOf,
} from './pod-spec.js';
import { classifyPod } from './pod-status.js';

const [config] = validateConfig(
  {
    workers: [
      kubernetesLatentWorker('k8s', {
        image: 'registry.example/yardmaster-worker:1',
        masterAddress: 'yardmaster:9989',
        maxPods: 3,
        resources: { requests: { cpu: '500m' }, limits: { memory: '1Gi' } },
        env: { CI: 'true' },
        nodeSelector: { pool: 'ci' },
        tolerations: [{ key: 'ci', operator: 'Exists', effect: 'NoSchedule' }],
        volumes: [{ name: 'cache', persistentVolumeClaim: { claimName: 'ci-cache' } }],
        volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
        serviceAccountName: 'yardmaster-worker',
        activeDeadlineSeconds: 3600,
      }),
    ],
  },
  'test',
).latentWorkers;

describe('buildPodSpec', () => {
  const pod = buildPodSpec({
    config: config!,
    name: 'k8s-2',
    secret: 'k8s-2-x7k2p',
    password: 'secret',
    masterName: 'ci-host:/var/lib/yardmaster',
    builder: 'my builder',
    buildrequestid: 42,
  });

  it('is a valid Pod', () => {
    expect(() => new models.v1.Pod(pod as never).validate()).not.toThrow();
  });

  it('labels the pod and passes the worker its identity', () => {
    const metadata = pod.metadata as {
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    expect(metadata.labels[LABELS.latentWorker]).toBe('k8s');
    expect(metadata.labels[LABELS.buildRequest]).toBe('42');
    expect(metadata.labels[LABELS.master]).toMatch(/^ci-host-var-lib-yardmaster-[0-9a-f]{8}$/);
    expect(metadata.labels[LABELS.builder]).toMatch(/^my-builder-[0-9a-f]{8}$/);
    expect(metadata.annotations['yardmaster.io/master-name']).toBe('ci-host:/var/lib/yardmaster');
    const spec = pod.spec as {
      activeDeadlineSeconds: number;
      restartPolicy: string;
      securityContext: Record<string, unknown>;
      containers: {
        env: { name: string; value?: string; valueFrom?: unknown }[];
        volumeMounts: unknown[];
      }[];
      volumes: unknown[];
    };
    expect(spec.activeDeadlineSeconds).toBe(3600);
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 10001 });
    const env = Object.fromEntries(
      spec.containers[0]!.env.map((e) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(env).toMatchObject({
      YARDMASTER_MASTER: 'yardmaster:9989',
      YARDMASTER_WORKER_NAME: 'k8s-2',
      YARDMASTER_WORKER_PASSWORD: { secretKeyRef: { name: 'k8s-2-x7k2p', key: 'password' } },
      YARDMASTER_WORKER_BASEDIR: '/workspace',
      CI: 'true',
    });
    // The password itself is nowhere in the pod; its digest is, for the masters.
    expect(JSON.stringify(pod)).not.toContain('"secret"');
    expect(metadata.annotations['yardmaster.io/worker-password-sha256']).toBe(
      passwordDigest('secret'),
    );
    expect(secretOf(pod)).toBe('k8s-2-x7k2p');
    expect(spec.volumes).toHaveLength(2);
    expect(spec.containers[0]!.volumeMounts).toHaveLength(2);
  });

  it('puts the password in a valid Secret of its own, labelled for the orphan scan', () => {
    const secret = buildWorkerSecret({
      config: config!,
      pod: 'k8s-2',
      secret: 'k8s-2-x7k2p',
      password: 'secret',
      masterName: 'master-0',
    });
    expect(() => new models.v1.Secret(secret as never).validate()).not.toThrow();
    expect(secret).toMatchObject({
      metadata: {
        name: 'k8s-2-x7k2p',
        labels: {
          [LABELS.managedBy]: 'yardmaster',
          [LABELS.latentWorker]: 'k8s',
          [LABELS.pod]: 'k8s-2',
        },
      },
      data: { password: Buffer.from('secret').toString('base64') },
    });
    expect(secretName('k8s-2')).toMatch(/^k8s-2-[a-z0-9]{5}$/);
  });

  it('names pods by slot: the smallest free one below maxPods', () => {
    expect(podName('k8s', 3)).toBe('k8s-3');
    expect(freeSlot('k8s', 3, new Set())).toBe(0);
    expect(freeSlot('k8s', 3, new Set(['k8s-0', 'k8s-2']))).toBe(1);
    expect(freeSlot('k8s', 2, new Set(['k8s-0', 'k8s-1', 'k8s-5']))).toBeNull();
  });

  it('makes label values Kubernetes accepts', () => {
    expect(labelValue('master-0')).toBe('master-0');
    expect(labelValue('x'.repeat(80))).toHaveLength(63);
    expect(labelValue('::')).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('classifyPod', () => {
  it('tells starting, running, failed, unschedulable, ended and terminating pods apart', () => {
    expect(classifyPod({ status: { phase: 'Pending' } })).toEqual({ state: 'pending' });
    expect(classifyPod({ status: { phase: 'Running' } })).toEqual({ state: 'running' });
    expect(
      classifyPod({
        status: {
          phase: 'Pending',
          containerStatuses: [
            { state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off' } } },
          ],
        },
      }),
    ).toEqual({ state: 'failed', reason: 'ImagePullBackOff: Back-off' });
    expect(
      classifyPod({
        status: {
          phase: 'Pending',
          containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }],
        },
      }),
    ).toEqual({ state: 'pending' });
    expect(
      classifyPod({
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/3 nodes',
            },
          ],
        },
      }),
    ).toEqual({ state: 'unschedulable', reason: 'Unschedulable: 0/3 nodes' });
    expect(
      classifyPod({
        status: {
          phase: 'Failed',
          containerStatuses: [{ state: { terminated: { exitCode: 1, reason: 'Error' } } }],
        },
      }),
    ).toEqual({ state: 'ended', reason: 'the worker container exited with code 1 (Error)' });
    expect(
      classifyPod({ status: { phase: 'Failed', reason: 'Evicted', message: 'low memory' } }),
    ).toEqual({
      state: 'ended',
      reason: 'Evicted: low memory',
    });
    expect(
      classifyPod({ metadata: { deletionTimestamp: 'now' }, status: { phase: 'Running' } }),
    ).toEqual({
      state: 'terminating',
    });
  });
});
