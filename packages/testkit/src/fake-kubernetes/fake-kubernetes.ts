/**
 * A fake Kubernetes API server and kubelet for tests, spoken to through the real
 * `@kubernetes/client-node` over HTTP on 127.0.0.1.
 *
 * API (core/v1 and coordination.k8s.io/v1, namespaced, JSON as the real server sends it):
 * pods create (with `generateName`), get, list (`labelSelector`, `fieldSelector`
 * metadata.name / status.phase), watch (chunked JSON lines with resourceVersion,
 * `410 Gone` when the version is too old), delete (graceful: `deletionTimestamp` first,
 * then DELETED once the container is gone); events list (`fieldSelector
 * involvedObject.name=`); leases create, get, replace (optimistic concurrency: 409 on a
 * stale resourceVersion); secrets create (`data` base64, `stringData` merged into it),
 * get, list (`labelSelector`), delete. Errors are `Status` objects with the real reasons
 * and codes.
 *
 * Kubelet: every pod goes Pending → (PodScheduled) → ContainerCreating → Running, its
 * container run by a `PodRunner` (by default the local `yardmaster-worker` as a tracked
 * child process with the container's env, its basedir mapped into a temp dir), then
 * Succeeded/Failed when the container exits. The container's env resolves
 * `valueFrom.secretKeyRef` as the kubelet does: a missing Secret or key (not `optional`)
 * keeps the container waiting in CreateContainerConfigError, retried every second.
 * Fault injection, per pod, from
 * `behaviour(pod)` (default: by image name — `bad-image…` cannot be pulled (ErrImagePull,
 * then ImagePullBackOff), `…crash…` exits 1 at once, `…unschedulable…` stays
 * Unschedulable) plus `evict(name)`, `schedule(name)`, and `activeDeadlineSeconds`.
 *
 * Owns: the HTTP server, the object store (pods, events, leases, secrets), the watch streams, the
 * running containers and their timers. Invariant: every pod in the store has at most one
 * container; `stop()` ends every watch, kills every container and closes the server.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeTempDir } from '../temp-dir.js';
import { spawnProcess, type SpawnedProcess } from '../spawn-process.js';
import { trackServer } from '../track-server.js';

type Json = Record<string, unknown>;

export interface FakePod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generateName?: string;
  };
  spec: {
    containers: {
      name: string;
      image: string;
      env?: {
        name: string;
        value?: string;
        valueFrom?: { secretKeyRef?: { name?: string; key?: string; optional?: boolean } };
      }[];
      command?: string[];
      args?: string[];
    }[];
    activeDeadlineSeconds?: number;
    restartPolicy?: string;
    nodeSelector?: Record<string, string>;
    [key: string]: unknown;
  };
  status: Json;
}

/** What the kubelet does with one pod. */
export interface PodBehaviour {
  /** Stays Unschedulable until `schedule(name)` is called. */
  unschedulable?: boolean;
  /** The image cannot be pulled: ErrImagePull, then ImagePullBackOff. */
  pullError?: boolean;
  /** Milliseconds from scheduling to the container running (image pull + start). */
  startDelayMs?: number;
  /** The container exits with 1 right after starting. */
  crash?: boolean;
}

/** A running container. */
export interface RunningContainer {
  /** Resolves with the exit code once the container has ended. */
  readonly exited: Promise<number>;
  /** True while the container runs a command for a build (it has child processes). */
  busy(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
}

/** Runs a pod's container: the environment is the container's, resolved. */
export type PodRunner = (pod: FakePod, env: Record<string, string>) => RunningContainer;

export interface FakeKubernetesOptions {
  namespace?: string;
  /** Default: run `packages/worker/bin/yardmaster-worker.js` as a tracked process. */
  runner?: PodRunner;
  /** Per-pod faults and delays; default: from the image name (see the module comment). */
  behaviour?: (pod: FakePod) => PodBehaviour;
  /** How many watch events are kept for resuming watches (default 10 000). */
  historySize?: number;
}

interface WatchStream {
  response: http.ServerResponse;
  namespace: string;
  kind: 'pods' | 'events' | 'leases';
  selector: (object: Json) => boolean;
}

interface PodRuntime {
  container: RunningContainer | null;
  timers: NodeJS.Timeout[];
  deleting: boolean;
  scheduled: boolean;
  behaviour: PodBehaviour;
}

interface StoredEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: 'pods' | 'events' | 'leases';
  namespace: string;
  object: Json;
  rv: number;
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function status(code: number, reason: string, message: string): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** `a=b,c!=d,e` (equality, inequality and existence) as in the real server. */
export function parseLabelSelector(
  text: string | null,
): (labels: Record<string, string>) => boolean {
  if (!text) return () => true;
  const terms = text
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean);
  return (labels) =>
    terms.every((term) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne?.[1] !== undefined) return labels[ne[1].trim()] !== (ne[2] ?? '').trim();
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq?.[1] !== undefined) return labels[eq[1].trim()] === (eq[2] ?? '').trim();
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
}

function fieldValue(object: Json, field: string): unknown {
  let node: unknown = object;
  for (const part of field.split('.')) {
    node = typeof node === 'object' && node !== null ? (node as Json)[part] : undefined;
  }
  return node;
}

function parseFieldSelector(text: string | null): (object: Json) => boolean {
  if (!text) return () => true;
  const terms = text.split(',').map((term) => {
    const [field = '', value = ''] = term.split(/==?/);
    return [field.trim(), value.trim()] as const;
  });
  return (object) => terms.every(([field, value]) => String(fieldValue(object, field)) === value);
}

function workerBin(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/fake-kubernetes or dist/fake-kubernetes → packages/worker/bin
  return path.resolve(here, '../../../worker/bin/yardmaster-worker.js');
}

/** True when `pid` has a live child process (a command the worker runs). */
function hasChildren(pid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

function defaultBehaviour(pod: FakePod): PodBehaviour {
  const image = pod.spec.containers[0]?.image ?? '';
  return {
    pullError: /(^|\/)bad-image/.test(image),
    crash: image.includes('crash'),
    unschedulable: image.includes('unschedulable'),
  };
}

export class FakeKubernetes {
  readonly namespace: string;
  /** Pods deleted while their container ran a command for a build. */
  readonly deletedWhileBusy: string[] = [];
  /**
   * Every pod ever created, by uid (a name may be used again once its pod is gone), with
   * its name and the times it was created, ran and was deleted.
   */
  readonly history = new Map<
    string,
    {
      name: string;
      created: number;
      running?: number;
      deleted?: number;
      labels: Record<string, string>;
    }
  >();
  /** Most pods that existed at once (not yet fully deleted). */
  peakPods = 0;
  private server: http.Server | null = null;
  private root = '';
  private rv = 1;
  private readonly pods = new Map<string, FakePod>();
  private readonly runtimes = new Map<string, PodRuntime>();
  private readonly events: Json[] = [];
  private readonly leases = new Map<string, Json>();
  /** `<namespace>/<name>` → the Secret as stored (`data` base64). */
  private readonly secrets = new Map<string, Json>();
  private readonly log: StoredEvent[] = [];
  private readonly watches = new Set<WatchStream>();
  private readonly options: FakeKubernetesOptions;
  private stopping = false;
  port = 0;
  /** The path of a kubeconfig whose current context points at this server. */
  kubeconfigPath = '';

  constructor(options: FakeKubernetesOptions = {}) {
    this.options = options;
    this.namespace = options.namespace ?? 'yardmaster';
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.root = await makeTempDir('fake-kubernetes');
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          this.send(response, 500, status(500, 'InternalError', String(error)));
        } else response.destroy();
      });
    });
    this.server.keepAliveTimeout = 1000;
    trackServer(this.server, 'fake Kubernetes API');
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.kubeconfigPath = path.join(this.root, 'kubeconfig');
    writeFileSync(
      this.kubeconfigPath,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: fake',
        '    cluster:',
        `      server: ${this.url}`,
        // @kubernetes/client-node refuses plain HTTP unless TLS checks are off.
        '      insecure-skip-tls-verify: true',
        'users:',
        '  - name: fake',
        '    user:',
        '      token: fake-token',
        'contexts:',
        '  - name: fake',
        '    context:',
        '      cluster: fake',
        '      user: fake',
        `      namespace: ${this.namespace}`,
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return this;
  }

  /** Ends every watch, kills every container, closes the server. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const watch of this.watches) watch.response.end();
    this.watches.clear();
    await Promise.all(
      [...this.runtimes.values()].map(async (runtime) => {
        for (const timer of runtime.timers) clearTimeout(timer);
        await runtime.container?.stop(2000);
      }),
    );
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  // ---- inspection and fault injection for tests ----

  /** Pods in the store (not fully deleted yet), copies. */
  listPods(): FakePod[] {
    return [...this.pods.values()].map(clone);
  }

  /** Events recorded for `podName` (newest last). */
  eventsOf(podName: string): Json[] {
    return this.events.filter(
      (event) => (event.involvedObject as Json | undefined)?.name === podName,
    );
  }

  /** Lets an Unschedulable pod be scheduled. */
  schedule(name: string): void {
    const runtime = this.runtimes.get(name);
    const pod = this.pods.get(name);
    if (!runtime || !pod || runtime.scheduled) return;
    runtime.behaviour = { ...runtime.behaviour, unschedulable: false };
    this.bind(pod, runtime);
  }

  /** Evicts a pod as the kubelet does under node pressure: its container is killed. */
  async evict(name: string, message = 'The node was low on resource: memory.'): Promise<void> {
    const runtime = this.runtimes.get(name);
    const pod = this.pods.get(name);
    if (!runtime || !pod) return;
    await this.killContainer(runtime, 0);
    this.setStatus(pod, { phase: 'Failed', reason: 'Evicted', message });
    this.recordEvent(pod, 'Warning', 'Evicted', message);
  }

  /** Secrets in the store (names in `namespace`, default the fake's), copies. */
  listSecrets(namespace = this.namespace): Json[] {
    return [...this.secrets.entries()]
      .filter(([key]) => key.startsWith(`${namespace}/`))
      .map(([, secret]) => clone(secret));
  }

  /** Makes a Secret look `ms` older (orphan scans wait for a Secret's pod to appear). */
  backdateSecret(name: string, ms: number, namespace = this.namespace): void {
    const metadata = this.secrets.get(`${namespace}/${name}`)?.metadata as Json | undefined;
    if (!metadata) throw new Error(`no secret ${namespace}/${name}`);
    const created = Date.parse(String(metadata.creationTimestamp));
    metadata.creationTimestamp = new Date(created - ms).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  /** Whether the container of `name` runs a command now. */
  isBusy(name: string): boolean {
    return this.runtimes.get(name)?.container?.busy() ?? false;
  }

  // ---- the HTTP API ----

  private send(response: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  }

  private async body(request: http.IncomingMessage): Promise<Json> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    return JSON.parse(text) as Json;
  }

  private async handle(
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const method = request.method ?? 'GET';
    const core = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|events|secrets)(?:\/([^/]+))?$/.exec(
      url.pathname,
    );
    const coordination =
      /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(
        url.pathname,
      );
    if (core) {
      const [, namespace = '', kind, name] = core;
      if (kind === 'pods') return this.pods_(method, namespace, name, url, request, response);
      if (kind === 'secrets') {
        return this.secrets_(method, namespace, name, url, request, response);
      }
      return this.events_(method, namespace, url, response);
    }
    if (coordination) {
      const [, namespace = '', name] = coordination;
      return this.leases_(method, namespace, name, url, request, response);
    }
    this.send(response, 404, status(404, 'NotFound', `the server could not find ${url.pathname}`));
  }

  private isWatch(url: URL): boolean {
    const watch = url.searchParams.get('watch');
    return watch === 'true' || watch === '1';
  }

  private async pods_(
    method: string,
    namespace: string,
    name: string | undefined,
    url: URL,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
    const selector = (object: Json) =>
      labels(((object.metadata as Json).labels as Record<string, string>) ?? {}) && fields(object);
    if (method === 'GET' && name === undefined) {
      if (this.isWatch(url)) return this.watch(response, namespace, 'pods', selector, url);
      const items = [...this.pods.values()]
        .filter((pod) => pod.metadata.namespace === namespace && selector(pod as unknown as Json))
        .map(clone);
      return this.send(response, 200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
    }
    if (method === 'POST' && name === undefined) {
      return this.createPod(namespace, await this.body(request), response);
    }
    const pod = name === undefined ? undefined : this.pods.get(name);
    if (method === 'GET') {
      if (!pod || pod.metadata.namespace !== namespace) {
        return this.send(response, 404, status(404, 'NotFound', `pods "${name}" not found`));
      }
      return this.send(response, 200, pod);
    }
    if (method === 'DELETE') {
      if (!pod || pod.metadata.namespace !== namespace) {
        return this.send(response, 404, status(404, 'NotFound', `pods "${name}" not found`));
      }
      const options = await this.body(request);
      const grace = Number(
        url.searchParams.get('gracePeriodSeconds') ?? options.gracePeriodSeconds ?? 30,
      );
      this.deletePod(pod, grace);
      return this.send(response, 200, pod);
    }
    this.send(response, 405, status(405, 'MethodNotAllowed', `${method} is not supported here`));
  }

  private validatePod(body: Json): string | null {
    const spec = body.spec as FakePod['spec'] | undefined;
    const containers = spec?.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      return 'spec.containers: Required value';
    }
    for (const [index, container] of containers.entries()) {
      if (typeof container.name !== 'string' || !DNS_NAME.test(container.name)) {
        return `spec.containers[${index}].name: Invalid value: "${String(container.name)}"`;
      }
      if (typeof container.image !== 'string' || container.image === '') {
        return `spec.containers[${index}].image: Required value`;
      }
    }
    return null;
  }

  private createPod(namespace: string, body: Json, response: http.ServerResponse): void {
    const metadata = (body.metadata as Json | undefined) ?? {};
    let name = typeof metadata.name === 'string' ? metadata.name : '';
    if (name === '' && typeof metadata.generateName === 'string') {
      name = `${metadata.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    }
    if (name === '' || !DNS_NAME.test(name) || name.length > 253) {
      return this.send(
        response,
        422,
        status(422, 'Invalid', `Pod "${name}" is invalid: metadata.name: Invalid value: "${name}"`),
      );
    }
    const problem = this.validatePod(body);
    if (problem) {
      return this.send(
        response,
        422,
        status(422, 'Invalid', `Pod "${name}" is invalid: ${problem}`),
      );
    }
    if (this.pods.has(name)) {
      return this.send(
        response,
        409,
        status(409, 'AlreadyExists', `pods "${name}" already exists`),
      );
    }
    // Admission: the service account must exist (the fake knows "default" and any name
    // not starting with "missing").
    const serviceAccount = (body.spec as Json | undefined)?.serviceAccountName;
    if (typeof serviceAccount === 'string' && serviceAccount.startsWith('missing')) {
      return this.send(
        response,
        403,
        status(
          403,
          'Forbidden',
          `pods "${name}" is forbidden: error looking up service account ${namespace}/${serviceAccount}: serviceaccount "${serviceAccount}" not found`,
        ),
      );
    }
    const pod: FakePod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(metadata as object),
        name,
        namespace,
        uid: randomBytes(16).toString('hex'),
        resourceVersion: '',
        creationTimestamp: new Date().toISOString(),
      },
      spec: clone(body.spec) as FakePod['spec'],
      status: { phase: 'Pending', qosClass: 'Burstable' },
    };
    this.pods.set(name, pod);
    this.peakPods = Math.max(this.peakPods, this.pods.size);
    this.history.set(pod.metadata.uid, {
      name,
      created: Date.now(),
      labels: { ...pod.metadata.labels },
    });
    this.publish('ADDED', 'pods', pod);
    const runtime: PodRuntime = {
      container: null,
      timers: [],
      deleting: false,
      scheduled: false,
      behaviour: (this.options.behaviour ?? defaultBehaviour)(pod),
    };
    this.runtimes.set(name, runtime);
    this.send(response, 201, pod);
    // Scheduling happens after the API answered, as in a real cluster.
    this.later(runtime, 5, () => this.scheduleOrWait(pod, runtime));
  }

  private events_(
    method: string,
    namespace: string,
    url: URL,
    response: http.ServerResponse,
  ): void {
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
    if (method !== 'GET') {
      return this.send(response, 405, status(405, 'MethodNotAllowed', 'events are read-only here'));
    }
    if (this.isWatch(url)) return this.watch(response, namespace, 'events', fields, url);
    this.send(response, 200, {
      kind: 'EventList',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.rv) },
      items: this.events.filter(
        (event) => (event.metadata as Json).namespace === namespace && fields(event),
      ),
    });
  }

  private async leases_(
    method: string,
    namespace: string,
    name: string | undefined,
    url: URL,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const key = (n: string) => `${namespace}/${n}`;
    if (method === 'GET' && name === undefined) {
      if (this.isWatch(url)) return this.watch(response, namespace, 'leases', () => true, url);
      return this.send(response, 200, {
        kind: 'LeaseList',
        apiVersion: 'coordination.k8s.io/v1',
        metadata: { resourceVersion: String(this.rv) },
        items: [...this.leases.entries()]
          .filter(([k]) => k.startsWith(`${namespace}/`))
          .map(([, lease]) => lease),
      });
    }
    if (method === 'GET' && name !== undefined) {
      const lease = this.leases.get(key(name));
      if (!lease)
        return this.send(
          response,
          404,
          status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`),
        );
      return this.send(response, 200, lease);
    }
    const body = await this.body(request);
    const metadata = (body.metadata as Json | undefined) ?? {};
    if (method === 'POST' && name === undefined) {
      const leaseName = typeof metadata.name === 'string' ? metadata.name : '';
      if (this.leases.has(key(leaseName))) {
        return this.send(
          response,
          409,
          status(409, 'AlreadyExists', `leases.coordination.k8s.io "${leaseName}" already exists`),
        );
      }
      const lease = this.storeLease(namespace, leaseName, body);
      this.publish('ADDED', 'leases', lease);
      return this.send(response, 201, lease);
    }
    if (method === 'PUT' && name !== undefined) {
      const existing = this.leases.get(key(name));
      if (!existing)
        return this.send(
          response,
          404,
          status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`),
        );
      const current = (existing.metadata as { resourceVersion: string }).resourceVersion;
      const given = metadata.resourceVersion;
      if (given !== undefined && given !== null && (given as string) !== current) {
        return this.send(
          response,
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        );
      }
      const lease = this.storeLease(namespace, name, body, existing);
      this.publish('MODIFIED', 'leases', lease);
      return this.send(response, 200, lease);
    }
    this.send(response, 405, status(405, 'MethodNotAllowed', `${method} is not supported here`));
  }

  private async secrets_(
    method: string,
    namespace: string,
    name: string | undefined,
    url: URL,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const key = (n: string) => `${namespace}/${n}`;
    const notFound = (n: string) =>
      this.send(response, 404, status(404, 'NotFound', `secrets "${n}" not found`));
    if (method === 'GET' && name === undefined) {
      const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
      return this.send(response, 200, {
        kind: 'SecretList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items: this.listSecrets(namespace).filter((secret) =>
          labels(((secret.metadata as Json).labels as Record<string, string>) ?? {}),
        ),
      });
    }
    if (method === 'GET' && name !== undefined) {
      const secret = this.secrets.get(key(name));
      return secret ? this.send(response, 200, secret) : notFound(name);
    }
    if (method === 'DELETE' && name !== undefined) {
      const secret = this.secrets.get(key(name));
      if (!secret) return notFound(name);
      this.secrets.delete(key(name));
      const uid = (secret.metadata as Json).uid;
      return this.send(response, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, kind: 'secrets', uid },
      });
    }
    if (method === 'POST' && name === undefined) {
      const body = await this.body(request);
      const metadata = (body.metadata as Json | undefined) ?? {};
      const secretName = typeof metadata.name === 'string' ? metadata.name : '';
      const invalid = (detail: string) =>
        this.send(
          response,
          422,
          status(422, 'Invalid', `Secret "${secretName}" is invalid: ${detail}`),
        );
      if (secretName === '' || !DNS_NAME.test(secretName) || secretName.length > 253) {
        return invalid(`metadata.name: Invalid value: "${secretName}"`);
      }
      if (this.secrets.has(key(secretName))) {
        return this.send(
          response,
          409,
          status(409, 'AlreadyExists', `secrets "${secretName}" already exists`),
        );
      }
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries((body.data as Json | undefined) ?? {})) {
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
          return invalid(`data[${k}]: Invalid value: illegal base64 data`);
        }
        data[k] = v;
      }
      for (const [k, v] of Object.entries((body.stringData as Json | undefined) ?? {})) {
        data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      }
      const secret: Json = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          ...metadata,
          name: secretName,
          namespace,
          uid: randomBytes(16).toString('hex'),
          resourceVersion: String(++this.rv),
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
        type: typeof body.type === 'string' ? body.type : 'Opaque',
        data,
      };
      this.secrets.set(key(secretName), secret);
      return this.send(response, 201, secret);
    }
    this.send(response, 405, status(405, 'MethodNotAllowed', `${method} is not supported here`));
  }

  private storeLease(namespace: string, name: string, body: Json, existing?: Json): Json {
    const lease: Json = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(existing?.metadata ?? {
          uid: randomBytes(16).toString('hex'),
          creationTimestamp: new Date().toISOString(),
        }),
        name,
        namespace,
        resourceVersion: String(++this.rv),
      },
      spec: clone(body.spec ?? {}),
    };
    this.leases.set(`${namespace}/${name}`, lease);
    return lease;
  }

  // ---- watches ----

  private watch(
    response: http.ServerResponse,
    namespace: string,
    kind: WatchStream['kind'],
    selector: (object: Json) => boolean,
    url: URL,
  ): void {
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    const stream: WatchStream = { response, namespace, kind, selector };
    const from = url.searchParams.get('resourceVersion');
    const write = (type: string, object: unknown) =>
      response.write(`${JSON.stringify({ type, object })}\n`);
    if (from === null || from === '' || from === '0') {
      const current =
        kind === 'pods'
          ? [...this.pods.values()].map((pod) => pod as unknown as Json)
          : kind === 'leases'
            ? [...this.leases.values()]
            : this.events;
      for (const object of current) {
        if ((object.metadata as Json).namespace === namespace && selector(object)) {
          write('ADDED', object);
        }
      }
    } else {
      const since = Number(from);
      const oldest = this.log[0]?.rv ?? this.rv;
      if (since < oldest - 1 && this.log.length >= (this.options.historySize ?? 10_000)) {
        write('ERROR', status(410, 'Expired', `too old resource version: ${since} (${oldest})`));
        response.end();
        return;
      }
      for (const event of this.log) {
        if (
          event.rv > since &&
          event.kind === kind &&
          event.namespace === namespace &&
          selector(event.object)
        ) {
          write(event.type, event.object);
        }
      }
    }
    this.watches.add(stream);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    let timer: NodeJS.Timeout | undefined;
    if (timeout > 0) {
      timer = setTimeout(() => response.end(), timeout * 1000);
      timer.unref();
    }
    response.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watches.delete(stream);
    });
  }

  private publish(
    type: StoredEvent['type'],
    kind: StoredEvent['kind'],
    object: Json | FakePod,
  ): void {
    const json = object as Json;
    const metadata = json.metadata as Json;
    if (kind !== 'leases') metadata.resourceVersion = String(++this.rv);
    const rv = Number(metadata.resourceVersion);
    const snapshot = clone(json);
    this.log.push({ type, kind, namespace: String(metadata.namespace), object: snapshot, rv });
    const limit = this.options.historySize ?? 10_000;
    if (this.log.length > limit) this.log.splice(0, this.log.length - limit);
    const line = `${JSON.stringify({ type, object: snapshot })}\n`;
    for (const watch of this.watches) {
      if (
        watch.kind === kind &&
        watch.namespace === metadata.namespace &&
        watch.selector(snapshot)
      ) {
        watch.response.write(line);
      }
    }
  }

  // ---- the kubelet ----

  private later(runtime: PodRuntime, ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      runtime.timers = runtime.timers.filter((t) => t !== timer);
      if (!this.stopping && !runtime.deleting) run();
    }, ms);
    runtime.timers.push(timer);
  }

  private recordEvent(
    pod: FakePod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    const event: Json = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`,
        namespace: pod.metadata.namespace,
        resourceVersion: '',
      },
      involvedObject: {
        kind: 'Pod',
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        uid: pod.metadata.uid,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      source: { component: reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet' },
    };
    this.events.push(event);
    if (this.events.length > 10_000) this.events.splice(0, 1000);
    this.publish('ADDED', 'events', event);
  }

  private setStatus(pod: FakePod, patch: Json): void {
    if (!this.pods.has(pod.metadata.name)) return;
    pod.status = { ...pod.status, ...patch };
    this.publish('MODIFIED', 'pods', pod);
  }

  private containerName(pod: FakePod): string {
    return pod.spec.containers[0]?.name ?? 'worker';
  }

  private scheduleOrWait(pod: FakePod, runtime: PodRuntime): void {
    if (runtime.behaviour.unschedulable) {
      const message =
        '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
      this.setStatus(pod, {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message,
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      });
      this.recordEvent(pod, 'Warning', 'FailedScheduling', message);
      return;
    }
    this.bind(pod, runtime);
  }

  private bind(pod: FakePod, runtime: PodRuntime): void {
    runtime.scheduled = true;
    const now = new Date().toISOString();
    const image = pod.spec.containers[0]?.image ?? '';
    this.setStatus(pod, {
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }],
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      startTime: now,
      containerStatuses: [
        {
          name: this.containerName(pod),
          image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'ContainerCreating' } },
        },
      ],
    });
    this.recordEvent(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to fake-node`,
    );
    this.recordEvent(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
    if (runtime.behaviour.pullError) {
      this.later(runtime, 200, () => this.pullFailed(pod, runtime, 'ErrImagePull'));
      return;
    }
    this.later(runtime, runtime.behaviour.startDelayMs ?? 0, () => this.run(pod, runtime));
  }

  private pullFailed(
    pod: FakePod,
    runtime: PodRuntime,
    reason: 'ErrImagePull' | 'ImagePullBackOff',
  ): void {
    const image = pod.spec.containers[0]?.image ?? '';
    const message =
      reason === 'ErrImagePull'
        ? `failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`
        : `Back-off pulling image "${image}"`;
    this.setStatus(pod, {
      containerStatuses: [
        {
          name: this.containerName(pod),
          image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason, message } },
        },
      ],
    });
    this.recordEvent(pod, 'Warning', reason === 'ErrImagePull' ? 'Failed' : 'BackOff', message);
    if (reason === 'ErrImagePull')
      this.later(runtime, 1000, () => this.pullFailed(pod, runtime, 'ImagePullBackOff'));
  }

  /** The container's env as the kubelet resolves it, or why it cannot be. */
  private env(pod: FakePod): { env: Record<string, string> } | { error: string } {
    const env: Record<string, string> = {};
    for (const item of pod.spec.containers[0]?.env ?? []) {
      if (typeof item.value === 'string') env[item.name] = item.value;
      const ref = item.valueFrom?.secretKeyRef;
      if (ref === undefined) continue;
      const secret = this.secrets.get(`${pod.metadata.namespace}/${ref.name ?? ''}`);
      const encoded = (secret?.data as Record<string, string> | undefined)?.[ref.key ?? ''];
      if (encoded !== undefined) {
        env[item.name] = Buffer.from(encoded, 'base64').toString('utf8');
      } else if (ref.optional !== true) {
        return secret === undefined
          ? { error: `secret "${ref.name ?? ''}" not found` }
          : {
              error: `couldn't find key ${ref.key ?? ''} in Secret ${pod.metadata.namespace}/${ref.name ?? ''}`,
            };
      }
    }
    return { env };
  }

  private run(pod: FakePod, runtime: PodRuntime): void {
    const resolved = this.env(pod);
    if ('error' in resolved) {
      // As the kubelet: the container waits; the sync loop tries again.
      this.setStatus(pod, {
        containerStatuses: [
          {
            name: this.containerName(pod),
            image: pod.spec.containers[0]?.image ?? '',
            imageID: '',
            ready: false,
            restartCount: 0,
            started: false,
            state: { waiting: { reason: 'CreateContainerConfigError', message: resolved.error } },
          },
        ],
      });
      this.recordEvent(pod, 'Warning', 'Failed', `Error: ${resolved.error}`);
      this.later(runtime, 1000, () => this.run(pod, runtime));
      return;
    }
    const env = resolved.env;
    const dir = path.join(this.root, 'pods', pod.metadata.name);
    mkdirSync(dir, { recursive: true });
    // The container's filesystem is a directory of ours: its basedir goes inside it.
    env.YARDMASTER_WORKER_BASEDIR = path.join(dir, env.YARDMASTER_WORKER_BASEDIR ?? 'worker');
    env.HOME = dir;
    const runner = runtime.behaviour.crash ? crashRunner : (this.options.runner ?? processRunner);
    const container = runner(pod, env);
    runtime.container = container;
    const image = pod.spec.containers[0]?.image ?? '';
    const startedAt = new Date().toISOString();
    this.setStatus(pod, {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
      containerStatuses: [
        {
          name: this.containerName(pod),
          image,
          imageID: `sha256:${'0'.repeat(64)}`,
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt } },
        },
      ],
    });
    const entry = this.history.get(pod.metadata.uid);
    if (entry) entry.running = Date.now();
    this.recordEvent(pod, 'Normal', 'Started', `Started container ${this.containerName(pod)}`);
    const deadline = pod.spec.activeDeadlineSeconds;
    if (typeof deadline === 'number') {
      this.later(runtime, deadline * 1000, () => {
        void this.killContainer(runtime, 0).then(() => {
          this.setStatus(pod, {
            phase: 'Failed',
            reason: 'DeadlineExceeded',
            message: `Pod was active on the node longer than the specified deadline`,
          });
          this.recordEvent(
            pod,
            'Normal',
            'DeadlineExceeded',
            'Pod was active on the node longer than the specified deadline',
          );
        });
      });
    }
    void container.exited.then((code) => {
      if (runtime.container !== container) return;
      runtime.container = null;
      if (runtime.deleting || this.stopping || !this.pods.has(pod.metadata.name)) return;
      if (pod.status.phase !== 'Running') return;
      this.setStatus(pod, {
        phase: code === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            name: this.containerName(pod),
            image,
            imageID: `sha256:${'0'.repeat(64)}`,
            ready: false,
            restartCount: 0,
            started: false,
            state: {
              terminated: {
                exitCode: code,
                reason: code === 0 ? 'Completed' : 'Error',
                startedAt,
                finishedAt: new Date().toISOString(),
              },
            },
          },
        ],
      });
    });
  }

  private async killContainer(runtime: PodRuntime, graceMs: number): Promise<void> {
    const container = runtime.container;
    runtime.container = null;
    await container?.stop(graceMs);
  }

  private deletePod(pod: FakePod, graceSeconds: number): void {
    const runtime = this.runtimes.get(pod.metadata.name);
    if (!runtime || runtime.deleting) return;
    if (runtime.container?.busy()) this.deletedWhileBusy.push(pod.metadata.name);
    runtime.deleting = true;
    for (const timer of runtime.timers) clearTimeout(timer);
    runtime.timers = [];
    pod.metadata.deletionTimestamp = new Date().toISOString();
    this.publish('MODIFIED', 'pods', pod);
    const container = runtime.container;
    const finish = () => {
      this.pods.delete(pod.metadata.name);
      this.runtimes.delete(pod.metadata.name);
      const entry = this.history.get(pod.metadata.uid);
      if (entry) entry.deleted = Date.now();
      if (!this.stopping) this.publish('DELETED', 'pods', pod);
    };
    if (!container) {
      setImmediate(finish);
      return;
    }
    this.recordEvent(pod, 'Normal', 'Killing', `Stopping container ${this.containerName(pod)}`);
    runtime.container = null;
    void container.stop(Math.max(0, graceSeconds) * 1000).then(finish, finish);
  }
}

/** A container that exits with 1 at once (a crash before the worker connects). */
const crashRunner: PodRunner = () => ({
  exited: new Promise((resolve) => setTimeout(() => resolve(1), 50)),
  busy: () => false,
  stop: () => Promise.resolve(),
});

/** The real worker, as a tracked child process with the container's environment. */
const processRunner: PodRunner = (pod, env) => {
  const child: SpawnedProcess = spawnProcess(process.execPath, [workerBin()], {
    name: `pod ${pod.metadata.name}`,
    env: {
      ...env,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      YARDMASTER_TEST_ECHO: undefined,
    },
    stopGraceMs: 5000,
  });
  return {
    exited: child.exited.then((exit) => exit.code ?? 137),
    busy: () => child.pid !== undefined && child.running && hasChildren(child.pid),
    stop: async (graceMs) => {
      await child.stop({ graceMs: Math.max(graceMs, 100) });
    },
  };
};
