/**
 * Which pending request of a builder starts next, and on which worker: Buildbot's
 * `BasicBuildChooser` (process/buildrequestdistributor.py), used by the distributor for
 * one builder in one distribution pass.
 *
 * 1. pick a request: `nextBuild(builder, requests)` if configured, else the first (the
 *    queue is in priority, then age, order);
 * 2. pick a worker: workers set aside by an earlier request first, then
 *    `nextWorker(builder, workers, request)` if configured, else the least busy;
 * 3. the worker must pass `canStartBuild`: the builder's locks must be free on it (so a
 *    build never holds a worker slot while it waits for a builder lock), then the
 *    `canStartBuild` hook; a refused worker is set aside for the next request and another
 *    is tried; a request no worker can take is left for a later pass.
 * A hook that throws is logged and counts as "no" (Buildbot logs and returns None).
 *
 * State: one `BuildChooser` lives for one builder's share of one pass; `RequestInfo`
 * caches the source stamps and properties the hooks see, so each is read once a pass.
 */
import type { DataApi } from '../data/data-api.js';
import type { BuildRequestEntity } from '../data/buildsets.js';
import type { HookBuilder, HookBuildRequest, HookWorker } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { WorkerState } from '../workers/worker-registry.js';
import type { BuilderRuntime } from './builder-runtime.js';

/** The hook view of requests, read once per pass. */
export class RequestInfo {
  private readonly cache = new Map<number, Promise<HookBuildRequest>>();

  constructor(private readonly data: DataApi) {}

  of(request: BuildRequestEntity): Promise<HookBuildRequest> {
    let info = this.cache.get(request.buildrequestid);
    if (!info) {
      info = this.load(request);
      this.cache.set(request.buildrequestid, info);
    }
    return info;
  }

  private async load(request: BuildRequestEntity): Promise<HookBuildRequest> {
    const [stamps, props] = await Promise.all([
      this.data.buildsets.sourcestamps(request.buildsetid),
      this.data.buildsets.properties(request.buildsetid),
    ]);
    return {
      buildrequestid: request.buildrequestid,
      buildsetid: request.buildsetid,
      priority: request.priority,
      submittedAt: request.submitted_at,
      properties: Object.fromEntries(Object.entries(props).map(([name, [value]]) => [name, value])),
      sourcestamps: stamps.map((s) => ({
        codebase: s.codebase,
        repository: s.repository,
        branch: s.branch,
        revision: s.revision,
        project: s.project,
      })),
    };
  }
}

export function hookBuilder(builder: BuilderRuntime): HookBuilder {
  return { name: builder.name, builderid: builder.builderid };
}

function hookWorker(worker: WorkerState): HookWorker {
  return {
    name: worker.name,
    runningBuilds: worker.runningBuilds,
    maxBuilds: worker.maxBuilds,
    info: worker.connection?.info ?? {},
  };
}

export type ChosenBuild = { request: BuildRequestEntity; worker: WorkerState };

export class BuildChooser {
  /** Workers refused for an earlier request, tried first for the next one. */
  private readonly preferred: WorkerState[] = [];
  private readonly candidates: BuildRequestEntity[];

  constructor(
    private readonly builder: BuilderRuntime,
    requests: BuildRequestEntity[],
    private readonly pool: WorkerState[],
    private readonly info: RequestInfo,
    private readonly log: Logger,
  ) {
    this.candidates = [...requests];
  }

  /** The next (request, worker) pair, or null when nothing more can start on this builder. */
  async next(): Promise<ChosenBuild | null> {
    for (;;) {
      const request = await this.nextRequest();
      if (!request) return null;
      let worker = await this.popWorker(request);
      if (!worker) return null;
      this.candidates.splice(this.candidates.indexOf(request), 1);
      const recycled: WorkerState[] = [];
      while (worker && !(await this.canStart(worker, request))) {
        recycled.push(worker);
        worker = await this.popWorker(request);
      }
      this.preferred.unshift(...recycled);
      if (worker) return { request, worker };
    }
  }

  private async nextRequest(): Promise<BuildRequestEntity | null> {
    if (this.candidates.length === 0) return null;
    const hook = this.builder.nextBuild;
    if (!hook) return this.candidates[0] ?? null;
    try {
      const infos = await Promise.all(this.candidates.map((r) => this.info.of(r)));
      const chosen = await hook.fn(hookBuilder(this.builder), infos);
      const id = typeof chosen === 'number' ? chosen : chosen?.buildrequestid;
      return this.candidates.find((r) => r.buildrequestid === id) ?? null;
    } catch (error) {
      this.log.error({ err: error, builder: this.builder.name }, 'nextBuild failed');
      return null;
    }
  }

  private async popWorker(request: BuildRequestEntity): Promise<WorkerState | null> {
    const preferred = this.preferred.shift();
    if (preferred) return preferred;
    if (this.pool.length === 0) return null;
    const hook = this.builder.nextWorker;
    let chosen: WorkerState | undefined;
    if (!hook) chosen = this.pool[0];
    else {
      try {
        const result = await hook.fn(
          hookBuilder(this.builder),
          this.pool.map(hookWorker),
          await this.info.of(request),
        );
        const name = typeof result === 'string' ? result : result?.name;
        chosen = this.pool.find((w) => w.name === name);
      } catch (error) {
        this.log.error({ err: error, builder: this.builder.name }, 'nextWorker failed');
      }
    }
    if (!chosen) return null;
    this.pool.splice(this.pool.indexOf(chosen), 1);
    return chosen;
  }

  /** Buildbot's `Builder.canStartBuild`: the builder's locks, then the hook. */
  private async canStart(worker: WorkerState, request: BuildRequestEntity): Promise<boolean> {
    const locks = this.builder.locks ?? [];
    const manager = this.builder.services?.locks;
    if (locks.length > 0 && manager && !manager.canAcquire(manager.resolve(locks, worker.name))) {
      return false;
    }
    const hook = this.builder.canStartBuild;
    if (!hook) return true;
    try {
      return Boolean(
        await hook.fn(hookBuilder(this.builder), hookWorker(worker), await this.info.of(request)),
      );
    } catch (error) {
      this.log.error({ err: error, builder: this.builder.name }, 'canStartBuild failed');
      return false;
    }
  }
}

/** May `other` be collapsed into `request`'s build? The builder's function, when it has one. */
export async function collapseAllowed(
  builder: BuilderRuntime,
  info: RequestInfo,
  request: BuildRequestEntity,
  other: BuildRequestEntity,
  log: Logger,
): Promise<boolean> {
  const rule = builder.collapseRequests;
  if (typeof rule !== 'object') return rule;
  try {
    return Boolean(
      await rule.fn(hookBuilder(builder), await info.of(request), await info.of(other)),
    );
  } catch (error) {
    log.error({ err: error, builder: builder.name }, 'collapseRequests failed');
    return false;
  }
}
