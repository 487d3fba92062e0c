/**
 * deploy/kubernetes: both overlays render (with testkit's kustomize subset, cross-checked
 * against `kubectl kustomize` where it is installed), every object validates against the
 * Kubernetes schemas (kubernetes-models), and every pod runs as non-root with fsGroup,
 * requests and limits, probes and a grace period that covers the master's drain.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as models from 'kubernetes-models';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { normalizeObjects, renderKustomization, type K8sObject } from '@yardmaster/testkit';
import { loadConfig } from './config/load-config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const overlays = ['single', 'ha'] as const;
const rendered = Object.fromEntries(
  overlays.map((name) => [
    name,
    renderKustomization(path.join(root, 'deploy/kubernetes/overlays', name)),
  ]),
) as Record<(typeof overlays)[number], K8sObject[]>;

type Model = { validate(): void };
type ModelClass = new (data: unknown) => Model;

/** `apps/v1` → models.apps.v1; `rbac.authorization.k8s.io/v1` → models.rbacAuthorizationK8sIo.v1. */
function modelClass(apiVersion: string, kind: string): ModelClass | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const groupKey =
    group === ''
      ? null
      : (group ?? '')
          .split('.')
          .map((part, index) => (index === 0 ? part : part[0]?.toUpperCase() + part.slice(1)))
          .join('');
  const all = models as unknown as Record<string, Record<string, Record<string, ModelClass>>>;
  const versions = groupKey === null ? { [version ?? '']: all[version ?? ''] } : all[groupKey];
  return (versions?.[version ?? ''] as Record<string, ModelClass> | undefined)?.[kind];
}

function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not in the render`);
  return found;
}

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, string>> }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string } } & Record<string, unknown>;
  readinessProbe?: { httpGet?: { path: string } } & Record<string, unknown>;
  securityContext?: Record<string, unknown>;
}

interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Record<string, unknown>[];
}

function podSpecOf(object: K8sObject): PodSpec {
  return (object.spec as { template: { spec: PodSpec } }).template.spec;
}

const workloads = (objects: K8sObject[]) =>
  objects.filter((o) => ['StatefulSet', 'Deployment', 'DaemonSet'].includes(o.kind));

describe.each(overlays)('deploy/kubernetes/overlays/%s', (overlay) => {
  const objects = rendered[overlay];

  it('renders as kubectl kustomize does (when kubectl is installed)', () => {
    const kubectl = spawnSync(
      'kubectl',
      ['kustomize', path.join(root, 'deploy/kubernetes/overlays', overlay)],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (kubectl.error || kubectl.status !== 0) {
      // No kubectl here: the render is still validated by the tests below.
      expect(objects.length).toBeGreaterThan(5);
      return;
    }
    const theirs = parseAllDocuments(kubectl.stdout).map((d) => d.toJS() as K8sObject);
    expect(normalizeObjects(objects)).toEqual(normalizeObjects(theirs));
  });

  it('validates against the Kubernetes schemas', () => {
    const problems: string[] = [];
    for (const object of objects) {
      const Model = modelClass(object.apiVersion, object.kind);
      if (!Model) {
        problems.push(`${object.apiVersion} ${object.kind}: no schema`);
        continue;
      }
      try {
        new Model(object).validate();
      } catch (error) {
        problems.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('puts every namespaced object in the yardmaster namespace', () => {
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(
        'yardmaster',
      );
    }
  });

  it('runs every pod as non-root with fsGroup, requests, limits and probes', () => {
    const pods = workloads(objects);
    expect(pods.length).toBeGreaterThan(0);
    for (const workload of pods) {
      const spec = podSpecOf(workload);
      const where = `${workload.kind}/${workload.metadata.name}`;
      expect(spec.securityContext?.runAsNonRoot, where).toBe(true);
      expect(spec.securityContext?.runAsUser, where).toBeGreaterThan(0);
      expect(spec.securityContext?.fsGroup, where).toBeGreaterThan(0);
      expect(spec.terminationGracePeriodSeconds, where).toBeGreaterThanOrEqual(30);
      for (const container of spec.containers) {
        const at = `${where} container ${container.name}`;
        for (const kind of ['requests', 'limits'] as const) {
          expect(container.resources?.[kind]?.cpu, `${at} ${kind}.cpu`).toBeTruthy();
          expect(container.resources?.[kind]?.memory, `${at} ${kind}.memory`).toBeTruthy();
        }
        expect(container.livenessProbe, `${at} livenessProbe`).toBeTruthy();
        expect(container.readinessProbe, `${at} readinessProbe`).toBeTruthy();
        expect(container.securityContext?.allowPrivilegeEscalation, at).toBe(false);
        expect(container.securityContext?.capabilities, at).toEqual({ drop: ['ALL'] });
      }
    }
  });

  it('probes the masters on /healthz and /readyz and lets them drain', () => {
    const master = podSpecOf(find(objects, 'StatefulSet', 'yardmaster'));
    const container = master.containers.find((c) => c.name === 'master');
    expect(container?.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
    const drain = Number(container?.env?.find((e) => e.name === 'YARDMASTER_DRAIN_TIMEOUT')?.value);
    expect(drain).toBeGreaterThan(0);
    expect(master.terminationGracePeriodSeconds).toBeGreaterThan(drain);
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e]));
    expect(env.YARDMASTER_WEB_HOST?.value).toBe('0.0.0.0');
    expect(env.YARDMASTER_WORKER_HOST?.value).toBe('0.0.0.0');
    expect(env.YARDMASTER_MASTER_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  it('defines everything the pods refer to', () => {
    for (const workload of workloads(objects)) {
      const spec = podSpecOf(workload);
      if (spec.serviceAccountName) find(objects, 'ServiceAccount', spec.serviceAccountName);
      for (const volume of spec.volumes ?? []) {
        const configMap = volume.configMap as { name: string } | undefined;
        const claim = volume.persistentVolumeClaim as { claimName: string } | undefined;
        const secret = volume.secret as { secretName: string } | undefined;
        if (configMap) find(objects, 'ConfigMap', configMap.name);
        if (claim) find(objects, 'PersistentVolumeClaim', claim.claimName);
        if (secret) find(objects, 'Secret', secret.secretName);
      }
      for (const container of spec.containers) {
        for (const e of container.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) {
            const secret = find(objects, 'Secret', ref.name ?? '');
            const data = { ...(secret.stringData as object), ...(secret.data as object) };
            expect(Object.keys(data), `${ref.name} has key ${ref.key}`).toContain(ref.key);
          }
        }
        for (const from of container.envFrom ?? []) {
          if (from.secretRef) find(objects, 'Secret', from.secretRef.name);
        }
      }
    }
  });

  it('lets the masters manage worker pods, their Secrets, events and leases', () => {
    const role = find(objects, 'Role', 'yardmaster-master');
    const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const allowed = (group: string, resource: string, verb: string) =>
      rules.some(
        (r) =>
          r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
      );
    for (const verb of ['create', 'delete', 'list', 'watch', 'get']) {
      expect(allowed('', 'pods', verb), `pods ${verb}`).toBe(true);
    }
    expect(allowed('', 'events', 'list')).toBe(true);
    // Each worker pod's password Secret: created before the pod, deleted with it, orphans
    // found by listing. Nothing more on Secrets.
    const secretVerbs = rules
      .filter((r) => r.apiGroups.includes('') && r.resources.includes('secrets'))
      .flatMap((r) => r.verbs);
    expect(secretVerbs.sort()).toEqual(['create', 'delete', 'list']);
    expect(rules.every((r) => !r.resources.includes('*') && !r.verbs.includes('*'))).toBe(true);
    expect(allowed('coordination.k8s.io', 'leases', 'update')).toBe(true);
    const binding = find(objects, 'RoleBinding', 'yardmaster-master');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'yardmaster-master', namespace: 'yardmaster' },
    ]);
    const master = podSpecOf(find(objects, 'StatefulSet', 'yardmaster'));
    expect(master.serviceAccountName).toBe('yardmaster-master');
  });

  it('exposes the web and worker ports through one Service', () => {
    const service = find(objects, 'Service', 'yardmaster');
    const ports = (service.spec as { ports: { name: string; port: number }[] }).ports;
    expect(ports.map((p) => [p.name, p.port])).toEqual([
      ['web', 8010],
      ['worker', 9989],
    ]);
  });

  it('ships a master config that validates', async () => {
    const configMap = find(objects, 'ConfigMap', 'yardmaster-config');
    const source = (configMap.data as Record<string, string>)['master.config.ts'];
    expect(source).toContain('kubernetesLatentWorker');
    const config = await loadConfig(path.join(root, 'deploy/kubernetes/base/master.config.ts'));
    expect(config.builders.map((b) => b.name)).toEqual(['sample']);
  });
});

describe('the overlays differ where they should', () => {
  it('single: one master, SQLite on a PersistentVolumeClaim', () => {
    const objects = rendered.single;
    const master = find(objects, 'StatefulSet', 'yardmaster');
    expect((master.spec as { replicas: number }).replicas).toBe(1);
    const spec = podSpecOf(master);
    const data = spec.volumes?.find((v) => v.name === 'data');
    expect(data).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'yardmaster-data' } });
    const env = spec.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'YARDMASTER_DB_URL')?.value).toMatch(/^sqlite:\/\/\/\//);
    expect(byKind(objects, 'PersistentVolumeClaim')).toHaveLength(1);
  });

  it('ha: two masters on PostgreSQL with its PVC and Secret', () => {
    const objects = rendered.ha;
    const master = find(objects, 'StatefulSet', 'yardmaster');
    expect((master.spec as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
    const env = podSpecOf(master).containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'YARDMASTER_DB_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'yardmaster-postgres',
      key: 'url',
    });
    const secret = find(objects, 'Secret', 'yardmaster-postgres');
    expect((secret.stringData as Record<string, string>).url).toMatch(/^postgresql:\/\//);
    const postgres = find(objects, 'StatefulSet', 'yardmaster-postgres');
    const claims = (postgres.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates;
    expect(claims).toHaveLength(1);
    find(objects, 'Service', 'yardmaster-postgres');
    find(objects, 'PodDisruptionBudget', 'yardmaster');
  });
});
