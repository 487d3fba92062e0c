/**
 * The pod of one latent worker: labels (latent worker, master, builder, build request),
 * the worker's environment (master address, worker name, and the password made for this
 * pod, read from the pod's own Secret through `secretKeyRef`; the pod carries only its
 * SHA-256, for any master to check the worker's login),
 * the config's image, resources, env, node selector, tolerations, volumes and service
 * account, `activeDeadlineSeconds`, non-root with fsGroup, and `restartPolicy: Never`
 * (a pod runs one build; a crashed worker is a failed start, not a restart loop).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubernetesLatentWorkerConfig } from '../../config/types.js';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  latentWorker: 'yardmaster.io/latent-worker',
  master: 'yardmaster.io/master',
  builder: 'yardmaster.io/builder',
  buildRequest: 'yardmaster.io/buildrequest',
  /** On a worker Secret: the pod it belongs to. */
  pod: 'yardmaster.io/pod',
} as const;

export const MASTER_NAME_ANNOTATION = 'yardmaster.io/master-name';
/** SHA-256 (hex) of the worker's password: masters check logins against it. */
export const PASSWORD_DIGEST_ANNOTATION = 'yardmaster.io/worker-password-sha256';
/** The key of the password in the pod's Secret. */
export const SECRET_PASSWORD_KEY = 'password';

/** Where the worker keeps its builds inside the pod (an emptyDir). */
export const WORKER_BASEDIR = '/workspace';
/** The worker image's non-root user (deploy/docker/worker.Dockerfile). */
export const WORKER_UID = 10001;

/** A valid label value (≤ 63 of [A-Za-z0-9_.-], alphanumeric at both ends) for any text. */
export function labelValue(text: string): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned === text && text.length <= 63) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  const head = cleaned.slice(0, 54).replace(/[^A-Za-z0-9]+$/g, '');
  return head === '' ? hash : `${head}-${hash}`;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomSuffix(): string {
  let suffix = '';
  for (const byte of randomBytes(5)) suffix += ALPHABET[byte % ALPHABET.length];
  return suffix;
}

/**
 * `<latent worker>-<slot>`: the pod's name and its worker's name. Slots are reused once
 * their pod is gone, so a latent worker has at most `maxPods` worker rows in the database
 * (docs/decisions/0012-kubernetes-worker-slots-and-secrets.md).
 */
export function podName(latentWorker: string, slot: number): string {
  return `${latentWorker}-${slot}`;
}

/** The smallest slot in [0, maxPods) whose name no pod has, or null. */
export function freeSlot(latentWorker: string, maxPods: number, taken: Set<string>): number | null {
  for (let slot = 0; slot < maxPods; slot++) {
    if (!taken.has(podName(latentWorker, slot))) return slot;
  }
  return null;
}

/** The pod's Secret: `<pod>-<5 random characters>`, new for each pod using the name. */
export function secretName(pod: string): string {
  return `${pod}-${randomSuffix()}`;
}

/** 192 random bits: a fast digest is enough to keep it from being guessed. */
export function podPassword(): string {
  return randomBytes(24).toString('base64url');
}

export function passwordDigest(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/** The selector of every pod of one latent worker (every master's). */
export function latentWorkerSelector(latentWorker: string): string {
  return `${LABELS.managedBy}=yardmaster,${LABELS.latentWorker}=${latentWorker}`;
}

export interface PodSpecInput {
  config: KubernetesLatentWorkerConfig;
  name: string;
  /** The pod's Secret, holding the password under `SECRET_PASSWORD_KEY`. */
  secret: string;
  password: string;
  masterName: string;
  builder: string | null;
  buildrequestid: number | null;
}

export function buildPodSpec(input: PodSpecInput): Record<string, unknown> {
  const { config } = input;
  const env = [
    { name: 'YARDMASTER_MASTER', value: config.masterAddress },
    { name: 'YARDMASTER_WORKER_NAME', value: input.name },
    {
      name: 'YARDMASTER_WORKER_PASSWORD',
      valueFrom: { secretKeyRef: { name: input.secret, key: SECRET_PASSWORD_KEY } },
    },
    { name: 'YARDMASTER_WORKER_BASEDIR', value: WORKER_BASEDIR },
    ...Object.entries(config.env).map(([name, value]) => ({ name, value })),
  ];
  const resources: Record<string, Record<string, string>> = {};
  if (Object.keys(config.resources.requests).length > 0)
    resources.requests = config.resources.requests;
  if (Object.keys(config.resources.limits).length > 0) resources.limits = config.resources.limits;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      labels: {
        [LABELS.name]: 'yardmaster-worker',
        [LABELS.managedBy]: 'yardmaster',
        [LABELS.latentWorker]: config.name,
        [LABELS.master]: labelValue(input.masterName),
        [LABELS.builder]: input.builder === null ? 'none' : labelValue(input.builder),
        [LABELS.buildRequest]:
          input.buildrequestid === null ? 'none' : String(input.buildrequestid),
      },
      annotations: {
        [MASTER_NAME_ANNOTATION]: input.masterName,
        [PASSWORD_DIGEST_ANNOTATION]: passwordDigest(input.password),
      },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: config.activeDeadlineSeconds,
      terminationGracePeriodSeconds: 30,
      automountServiceAccountToken: false,
      ...(config.serviceAccountName === null
        ? {}
        : { serviceAccountName: config.serviceAccountName }),
      ...(Object.keys(config.nodeSelector).length > 0 ? { nodeSelector: config.nodeSelector } : {}),
      ...(config.tolerations.length > 0 ? { tolerations: config.tolerations } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: WORKER_UID,
        runAsGroup: WORKER_UID,
        fsGroup: WORKER_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'worker',
          image: config.image,
          imagePullPolicy: 'IfNotPresent',
          env,
          ...(Object.keys(resources).length > 0 ? { resources } : {}),
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: [{ name: 'workspace', mountPath: WORKER_BASEDIR }, ...config.volumeMounts],
        },
      ],
      volumes: [{ name: 'workspace', emptyDir: {} }, ...config.volumes],
    },
  };
}

/** The Secret that holds a pod's worker password, created before the pod. */
export function buildWorkerSecret(input: {
  config: KubernetesLatentWorkerConfig;
  pod: string;
  secret: string;
  password: string;
  masterName: string;
}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: input.secret,
      labels: {
        [LABELS.name]: 'yardmaster-worker',
        [LABELS.managedBy]: 'yardmaster',
        [LABELS.latentWorker]: input.config.name,
        [LABELS.master]: labelValue(input.masterName),
        [LABELS.pod]: input.pod,
      },
    },
    data: { [SECRET_PASSWORD_KEY]: Buffer.from(input.password, 'utf8').toString('base64') },
  };
}

/** The name of the Secret a pod's worker password comes from, or null. */
export function secretOf(pod: {
  spec?: { containers?: { env?: { valueFrom?: { secretKeyRef?: { name?: string } } }[] }[] };
}): string | null {
  for (const item of pod.spec?.containers?.[0]?.env ?? []) {
    const name = item.valueFrom?.secretKeyRef?.name;
    if (name !== undefined) return name;
  }
  return null;
}
