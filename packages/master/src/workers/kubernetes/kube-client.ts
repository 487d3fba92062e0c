/**
 * The few Kubernetes calls the latent workers make, behind an interface so the pool logic
 * does not depend on the client library; `createKubeClient` implements it with
 * `@kubernetes/client-node` (in-cluster service account or a kubeconfig), which the
 * tests point at testkit's fake API server through a kubeconfig file.
 *
 * Owns: one KubeConfig and its API clients. Watches are owned by their callers, who stop
 * them with the function `watchPods` returns.
 *
 * The library is imported on first use (`createKubeClient`): it adds ~75 MB to the
 * process, and a master without kubernetesLatentWorker never needs it.
 */
import { readFileSync } from 'node:fs';
import type * as K8s from '@kubernetes/client-node';

type K8sLibrary = typeof K8s;
let k8s: K8sLibrary | undefined;

async function library(): Promise<K8sLibrary> {
  k8s ??= await import('@kubernetes/client-node');
  return k8s;
}

/** A pod as the API sends it (plain JSON: watch events are not deserialized). */
export interface PodObject {
  metadata?: {
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: unknown;
    deletionTimestamp?: unknown;
    resourceVersion?: string;
  };
  spec?: {
    containers?: {
      name?: string;
      env?: {
        name: string;
        value?: string;
        valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
      }[];
    }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: {
      state?: {
        waiting?: { reason?: string; message?: string };
        running?: unknown;
        terminated?: { exitCode?: number; reason?: string; message?: string };
      };
    }[];
  };
}

export interface LeaseObject {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    renewTime?: unknown;
    acquireTime?: unknown;
    leaseTransitions?: number;
  };
}

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What the pool needs of a Secret it created (never its data). */
export interface SecretMeta {
  name: string;
  labels: Record<string, string>;
  /** Epoch ms; NaN when the server sent none. */
  created: number;
}

function epochMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return NaN;
}

export interface KubeClient {
  readonly namespace: string;
  createPod(pod: object): Promise<void>;
  /** Deletes a pod; a pod already gone is not an error. */
  deletePod(name: string, gracePeriodSeconds?: number): Promise<void>;
  listPods(labelSelector: string): Promise<{ items: PodObject[]; resourceVersion: string }>;
  /** Streams pod changes from `resourceVersion`; `onEnd` when the stream ends or fails. */
  watchPods(
    labelSelector: string,
    resourceVersion: string,
    onEvent: (type: PodEventType, pod: PodObject) => void,
    onEnd: (error: unknown) => void,
  ): Promise<() => void>;
  /** The latest warning events of a pod (the reason it cannot start), newest last. */
  podWarnings(name: string): Promise<string[]>;
  createSecret(secret: object): Promise<void>;
  /** Deletes a secret; a secret already gone is not an error. */
  deleteSecret(name: string): Promise<void>;
  listSecrets(labelSelector: string): Promise<SecretMeta[]>;
  getLease(name: string): Promise<LeaseObject | null>;
  /** Creates or replaces (with `metadata.resourceVersion`) a lease; null on a conflict. */
  writeLease(lease: LeaseObject, create: boolean): Promise<LeaseObject | null>;
}

/** An API error with its HTTP status and the server's message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

function apiError(error: unknown): KubeApiError {
  if (k8s && error instanceof k8s.ApiException) {
    const body: unknown = error.body;
    let message = error.message;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: string };
        if (parsed.message) message = parsed.message;
      } catch {
        if (body !== '') message = body;
      }
    } else if (typeof body === 'object' && body !== null && 'message' in body) {
      message = String(body.message);
    }
    return new KubeApiError(error.code, message);
  }
  return new KubeApiError(0, error instanceof Error ? error.message : String(error));
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface KubeClientOptions {
  inCluster: boolean;
  kubeconfig: string | null;
  namespace: string | null;
}

/** A client from the pod's service account (`inCluster`) or a kubeconfig file. */
export async function createKubeClient(options: KubeClientOptions): Promise<KubeClient> {
  const lib = await library();
  const config = new lib.KubeConfig();
  let namespace = options.namespace;
  if (options.inCluster) {
    config.loadFromCluster();
    if (namespace === null) {
      try {
        namespace = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
      } catch {
        namespace = null;
      }
    }
  } else if (options.kubeconfig !== null) {
    config.loadFromFile(options.kubeconfig);
  } else {
    config.loadFromDefault();
  }
  if (namespace === null) {
    const context = config.getContextObject(config.getCurrentContext());
    namespace = context?.namespace ?? 'default';
  }
  return new ClientNodeKubeClient(lib, config, namespace);
}

class ClientNodeKubeClient implements KubeClient {
  private readonly core: K8s.CoreV1Api;
  private readonly coordination: K8s.CoordinationV1Api;

  constructor(
    private readonly lib: K8sLibrary,
    private readonly config: K8s.KubeConfig,
    readonly namespace: string,
  ) {
    this.core = config.makeApiClient(lib.CoreV1Api);
    this.coordination = config.makeApiClient(lib.CoordinationV1Api);
  }

  async createPod(pod: object): Promise<void> {
    try {
      await this.core.createNamespacedPod({ namespace: this.namespace, body: pod });
    } catch (error) {
      throw apiError(error);
    }
  }

  async deletePod(name: string, gracePeriodSeconds?: number): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        name,
        namespace: this.namespace,
        ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }),
      });
    } catch (error) {
      const failure = apiError(error);
      if (failure.status !== 404) throw failure;
    }
  }

  async listPods(labelSelector: string): Promise<{ items: PodObject[]; resourceVersion: string }> {
    try {
      const list = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector });
      return {
        // Back to plain JSON, as watch events are.
        items: list.items.map((pod) => JSON.parse(JSON.stringify(pod)) as PodObject),
        resourceVersion: list.metadata?.resourceVersion ?? '',
      };
    } catch (error) {
      throw apiError(error);
    }
  }

  async watchPods(
    labelSelector: string,
    resourceVersion: string,
    onEvent: (type: PodEventType, pod: PodObject) => void,
    onEnd: (error: unknown) => void,
  ): Promise<() => void> {
    const watch = new this.lib.Watch(this.config);
    let ended = false;
    const controller = await watch.watch(
      `/api/v1/namespaces/${this.namespace}/pods`,
      { labelSelector, resourceVersion, allowWatchBookmarks: true },
      (type: string, object: unknown) => {
        if (type === 'ERROR') {
          const status = object as { code?: number; message?: string };
          ended = true;
          controller.abort();
          onEnd(new KubeApiError(status.code ?? 0, status.message ?? 'watch error'));
          return;
        }
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          onEvent(type, object as PodObject);
        }
      },
      (error: unknown) => {
        if (ended) return;
        ended = true;
        onEnd(error);
      },
    );
    return () => {
      ended = true;
      controller.abort();
    };
  }

  async podWarnings(name: string): Promise<string[]> {
    try {
      const list = await this.core.listNamespacedEvent({
        namespace: this.namespace,
        fieldSelector: `involvedObject.name=${name}`,
      });
      return list.items
        .filter((event) => event.type === 'Warning')
        .map((event) => `${event.reason ?? 'Warning'}: ${event.message ?? ''}`);
    } catch {
      return [];
    }
  }

  async createSecret(secret: object): Promise<void> {
    try {
      await this.core.createNamespacedSecret({ namespace: this.namespace, body: secret });
    } catch (error) {
      throw apiError(error);
    }
  }

  async deleteSecret(name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace: this.namespace });
    } catch (error) {
      const failure = apiError(error);
      if (failure.status !== 404) throw failure;
    }
  }

  async listSecrets(labelSelector: string): Promise<SecretMeta[]> {
    try {
      const list = await this.core.listNamespacedSecret({
        namespace: this.namespace,
        labelSelector,
      });
      return list.items.map((secret) => ({
        name: secret.metadata?.name ?? '',
        labels: secret.metadata?.labels ?? {},
        created: epochMs(secret.metadata?.creationTimestamp),
      }));
    } catch (error) {
      throw apiError(error);
    }
  }

  async getLease(name: string): Promise<LeaseObject | null> {
    try {
      const lease = await this.coordination.readNamespacedLease({
        name,
        namespace: this.namespace,
      });
      return JSON.parse(JSON.stringify(lease)) as LeaseObject;
    } catch (error) {
      const failure = apiError(error);
      if (failure.status === 404) return null;
      throw failure;
    }
  }

  async writeLease(lease: LeaseObject, create: boolean): Promise<LeaseObject | null> {
    try {
      const body = lease as K8s.V1Lease;
      const written = create
        ? await this.coordination.createNamespacedLease({ namespace: this.namespace, body })
        : await this.coordination.replaceNamespacedLease({
            name: lease.metadata?.name ?? '',
            namespace: this.namespace,
            body,
          });
      return JSON.parse(JSON.stringify(written)) as LeaseObject;
    } catch (error) {
      const failure = apiError(error);
      if (failure.status === 409) return null;
      throw failure;
    }
  }
}
