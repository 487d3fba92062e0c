/**
 * The pod of one latent worker: labels (latent worker, master, builder, build request),
 * the worker's environment (master address, worker name, a password made for this pod),
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
} as const;

export const MASTER_NAME_ANNOTATION = 'yardmaster.io/master-name';

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

/** `<latent worker>-<5 random characters>`, as Kubernetes' generateName does. */
export function podName(latentWorker: string): string {
  const bytes = randomBytes(5);
  let suffix = '';
  for (const byte of bytes) suffix += ALPHABET[byte % ALPHABET.length];
  return `${latentWorker}-${suffix}`;
}

export function podPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The selector of every pod of one latent worker (every master's). */
export function latentWorkerSelector(latentWorker: string): string {
  return `${LABELS.managedBy}=yardmaster,${LABELS.latentWorker}=${latentWorker}`;
}

export interface PodSpecInput {
  config: KubernetesLatentWorkerConfig;
  name: string;
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
    { name: 'YARDMASTER_WORKER_PASSWORD', value: input.password },
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
      annotations: { [MASTER_NAME_ANNOTATION]: input.masterName },
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
