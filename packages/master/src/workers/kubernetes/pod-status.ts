/**
 * What a pod's status means for a latent worker: still starting, waiting to be
 * scheduled, running, ended, or unable to start for a reason that will not go away
 * (image pull errors, invalid container config, a crash before the worker connected).
 */
import type { PodObject } from './kube-client.js';

export type PodCondition =
  | { state: 'pending' }
  | { state: 'unschedulable'; reason: string }
  | { state: 'running' }
  | { state: 'failed'; reason: string }
  | { state: 'ended'; reason: string }
  | { state: 'terminating' };

/** Waiting reasons after which a container never starts without a change to the pod. */
const PERMANENT_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

export function classifyPod(pod: PodObject): PodCondition {
  if (pod.metadata?.deletionTimestamp) return { state: 'terminating' };
  const status = pod.status ?? {};
  const container = status.containerStatuses?.[0]?.state;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') {
    const terminated = container?.terminated;
    const reason =
      status.reason !== undefined
        ? `${status.reason}${status.message ? `: ${status.message}` : ''}`
        : terminated !== undefined
          ? `the worker container exited with code ${terminated.exitCode ?? '?'}${terminated.reason ? ` (${terminated.reason})` : ''}`
          : `the pod ended (${status.phase})`;
    return { state: 'ended', reason };
  }
  const waiting = container?.waiting;
  if (waiting?.reason !== undefined && PERMANENT_WAITING.has(waiting.reason)) {
    return { state: 'failed', reason: `${waiting.reason}: ${waiting.message ?? ''}`.trim() };
  }
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { state: 'unschedulable', reason: `Unschedulable: ${scheduled.message ?? ''}`.trim() };
  }
  if (status.phase === 'Running') return { state: 'running' };
  return { state: 'pending' };
}
