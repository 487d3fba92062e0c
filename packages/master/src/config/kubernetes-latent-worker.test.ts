import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate-config.js';
import {
  buildFactory,
  builder,
  kubernetesLatentWorker,
  shellCommand,
  worker,
} from './factories.js';
import type { ConfigError } from './config-error.js';

const factory = buildFactory([shellCommand({ command: 'true' })]);

function problems(raw: unknown): string[] {
  try {
    validateConfig(raw, 'master.config.ts');
  } catch (error) {
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('kubernetesLatentWorker', () => {
  it('normalizes with every default and is kept apart from plain workers', () => {
    const config = validateConfig(
      {
        workers: [
          worker('linux-1', { password: 'pw' }),
          kubernetesLatentWorker('k8s', {
            image: 'yardmaster/worker:0.1.0',
            masterAddress: 'yardmaster:9989',
            maxPods: 5,
            resources: { requests: { cpu: '500m', memory: 1 } },
          }),
        ],
        builders: [builder({ name: 'app', workerNames: ['linux-1', 'k8s'], factory })],
      },
      'master.config.ts',
    );
    expect(config.workers.map((w) => w.name)).toEqual(['linux-1']);
    expect(config.latentWorkers).toEqual([
      {
        type: 'kubernetesLatentWorker',
        name: 'k8s',
        image: 'yardmaster/worker:0.1.0',
        namespace: null,
        masterAddress: 'yardmaster:9989',
        maxPods: 5,
        minIdle: 0,
        idleTimeout: 300_000,
        resources: { requests: { cpu: '500m', memory: '1' }, limits: {} },
        env: {},
        nodeSelector: {},
        tolerations: [],
        volumes: [],
        volumeMounts: [],
        serviceAccountName: null,
        unschedulableDeadline: 300_000,
        activeDeadlineSeconds: 86_400,
        kubeconfig: null,
        inCluster: false,
        properties: {},
      },
    ]);
  });

  it('reports every problem with its path', () => {
    expect(
      problems({
        workers: [
          kubernetesLatentWorker('K8s_pool', {
            image: '',
            masterAddress: 'yardmaster',
            maxPods: 2,
            minIdle: 3,
            idleTimeout: '5 minutes',
            resources: { limits: { cpu: 'lots' } },
            env: { YARDMASTER_WORKER_PASSWORD: 'x' },
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            inCluster: true,
            kubeconfig: '/k',
            imagePullPolicy: 'Always',
          } as never),
        ],
        builders: [builder({ name: 'app', workerNames: ['K8s_pool'], factory })],
      }),
    ).toEqual([
      'workers[0].name: kubernetes latent worker name "K8s_pool" must be lower-case letters, digits and "-" (at most 50, starting and ending with a letter or digit): pod names are made from it',
      'workers[0].image: must not be empty',
      'workers[0].masterAddress: expected host:port that the pods reach the master at, such as "yardmaster:9989", got "yardmaster"',
      'workers[0].idleTimeout: expected a duration such as "30s", "5m", "1h30m" or a number of seconds, got "5 minutes"',
      'workers[0].resources.limits.cpu: expected a Kubernetes quantity such as "500m", "2" or "1Gi", got "lots"',
      'workers[0].env.YARDMASTER_WORKER_PASSWORD: YARDMASTER_WORKER_PASSWORD is set by the master for each pod; remove it',
      'workers[0].imagePullPolicy: unknown key; known keys: name, image, namespace, masterAddress, maxPods, minIdle, idleTimeout, resources, env, nodeSelector, tolerations, volumes, volumeMounts, serviceAccountName, unschedulableDeadline, activeDeadlineSeconds, kubeconfig, inCluster, properties',
    ]);
  });

  it('checks minIdle, volume mounts and the kubeconfig choice once the fields are valid', () => {
    expect(
      problems({
        workers: [
          kubernetesLatentWorker('k8s', {
            image: 'w',
            masterAddress: 'yardmaster:9989',
            maxPods: 2,
            minIdle: 3,
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            inCluster: true,
            kubeconfig: '/k',
          }),
        ],
      }),
    ).toEqual([
      'workers[0].minIdle: minIdle (3) must not exceed maxPods (2)',
      'workers[0].volumeMounts[0].name: no volume named "cache" in volumes',
      'workers[0].kubeconfig: set either inCluster: true or kubeconfig, not both',
    ]);
  });

  it('counts as a worker for builders and duplicate names', () => {
    expect(
      problems({
        workers: [
          worker('k8s', { password: 'pw' }),
          kubernetesLatentWorker('k8s', { image: 'w', masterAddress: 'm:1', maxPods: 1 }),
        ],
        builders: [builder({ name: 'app', workerNames: ['k8s', 'pods'], factory })],
      }),
    ).toEqual([
      'workers[1].name: duplicate worker name "k8s" (also workers[0])',
      'builders[0].workerNames[1]: unknown worker "pods" (known: k8s)',
    ]);
  });

  it('keeps the names its pods connect with (<name>-<n>) from plain workers', () => {
    expect(
      problems({
        workers: [
          worker('k8s-0', { password: 'pw' }),
          worker('k8s-x', { password: 'pw' }),
          worker('k8s-12', { password: 'pw' }),
          kubernetesLatentWorker('k8s', { image: 'w', masterAddress: 'm:1', maxPods: 1 }),
        ],
      }),
    ).toEqual([
      'workers[0].name: worker name "k8s-0" is taken: the pods of kubernetesLatentWorker "k8s" connect as "k8s-<n>"',
      'workers[2].name: worker name "k8s-12" is taken: the pods of kubernetesLatentWorker "k8s" connect as "k8s-<n>"',
    ]);
  });
});
