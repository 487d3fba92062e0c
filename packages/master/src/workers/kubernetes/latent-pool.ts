/**
 * The worker pods of one `kubernetesLatentWorker`: starts pods for build requests no
 * worker could take, keeps the warm pool, deletes pods when their build ended or they
 * idled, and fails a request with the reason when its pod cannot start.
 *
 * Pods are named `<latent worker>-<slot>` (slot in [0, maxPods), the smallest free one), and
 * the name is also the worker's: a latent worker has at most `maxPods` worker rows, which
 * builds keep referring to. Each pod's password is random and lives in a Secret of its own,
 * created before the pod and deleted with it (orphans: by the lease holder's scan); the
 * pod carries its SHA-256 so that any master can check the worker's login.
 *
 * Owns: the pod cache (a list + watch of every pod of this latent worker, every master's),
 * the lease that makes one master at a time start pods (`LeaseElector`), the demand (the
 * requests the distributor's last pass could not serve), its timers.
 *
 * States of a pod as seen here: starting (pending, unschedulable, or running but its worker
 * not yet connected) → idle (worker connected, no build) → busy (one build) → retired (its
 * build ended; the registry offers it no more builds) → deleting → gone. A pod that cannot
 * start goes starting → failed → deleting.
 *
 * Invariants:
 * - **Only idle pods are deleted.** A pod whose worker has a running build is never
 *   deleted, whatever the reason (scale-down, reconfig, drain, master stop): before a
 *   delete the worker is retired (no new build can start on it), any distribution pass in
 *   flight is awaited, and the running-build count is checked again.
 * - At most `maxPods` pods (of every master, as the watch shows them) are not being
 *   deleted; only the lease holder creates pods, one pass at a time.
 * - A pod runs at most one build (the registry retires its worker when it is acquired).
 * - Each master deletes the pods whose workers it hosts (it knows whether they are idle)
 *   and handles the start failures of the pods it created; the lease holder deletes
 *   orphans (created by a master that is gone, connected to no master).
 */
import { timingSafeEqual } from 'node:crypto';
import type { KubernetesLatentWorkerConfig } from '../../config/types.js';
import type { BuildRequestEntity } from '../../data/buildsets.js';
import type { DataApi } from '../../data/data-api.js';
import {
  activeMasterNames,
  stillPending,
  workersConnectedElsewhere,
  workersUsedSince,
} from '../../data/queue-stats.js';
import type { Logger } from '../../logger.js';
import { Results } from '../../results.js';
import type { WorkerRegistry, WorkerState } from '../worker-registry.js';
import { KubeApiError, type KubeClient, type PodEventType, type PodObject } from './kube-client.js';
import { LeaseElector } from './lease-elector.js';
import { classifyPod, type PodCondition } from './pod-status.js';
import {
  LABELS,
  MASTER_NAME_ANNOTATION,
  PASSWORD_DIGEST_ANNOTATION,
  buildPodSpec,
  buildWorkerSecret,
  freeSlot,
  labelValue,
  latentWorkerSelector,
  passwordDigest,
  podName,
  podPassword,
  secretName,
  secretOf,
} from './pod-spec.js';

const TICK_MS = 1_000;
const RESYNC_DELAY_MS = 1_000;
/** A running pod whose worker has not connected by then is a failed start. */
const CONNECT_TIMEOUT_MS = 120_000;
const ORPHAN_SCAN_MS = 30_000;
const API_ERROR_BACKOFF_MS = 5_000;
const CREATE_CONCURRENCY = 8;
/** A worker Secret no pod refers to is an orphan once this old (its pod may be on its way). */
const ORPHAN_SECRET_AGE_MS = 60_000;

export interface LatentPoolDeps {
  data: DataApi;
  registry: WorkerRegistry;
  client: KubeClient;
  masterid: () => number;
  masterName: string;
  /** A master silent for longer is gone (its pods are orphans). */
  masterExpiryMs: number;
  /** Resolves once no distribution pass is running. */
  distributorIdle: () => Promise<void>;
  log: Logger;
  now?: () => number;
}

interface TrackedPod {
  name: string;
  /** Null until the API has answered (a pod this master is creating). */
  uid: string | null;
  mine: boolean;
  buildrequestid: number | null;
  /** SHA-256 (hex) of the worker's password. */
  digest: string | null;
  /** The Secret holding the password (null: a pod of an older version, password in env). */
  secret: string | null;
  /** Epoch ms of the pod's creation (the API's, in seconds, else when first seen). */
  created: number;
  condition: PodCondition;
  firstSeen: number;
  runningSince: number | null;
  idleSince: number | null;
  connectedHere: boolean;
  deleting: boolean;
  handled: boolean;
  /** The full name of the master that created it. */
  owner: string | null;
}

export type PodState = 'starting' | 'idle' | 'busy' | 'terminating' | 'failed';

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function epochMs(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : NaN;
}

export class LatentWorkerPool {
  private readonly pods = new Map<string, TrackedPod>();
  private demand: BuildRequestEntity[] = [];
  private readonly failedRequests = new Set<number>();
  private readonly elector: LeaseElector;
  private stopWatch: (() => void) | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private draining = false;
  private stopped = false;
  private removed = false;
  private apiErrorsUntil = 0;
  private lastOrphanScan = 0;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly masterLabel: string;

  constructor(
    private config: KubernetesLatentWorkerConfig,
    private readonly deps: LatentPoolDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log.child({ latentWorker: config.name });
    this.masterLabel = labelValue(deps.masterName);
    this.elector = new LeaseElector(
      deps.client,
      { leaseName: `yardmaster-latent-${config.name}`, identity: deps.masterName },
      this.log,
    );
  }

  get name(): string {
    return this.config.name;
  }

  get maxPods(): number {
    return this.config.maxPods;
  }

  /** Lists the pods, adopts or deletes those of earlier runs, then watches and scales. */
  async start(): Promise<void> {
    await this.sync();
    await this.reconcile();
    await this.elector.start(() => this.wake());
    this.tickTimer = setInterval(() => this.wake(), TICK_MS);
    this.tickTimer.unref();
    this.wake();
  }

  /** A new config for this latent worker (a reload): applies to new pods and limits. */
  configure(config: KubernetesLatentWorkerConfig): void {
    this.config = config;
    this.removed = false;
    this.wake();
  }

  /** The latent worker left the config: start nothing, delete pods as they become idle. */
  remove(): void {
    this.removed = true;
    this.wake();
  }

  /** The master is stopping: start no pods; pods whose builds end are still deleted. */
  drain(): void {
    this.draining = true;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.stopWatch?.();
    this.stopWatch = null;
    while (this.ticking) await this.ticking;
    await this.elector.stop();
  }

  /** The requests of the last distribution pass that this pool should start pods for. */
  setDemand(requests: BuildRequestEntity[]): void {
    this.demand = requests.filter((r) => !this.failedRequests.has(r.buildrequestid));
    this.wake();
  }

  // ---- the registry's view (DynamicWorkerSource) ----

  knows(name: string): boolean {
    const pod = this.pods.get(name);
    return pod !== undefined && !pod.deleting && pod.condition.state !== 'terminating';
  }

  authenticate(name: string, password: string): boolean {
    const pod = this.pods.get(name);
    return (
      pod !== undefined &&
      !pod.deleting &&
      pod.digest !== null &&
      sameDigest(pod.digest, passwordDigest(password))
    );
  }

  /** Pod counts by state, for /metrics. */
  counts(): Record<PodState, number> {
    const counts: Record<PodState, number> = {
      starting: 0,
      idle: 0,
      busy: 0,
      terminating: 0,
      failed: 0,
    };
    for (const pod of this.pods.values()) counts[this.stateOf(pod)] += 1;
    return counts;
  }

  private stateOf(pod: TrackedPod): PodState {
    if (pod.deleting || pod.condition.state === 'terminating') return 'terminating';
    if (pod.condition.state === 'failed' || pod.condition.state === 'ended') return 'failed';
    const worker = this.deps.registry.get(pod.name);
    if (worker && worker.runningBuilds > 0) return 'busy';
    if (worker && this.connected(worker)) return 'idle';
    return 'starting';
  }

  private connected(worker: WorkerState): boolean {
    return worker.connection !== null && !worker.connection.isClosed;
  }

  // ---- the pod cache: list + watch ----

  private async sync(): Promise<void> {
    const selector = latentWorkerSelector(this.config.name);
    const { items, resourceVersion } = await this.deps.client.listPods(selector);
    const seen = new Set<string>();
    for (const pod of items) {
      const name = pod.metadata?.name;
      if (name === undefined) continue;
      seen.add(name);
      this.upsert(pod);
    }
    for (const name of [...this.pods.keys()]) {
      if (!seen.has(name) && !this.pods.get(name)?.deleting) this.forget(name);
    }
    this.stopWatch = await this.deps.client.watchPods(
      selector,
      resourceVersion,
      (type, pod) => this.onPodEvent(type, pod),
      (error) => this.onWatchEnd(error),
    );
  }

  private onWatchEnd(error: unknown): void {
    this.stopWatch = null;
    if (this.stopped) return;
    if (error) this.log.debug({ err: error }, 'pod watch ended; listing again');
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      if (this.stopped) return;
      this.sync().then(
        () => this.wake(),
        (failure: unknown) => {
          this.log.warn({ err: failure }, 'listing worker pods failed; retrying');
          this.onWatchEnd(null);
        },
      );
    }, RESYNC_DELAY_MS);
  }

  private onPodEvent(type: PodEventType, pod: PodObject): void {
    const name = pod.metadata?.name;
    if (name === undefined) return;
    if (type === 'DELETED') {
      // A late event of an earlier pod of the same name does not remove the current one.
      const uid = pod.metadata?.uid;
      const tracked = this.pods.get(name);
      if (uid === undefined || tracked === undefined || tracked.uid === uid) this.forget(name);
    } else this.upsert(pod);
    this.wake();
  }

  private upsert(pod: PodObject): void {
    const name = pod.metadata?.name ?? '';
    const labels = pod.metadata?.labels ?? {};
    const env = pod.spec?.containers?.[0]?.env ?? [];
    const uid = pod.metadata?.uid ?? null;
    let existing = this.pods.get(name);
    if (existing && existing.uid !== null && uid !== null && existing.uid !== uid) {
      // The name was used again (the earlier pod went while the watch was down).
      this.forget(name);
      existing = undefined;
    }
    if (existing && existing.uid === null) existing.uid = uid;
    const condition = classifyPod(pod);
    const request = Number(labels[LABELS.buildRequest]);
    // Pods of versions before the per-pod Secret carry their password in env.
    const legacy = env.find((e) => e.name === 'YARDMASTER_WORKER_PASSWORD')?.value;
    const digest =
      pod.metadata?.annotations?.[PASSWORD_DIGEST_ANNOTATION] ??
      (legacy === undefined ? null : passwordDigest(legacy));
    const tracked: TrackedPod = existing ?? {
      name,
      uid,
      mine: labels[LABELS.master] === this.masterLabel,
      buildrequestid: Number.isInteger(request) ? request : null,
      digest,
      secret: secretOf(pod),
      created: epochMs(pod.metadata?.creationTimestamp) || this.now(),
      condition,
      firstSeen: this.now(),
      runningSince: null,
      idleSince: null,
      connectedHere: false,
      deleting: false,
      handled: false,
      owner: pod.metadata?.annotations?.[MASTER_NAME_ANNOTATION] ?? null,
    };
    tracked.condition = condition;
    if (condition.state === 'running') tracked.runningSince ??= this.now();
    this.pods.set(name, tracked);
  }

  private forget(name: string): void {
    this.pods.delete(name);
    this.deps.registry.removeDynamic(name, 'its pod was deleted');
  }

  // ---- the loop ----

  private wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        try {
          await this.tick();
        } catch (error) {
          this.log.error({ err: error }, 'managing worker pods failed; retrying');
        }
      } while (this.again && !this.stopped);
      this.ticking = null;
    })();
  }

  private async tick(): Promise<void> {
    const now = this.now();
    const idle: TrackedPod[] = [];
    // Pods whose build ended are deleted concurrently: nothing can start on them any more.
    const finished: Promise<void>[] = [];
    for (const pod of [...this.pods.values()]) {
      if (this.stopped) return;
      if (pod.deleting || pod.condition.state === 'terminating') continue;
      const worker = this.deps.registry.get(pod.name);
      if (worker && this.connected(worker)) pod.connectedHere = true;
      if (worker && worker.runningBuilds > 0) {
        pod.idleSince = null;
        continue;
      }
      if (worker?.retired === true) {
        finished.push(this.deletePod(pod, 'its build ended'));
        continue;
      }
      await this.checkStart(pod, worker, now);
      if (pod.deleting) continue;
      if (worker && this.connected(worker)) {
        pod.idleSince ??= now;
        idle.push(pod);
      }
    }
    await Promise.all(finished);
    await this.scaleDown(idle, now);
    if (this.elector.isLeader && now - this.lastOrphanScan > ORPHAN_SCAN_MS) {
      this.lastOrphanScan = now;
      await this.deleteOrphans();
    }
    await this.scaleUp(now);
  }

  /** Start failures and deadlines of a pod whose worker is not (yet) connected here. */
  private async checkStart(pod: TrackedPod, worker: WorkerState | undefined, now: number) {
    const condition = pod.condition;
    const connected = worker !== undefined && this.connected(worker);
    switch (condition.state) {
      case 'failed':
        if (connected) return;
        if (pod.mine) await this.startFailed(pod, condition.reason);
        await this.deletePod(pod, condition.reason);
        return;
      case 'ended':
        if (pod.mine && !pod.connectedHere) {
          const warnings = await this.deps.client.podWarnings(pod.name);
          const detail = warnings.length > 0 ? ` (${warnings.slice(-2).join('; ')})` : '';
          await this.startFailed(pod, `${condition.reason}${detail}`);
        }
        await this.deletePod(pod, condition.reason);
        return;
      case 'unschedulable':
      case 'pending':
        if (pod.mine && now - pod.firstSeen > this.config.unschedulableDeadline) {
          const waited = Math.round(this.config.unschedulableDeadline / 1000);
          const reason =
            condition.state === 'unschedulable'
              ? `${condition.reason} (waited ${waited} s; unschedulableDeadline)`
              : `it did not start within ${waited} s (unschedulableDeadline)`;
          await this.startFailed(pod, reason);
          await this.deletePod(pod, reason);
        }
        return;
      case 'running':
        if (
          !connected &&
          !pod.connectedHere &&
          pod.mine &&
          now - (pod.runningSince ?? now) > CONNECT_TIMEOUT_MS
        ) {
          const elsewhere = await workersConnectedElsewhere(
            this.deps.data,
            [pod.name],
            this.deps.masterid(),
          );
          if (elsewhere.size > 0) return;
          const reason = `its worker did not connect to ${this.config.masterAddress} within ${CONNECT_TIMEOUT_MS / 1000} s; check masterAddress and the worker image`;
          await this.startFailed(pod, reason);
          await this.deletePod(pod, reason);
        }
        return;
      case 'terminating':
        return;
    }
  }

  /** Idle pods beyond the warm pool (or beyond maxPods) are deleted after idleTimeout. */
  private async scaleDown(idle: TrackedPod[], now: number): Promise<void> {
    const keep = this.removed || this.draining ? 0 : this.config.minIdle;
    const active = [...this.pods.values()].filter(
      (p) => !p.deleting && p.condition.state !== 'terminating',
    ).length;
    const overMax = Math.max(0, active - this.config.maxPods);
    idle.sort((a, b) => (a.idleSince ?? now) - (b.idleSince ?? now));
    let surplus = idle.length - keep;
    for (const pod of idle) {
      if (surplus <= 0) break;
      const idleFor = now - (pod.idleSince ?? now);
      const force = this.removed || idle.indexOf(pod) < overMax;
      if (!force && idleFor < this.config.idleTimeout) continue;
      await this.deletePod(
        pod,
        force ? 'scaled down' : `idle for ${Math.round(idleFor / 1000)} s (idleTimeout)`,
      );
      surplus -= 1;
    }
  }

  /** Starts pods for the demand (and the warm pool), within maxPods; lease holder only. */
  private async scaleUp(now: number): Promise<void> {
    if (this.draining || this.removed || this.stopped || !this.elector.isLeader) return;
    if (now < this.apiErrorsUntil) return;
    const active = [...this.pods.values()].filter(
      (p) =>
        !p.deleting &&
        p.condition.state !== 'terminating' &&
        p.condition.state !== 'failed' &&
        p.condition.state !== 'ended',
    );
    const free = active.filter((p) => {
      const worker = this.deps.registry.get(p.name);
      return worker === undefined || (worker.runningBuilds === 0 && worker.retired !== true);
    });
    let demand = this.demand.filter((r) => !this.failedRequests.has(r.buildrequestid));
    // Pods being deleted still count: they hold their node's resources until they are gone.
    const room = this.config.maxPods - this.pods.size;
    if (room <= 0 || demand.length + this.config.minIdle - free.length <= 0) return;
    if (demand.length > 0) {
      // The demand is as old as the last distribution pass; another master may have served
      // some of it since (pods connect to whichever master the Service picks).
      const ids = demand.map((r) => r.buildrequestid);
      const pending = await stillPending(this.deps.data, ids);
      demand = demand.filter((r) => pending.has(r.buildrequestid));
      this.demand = this.demand.filter((r) => pending.has(r.buildrequestid));
    }
    const count = Math.min(room, demand.length + this.config.minIdle - free.length);
    if (count <= 0) return;
    const covered = new Set(free.map((p) => p.buildrequestid));
    const uncovered = demand.filter((r) => !covered.has(r.buildrequestid));
    // A few API calls at a time; each pod is counted (upsert) before its call is made.
    for (let i = 0; i < count && !this.stopped; i += CREATE_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(CREATE_CONCURRENCY, count - i) }, (_, j) =>
        this.createPod(uncovered[i + j] ?? null),
      );
      if (!(await Promise.all(batch)).every(Boolean)) return;
    }
  }

  private async createPod(request: BuildRequestEntity | null): Promise<boolean> {
    const slot = freeSlot(this.config.name, this.config.maxPods, new Set(this.pods.keys()));
    if (slot === null) return false;
    const name = podName(this.config.name, slot);
    const secret = secretName(name);
    const password = podPassword();
    const builder =
      request === null
        ? null
        : (this.builderNameOf?.(request.builderid) ?? String(request.builderid));
    const spec = buildPodSpec({
      config: this.config,
      name,
      secret,
      password,
      masterName: this.deps.masterName,
      builder,
      buildrequestid: request?.buildrequestid ?? null,
    });
    // Known before the API answers, so the count never overshoots maxPods and the slot is
    // taken.
    this.upsert(spec);
    let secretCreated = false;
    try {
      await this.deps.client.createSecret(
        buildWorkerSecret({
          config: this.config,
          pod: name,
          secret,
          password,
          masterName: this.deps.masterName,
        }),
      );
      secretCreated = true;
      await this.deps.client.createPod(spec);
      this.log.info(
        { pod: name, buildrequestid: request?.buildrequestid ?? null },
        request === null
          ? `started worker pod ${name} (warm pool)`
          : `started worker pod ${name} for build request ${request.buildrequestid}`,
      );
      return true;
    } catch (error) {
      if (this.pods.get(name)?.uid === null) this.pods.delete(name);
      if (secretCreated) await this.deleteSecret(secret);
      const failure = error instanceof KubeApiError ? error : new KubeApiError(0, String(error));
      const what = secretCreated ? `worker pod ${name}` : `the Secret of worker pod ${name}`;
      if (failure.status === 400 || failure.status === 403 || failure.status === 422) {
        // The spec or our rights are wrong: every pod would fail the same way.
        await this.failRequest(
          request?.buildrequestid ?? null,
          `the Kubernetes API refused ${what} (HTTP ${failure.status}): ${failure.message}`,
        );
        this.apiErrorsUntil = this.now() + 1_000;
      } else if (failure.status === 409) {
        // A pod of that name exists that the watch has not shown yet: try again shortly.
        this.log.debug({ pod: name }, `${what} already exists; will retry`);
        this.apiErrorsUntil = this.now() + 1_000;
      } else {
        this.log.warn({ err: failure }, `creating worker pod ${name} failed; will retry`);
        this.apiErrorsUntil = this.now() + API_ERROR_BACKOFF_MS;
      }
      return false;
    }
  }

  /** Set by the owner: builder id → name, for pod labels. */
  builderNameOf: ((builderid: number) => string | undefined) | null = null;

  private async deletePod(pod: TrackedPod, why: string): Promise<void> {
    const worker = this.deps.registry.get(pod.name);
    if (worker) {
      if (worker.runningBuilds > 0) return;
      if (worker.retired !== true) {
        // No build can start on it from now on; a pass that already picked it is awaited.
        // (A retired worker is offered to no pass, so a finished pod needs no wait.)
        worker.retired = true;
        await this.deps.distributorIdle();
        if (worker.runningBuilds > 0) return;
      }
    }
    if (pod.deleting) return;
    pod.deleting = true;
    try {
      await this.deps.client.deletePod(pod.name);
      this.log.info({ pod: pod.name }, `deleted worker pod ${pod.name}: ${why}`);
    } catch (error) {
      pod.deleting = false;
      this.log.warn({ err: error }, `deleting worker pod ${pod.name} failed; will retry`);
      return;
    }
    // The kubelet read the password when it started the container: the Secret can go now.
    if (pod.secret !== null) await this.deleteSecret(pod.secret);
  }

  /** Best effort: a Secret left behind is deleted by the orphan scan. */
  private async deleteSecret(name: string): Promise<void> {
    try {
      await this.deps.client.deleteSecret(name);
    } catch (error) {
      this.log.warn({ err: error }, `deleting worker secret ${name} failed; the orphan scan will`);
    }
  }

  /** A pod this master created cannot start: its request (or another waiting one) fails. */
  private async startFailed(pod: TrackedPod, reason: string): Promise<void> {
    if (pod.handled) return;
    pod.handled = true;
    await this.failRequest(pod.buildrequestid, `worker pod ${pod.name} could not start: ${reason}`);
  }

  private async failRequest(preferred: number | null, reason: string): Promise<void> {
    const { data } = this.deps;
    const candidates = [
      ...(preferred === null ? [] : [preferred]),
      ...this.demand.map((r) => r.buildrequestid),
    ].filter((id) => !this.failedRequests.has(id));
    for (const id of candidates) {
      const request = await data.buildsets.getRequest(id);
      if (!request || request.complete || request.claimed) continue;
      const masterid = this.deps.masterid();
      if (!(await data.buildsets.claim(id, masterid))) continue;
      this.failedRequests.add(id);
      this.demand = this.demand.filter((r) => r.buildrequestid !== id);
      const { buildid } = await data.builds.add({
        builderid: request.builderid,
        buildrequestid: id,
        workerid: null,
        masterid,
        state: 'starting a worker pod',
      });
      await data.builds.finish(buildid, Results.EXCEPTION, reason);
      await data.buildsets.complete([id], Results.EXCEPTION, masterid);
      this.log.warn({ buildrequestid: id, buildid }, `build request ${id} failed: ${reason}`);
      return;
    }
    this.log.warn(reason);
  }

  // ---- start-up and orphans ----

  /** Pods of an earlier run of this master: adopt the unused ones, delete the rest. */
  private async reconcile(): Promise<void> {
    const mine = [...this.pods.values()].filter((p) => p.mine && !p.deleting);
    const names = mine.map((p) => p.name);
    // A name is used again by later pods: only builds since this pod's creation count.
    const used = await workersUsedSince(
      this.deps.data,
      mine.map((p) => ({ name: p.name, sinceMs: Math.floor(p.created / 1000) * 1000 })),
    );
    const elsewhere = await workersConnectedElsewhere(this.deps.data, names, this.deps.masterid());
    let adopted = 0;
    for (const pod of mine) {
      const state = pod.condition.state;
      if (elsewhere.has(pod.name)) continue;
      if (state === 'ended' || state === 'failed') {
        await this.deletePod(pod, `left over from an earlier run (${state})`);
      } else if (used.has(pod.name)) {
        await this.deletePod(pod, 'it ran a build before this master restarted');
      } else {
        adopted += 1;
      }
    }
    if (mine.length > 0) {
      this.log.info(
        { adopted, deleted: mine.length - adopted },
        `reconciled ${mine.length} worker pod(s) of an earlier run: ${adopted} adopted`,
      );
    }
    await this.deleteOrphans();
  }

  /** Pods of masters that are gone, whose workers no active master hosts; their Secrets. */
  private async deleteOrphans(): Promise<void> {
    await this.deleteOrphanPods();
    await this.deleteOrphanSecrets();
  }

  /** Worker Secrets no pod refers to (their pod was deleted by hand, or a delete failed). */
  private async deleteOrphanSecrets(): Promise<void> {
    let secrets;
    try {
      secrets = await this.deps.client.listSecrets(latentWorkerSelector(this.config.name));
    } catch (error) {
      this.log.warn({ err: error }, 'listing worker secrets failed');
      return;
    }
    const referenced = new Set([...this.pods.values()].map((p) => p.secret));
    const now = this.now();
    for (const secret of secrets) {
      if (referenced.has(secret.name)) continue;
      // Unknown age (NaN) or young: its pod may be being created right now.
      if (!(now - secret.created > ORPHAN_SECRET_AGE_MS)) continue;
      await this.deleteSecret(secret.name);
      this.log.info(
        { secret: secret.name },
        `deleted worker secret ${secret.name}: no pod uses it`,
      );
    }
  }

  private async deleteOrphanPods(): Promise<void> {
    const others = [...this.pods.values()].filter((p) => !p.mine && !p.deleting);
    if (others.length === 0) return;
    const active = await activeMasterNames(this.deps.data, this.deps.masterExpiryMs);
    const hosted = await workersConnectedElsewhere(
      this.deps.data,
      others.map((p) => p.name),
      this.deps.masterid(),
    );
    for (const pod of others) {
      const worker = this.deps.registry.get(pod.name);
      if (worker && this.connected(worker)) continue;
      if (hosted.has(pod.name)) continue;
      const owner = pod.owner;
      if (owner !== null && active.has(owner)) continue;
      await this.deletePod(pod, `orphaned: its master ${owner ?? '(unknown)'} is gone`);
    }
  }
}
