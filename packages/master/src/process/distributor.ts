/**
 * The build request distributor: matches pending build requests with free workers and
 * starts builds.
 *
 * One distribution pass runs at a time; a wake-up during a pass schedules one more pass
 * after it, so no wake-up is lost and passes never overlap. Order: builder priority,
 * then request priority, then oldest first. A request is started only after this
 * master's claim (one conditional UPDATE) succeeded. Requests collapsed into a build
 * are claimed too and completed SKIPPED when the build starts, as in Buildbot.
 *
 * After a RETRY (the worker was lost) the request goes back to the queue, at most
 * `maxRetries` times; then it completes EXCEPTION so a request that kills its workers
 * cannot loop for ever.
 */
import type { DataApi } from '../data/data-api.js';
import type { BuildRequestEntity, PropertyMap, SourceStampEntity } from '../data/buildsets.js';
import type { Logger } from '../logger.js';
import { Results, type Result } from '../results.js';
import type { WorkerRegistry, WorkerState } from '../workers/worker-registry.js';
import type { WorkerConnection } from '../workers/worker-connection.js';
import type { ResolvedLock } from './locks.js';
import type { Subscription } from '../mq/bus.js';
import type { BuilderRuntime } from './builder-runtime.js';
import { Build } from './build.js';
import { isTransientDatabaseError } from '../data/transient.js';
import { BuildChooser, RequestInfo, collapseAllowed } from './build-chooser.js';

const POLL_MS = 5_000;
/** How many requests of each builder's queue one pass looks at (the rest wait their turn). */
const QUEUE_HEAD = 200;
const RECONCILE_MS = 10_000;
/** Claims and builds younger than this are being started or settled: reconcile leaves them. */
const RECONCILE_GRACE_MS = 30_000;
const SETTLE_RETRY_MS = 120_000;
const MAX_RETRIES = 3;

/**
 * Told what the passes do; the Kubernetes latent workers (to start pods for requests no
 * worker could take) and the metrics (queue wait) listen. Observers must not throw.
 */
export interface DistributionObserver {
  /** A build was created for `request`, which this master claimed. */
  buildStarted?(build: Build, request: BuildRequestEntity): void;
  /** After each pass: the pending requests no connected worker could take (maybe none). */
  unserved?(requests: BuildRequestEntity[]): void;
}

export class BuildRequestDistributor {
  private builders = new Map<number, BuilderRuntime>();
  private readonly running = new Map<number, Build>();
  private readonly finishing = new Set<Promise<void>>();
  /** Requests this master claimed and has not settled (completed or unclaimed) yet. */
  private readonly owned = new Set<number>();
  private reconcileTimer: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> | null = null;
  private passing: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private subscriptions: Subscription[] = [];
  private readonly observers: DistributionObserver[] = [];

  constructor(
    private readonly data: DataApi,
    private readonly registry: WorkerRegistry,
    private readonly masterid: number,
    private readonly log: Logger,
  ) {}

  setBuilders(builders: BuilderRuntime[]): void {
    this.builders = new Map(builders.map((b) => [b.builderid, b]));
    this.wake();
  }

  observe(observer: DistributionObserver): void {
    this.observers.push(observer);
  }

  start(): void {
    this.registry.onAvailable(() => this.wake());
    for (const event of ['new', 'unclaimed']) {
      this.subscriptions.push(
        this.data.bus.subscribe(['buildrequests', '*', event], () => this.wake()),
      );
    }
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.reconcileTimer = setInterval(() => {
      this.reconciling ??= this.reconcile()
        .catch((error: unknown) =>
          this.log.warn({ err: error }, 'reconciling claims failed; trying again later'),
        )
        .finally(() => (this.reconciling = null));
    }, RECONCILE_MS);
    this.reconcileTimer.unref();
    this.wake();
  }

  /**
   * Repairs what a failed database write left behind (a request claimed by this master
   * that no build of it runs any more, a build row it no longer runs): re-queues such
   * requests and ends such builds RETRY. Only old enough ones, so nothing being started
   * right now is touched.
   */
  async reconcile(): Promise<void> {
    if (this.stopped) return;
    const settledBefore = Date.now() - RECONCILE_GRACE_MS;
    const stray: number[] = [];
    for (const brid of await this.data.buildsets.claimedBy(this.masterid)) {
      if (this.owned.has(brid)) continue;
      const request = await this.data.buildsets.getRequest(brid);
      if (
        request?.claimed_at !== null &&
        request?.claimed_at !== undefined &&
        request.claimed_at * 1000 < settledBefore
      ) {
        stray.push(brid);
      }
    }
    if (stray.length > 0) {
      this.log.warn(
        { requests: stray },
        `re-queueing ${stray.length} request(s) this master claimed but no longer runs`,
      );
      await this.data.buildsets.unclaim(stray, this.masterid);
    }
    for (const build of await this.data.builds.unfinishedOf(this.masterid)) {
      if (this.running.has(build.buildid) || (build.started_at ?? 0) * 1000 >= settledBefore)
        continue;
      this.log.warn(
        { buildid: build.buildid },
        `ending build ${build.buildid}, which this master no longer runs`,
      );
      await this.data.builds.finish(
        build.buildid,
        Results.RETRY,
        'interrupted: its master lost track of it; the request is run again',
      );
    }
  }

  /**
   * Stops starting builds; running builds are given up to `drainMs` to finish (default 0),
   * then interrupted and awaited, and their requests go back to the queue so that they run
   * again (here after a restart, or on another master).
   */
  async stop(reason: string, options: { drainMs?: number } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.reconciling;
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
    await this.passing;
    const drainMs = options.drainMs ?? 0;
    if (drainMs > 0 && this.finishing.size > 0) {
      this.log.info(
        { builds: this.running.size, drainMs },
        `waiting up to ${Math.round(drainMs / 1000)} s for ${this.running.size} running build(s) to finish`,
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.finishing]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const build of this.running.values()) build.stop(reason, { retry: true });
    await Promise.all([...this.finishing]);
  }

  runningBuilds(): Build[] {
    return [...this.running.values()];
  }

  /**
   * Interrupts every running build without re-queueing or completing its request: used
   * when this master learns it was expired, so its requests belong to the queue again.
   */
  abandonRunning(reason: string): void {
    for (const build of this.running.values()) build.stop(reason, { retry: true });
  }

  /** Stops a build this master runs; false when it does not run it. */
  stopBuild(buildid: number, reason: string): boolean {
    const build = this.running.get(buildid);
    if (!build) return false;
    build.stop(reason);
    return true;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (error) {
          this.log.error(
            { err: error },
            'build request distribution failed; retrying on the next wake-up',
          );
        }
      } while (this.again && !this.stopped);
      this.passing = null;
    })();
  }

  /** Waits until no distribution pass is running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.passing) await this.passing;
  }

  private async pass(): Promise<void> {
    const pending = await this.data.buildsets.pendingRequests(
      [...this.builders.keys()],
      QUEUE_HEAD,
    );
    const unserved: BuildRequestEntity[] = [];
    try {
      if (pending.length > 0) await this.distribute(pending, unserved);
    } finally {
      if (!this.stopped) for (const o of this.observers) o.unserved?.(unserved);
    }
  }

  private async distribute(
    pending: BuildRequestEntity[],
    unserved: BuildRequestEntity[],
  ): Promise<void> {
    const byBuilder = new Map<number, BuildRequestEntity[]>();
    for (const br of pending) {
      const list = byBuilder.get(br.builderid) ?? [];
      list.push(br);
      byBuilder.set(br.builderid, list);
    }
    const order = [...byBuilder.entries()].sort(([a, ra], [b, rb]) => {
      const pa = this.builders.get(a)?.priority ?? 0;
      const pb = this.builders.get(b)?.priority ?? 0;
      if (pa !== pb) return pb - pa;
      return (ra[0]?.submitted_at ?? 0) - (rb[0]?.submitted_at ?? 0);
    });
    for (const [builderid, requests] of order) {
      if (this.stopped) return;
      const builder = this.builders.get(builderid);
      if (builder) await this.startBuilds(builder, requests, unserved);
    }
  }

  private async startBuilds(
    builder: BuilderRuntime,
    requests: BuildRequestEntity[],
    unserved: BuildRequestEntity[],
  ): Promise<void> {
    if (
      !builder.nextBuild &&
      !builder.nextWorker &&
      !builder.canStartBuild &&
      (builder.locks ?? []).length === 0 &&
      builder.collapseRequests === false
    ) {
      await this.startBatch(builder, requests, unserved);
      return;
    }
    const taken = new Set<number>();
    // Hooks (nextBuild, nextWorker, canStartBuild, a collapse function) and the builder's
    // locks pick the pairs: process/build-chooser.ts.
    const info = new RequestInfo(this.data);
    for (;;) {
      if (this.stopped) return;
      const remaining = requests.filter((r) => !taken.has(r.buildrequestid));
      if (remaining.length === 0) return;
      const pool = this.registry.available(builder.workerNames).filter((w) => w.connection);
      if (pool.length === 0) {
        unserved.push(...remaining);
        return;
      }
      const chosen = await new BuildChooser(builder, remaining, pool, info, this.log).next();
      const connection = chosen?.worker.connection;
      if (!chosen || !connection) return;
      const { request, worker } = chosen;
      taken.add(request.buildrequestid);
      // The builder's locks are taken now, for the build, before any await: a build never
      // waits for them while it holds a worker (process/locks.ts).
      const lockManager = builder.services?.locks;
      const locks = lockManager?.resolve(builder.locks ?? [], worker.name) ?? [];
      const lockOwner = {};
      if (lockManager && !lockManager.tryAcquire(locks, lockOwner)) continue;
      const releaseLocks = () => lockManager?.release(locks, lockOwner);
      if (!(await this.data.buildsets.claim(request.buildrequestid, this.masterid))) {
        releaseLocks();
        continue;
      }
      this.owned.add(request.buildrequestid);
      if (builder.collapseRequests !== false) {
        await this.collapse(builder, info, request, requests, taken);
      }
      this.registry.acquire(worker);
      await this.launch(builder, request, worker, connection, { locks, owner: lockOwner });
    }
  }

  /**
   * The common case, a builder with no hooks, locks or collapsing: as many requests as
   * there are free workers are claimed from the head of the queue in one statement
   * (`claimNext`), their buildsets' properties and source stamps read in one query each,
   * and their builds created concurrently. Repeats while every claim was served.
   */
  private async startBatch(
    builder: BuilderRuntime,
    requests: BuildRequestEntity[],
    unserved: BuildRequestEntity[],
  ): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const pool = this.registry.available(builder.workerNames).filter((w) => w.connection);
      if (pool.length === 0) {
        unserved.push(...requests);
        return;
      }
      const claimed = await this.data.buildsets.claimNext(
        builder.builderid,
        pool.length,
        this.masterid,
      );
      if (claimed.length === 0) return;
      for (const r of claimed) this.owned.add(r.buildrequestid);
      const bsids = [...new Set(claimed.map((r) => r.buildsetid))];
      let props: Map<number, PropertyMap>;
      let stamps: Map<number, SourceStampEntity[]>;
      try {
        [props, stamps] = await Promise.all([
          this.data.buildsets.propertiesOf(bsids),
          this.data.buildsets.sourcestampsOf(bsids),
        ]);
      } catch (error) {
        const brids = claimed.map((r) => r.buildrequestid);
        await this.data.buildsets.unclaim(brids, this.masterid);
        for (const brid of brids) this.owned.delete(brid);
        throw error;
      }
      const launches: Promise<void>[] = [];
      claimed.forEach((request, i) => {
        const worker = pool[i];
        const connection = worker?.connection;
        if (!worker || !connection) return;
        // Taken before any await, so the next pass cannot hand the worker out again.
        this.registry.acquire(worker);
        launches.push(
          this.launch(builder, request, worker, connection, null, {
            properties: props.get(request.buildsetid) ?? {},
            sourcestamps: stamps.get(request.buildsetid) ?? [],
          }),
        );
      });
      const outcomes = await Promise.allSettled(launches);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      if (claimed.length < pool.length) return;
      requests = requests.filter(
        (r) => !claimed.some((c) => c.buildrequestid === r.buildrequestid),
      );
    }
  }

  /**
   * Creates the build of a claimed request on a worker already acquired, and runs it in
   * the background. A failed creation gives back the worker, the locks and the request.
   */
  private async launch(
    builder: BuilderRuntime,
    request: BuildRequestEntity,
    worker: WorkerState,
    connection: WorkerConnection,
    locks: { locks: ResolvedLock[]; owner: object } | null,
    prefetched?: { properties: PropertyMap; sourcestamps: SourceStampEntity[] },
  ): Promise<void> {
    const build = new Build(
      { data: this.data, log: this.log, masterid: this.masterid },
      builder,
      request,
      worker.name,
      connection,
    );
    if (locks) build.adoptLocks(locks.locks, locks.owner);
    if (prefetched) build.usePrefetched(prefetched);
    try {
      await build.create(worker.workerid);
    } catch (error) {
      if (locks) builder.services?.locks.release(locks.locks, locks.owner);
      this.registry.release(worker);
      await this.data.buildsets.unclaim([request.buildrequestid], this.masterid);
      this.owned.delete(request.buildrequestid);
      throw error;
    }
    this.running.set(build.buildid, build);
    for (const o of this.observers) o.buildStarted?.(build, request);
    const done = this.runBuild(build)
      .catch((error: unknown) => {
        this.log.error(
          { err: error, builder: builder.name },
          'a build ended with an internal error',
        );
      })
      .finally(() => {
        this.registry.release(worker);
        this.finishing.delete(done);
      });
    this.finishing.add(done);
  }

  private async runBuild(build: Build): Promise<void> {
    const brid = build.request.buildrequestid;
    try {
      await this.runAndSettle(build);
    } finally {
      this.owned.delete(brid);
    }
  }

  /** Writes that settle a request are retried while the database is briefly away. */
  private async settle(what: string, write: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + SETTLE_RETRY_MS;
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await write();
        return;
      } catch (error) {
        if (!isTransientDatabaseError(error) || Date.now() > deadline) throw error;
        this.log.warn({ err: error }, `${what} failed; retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async runAndSettle(build: Build): Promise<void> {
    const brid = build.request.buildrequestid;
    // A build that does not go back to the queue ends in the same write as its request
    // (and buildset) completion: one statement on PostgreSQL instead of two or three.
    let settled = false;
    build.onEnd(async (ending, state) => {
      if (build.stoppedForRetry || ending === Results.RETRY) {
        await this.data.builds.finish(build.buildid, ending, state);
        return;
      }
      const stamps = build.buildsetSourcestamps;
      const known = stamps ? new Map([[build.request.buildsetid, stamps]]) : undefined;
      await this.settle(`ending build ${build.buildid} and completing request ${brid}`, () =>
        this.data.buildsets.complete([brid], ending, this.masterid, known, {
          buildid: build.buildid,
          state,
        }),
      );
      settled = true;
    });
    let results: Result;
    try {
      results = await build.run();
    } finally {
      this.running.delete(build.buildid);
    }
    if (settled) return;
    const requeue = () =>
      this.settle(`re-queueing request ${brid}`, () =>
        this.data.buildsets.unclaim([brid], this.masterid),
      );
    if (build.stoppedForRetry) {
      await requeue();
      return;
    }
    if (results === Results.RETRY && !build.isStopping) {
      const previous = await this.data.builds.list(
        {
          filters: [{ field: 'results', op: 'eq', values: [Results.RETRY] }],
          order: [],
          limit: null,
          offset: 0,
          fields: null,
          properties: [],
        },
        { buildrequestid: brid },
      );
      if (previous.total < MAX_RETRIES) {
        await requeue();
        return;
      }
      this.log.warn(
        { buildrequestid: brid },
        `build request ${brid} was retried ${MAX_RETRIES} times; giving up`,
      );
      results = Results.EXCEPTION;
    }
    const final = results;
    const stamps = build.buildsetSourcestamps;
    const known = stamps ? new Map([[build.request.buildsetid, stamps]]) : undefined;
    await this.settle(`completing request ${brid}`, () =>
      this.data.buildsets.complete([brid], final, this.masterid, known),
    );
  }

  /** Claims the other pending requests that this build can serve (Buildbot's collapseRequests). */
  private async collapse(
    builder: BuilderRuntime,
    info: RequestInfo,
    request: BuildRequestEntity,
    requests: BuildRequestEntity[],
    taken: Set<number>,
  ): Promise<number[]> {
    const custom = typeof builder.collapseRequests === 'object';
    const [mine, myProps] = custom ? ['', ''] : await this.describe(request);
    const collapsed: number[] = [];
    for (const other of requests) {
      if (other.buildrequestid === request.buildrequestid || taken.has(other.buildrequestid))
        continue;
      if (custom) {
        if (!(await collapseAllowed(builder, info, request, other, this.log))) continue;
      } else {
        const [theirs, theirProps] = await this.describe(other);
        if (mine !== theirs || myProps !== theirProps) continue;
      }
      if (await this.data.buildsets.claim(other.buildrequestid, this.masterid)) {
        taken.add(other.buildrequestid);
        collapsed.push(other.buildrequestid);
      }
    }
    if (collapsed.length > 0) {
      await this.data.buildsets.complete(collapsed, Results.SKIPPED);
      this.log.info(
        { buildrequestid: request.buildrequestid, collapsed },
        `collapsed ${collapsed.length} requests into request ${request.buildrequestid}`,
      );
    }
    return collapsed;
  }

  private async describe(request: BuildRequestEntity): Promise<[string, string]> {
    const stamps: SourceStampEntity[] = await this.data.buildsets.sourcestamps(request.buildsetid);
    const props: PropertyMap = await this.data.buildsets.properties(request.buildsetid);
    const key = stamps
      .map((s) => [s.codebase, s.repository, s.branch, s.revision, s.project].join('\u0000'))
      .sort()
      .join('\u0001');
    const propKey = JSON.stringify(
      Object.entries(props)
        .map(([k, v]) => [k, v[0]])
        .sort(),
    );
    return [key, propKey];
  }
}
