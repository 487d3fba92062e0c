/**
 * Buildsets, their source stamps and properties, and the build requests they make.
 *
 * A build request is pending while `complete = 0` and `claimed_by_masterid IS NULL`.
 * Claiming is one conditional UPDATE, so two masters (or two loops of one) can never
 * both start the same request. A buildset completes when its last request does, with
 * the worst of their results.
 */
import { sql } from 'kysely';
import { PREPARED } from '../db/prepared-statements.js';
import type { DataContext } from './context.js';
import { isPostgres, parseJson, toSeconds } from './context.js';
import { BuildsData, toBuild, type BuildRow } from './builds.js';
import { Results, type Result } from '../results.js';
import { applyFilters, applyOrderAndPage, type CollectionDef } from './query.js';
import type { ResultSpec } from './result-spec.js';
import { compareAndSetIn, StateConflictError, type StateUpdate } from './state.js';

export interface SourceStampInput {
  /** An existing source stamp (a change's) to reuse; the other fields are then ignored. */
  ssid?: number;
  branch?: string | null;
  revision?: string | null;
  repository?: string;
  project?: string;
  codebase?: string;
}

export interface SourceStampEntity {
  ssid: number;
  branch: string | null;
  revision: string | null;
  repository: string;
  project: string;
  codebase: string;
  created_at: number | null;
  patch: null;
}

/** Properties as Buildbot stores them: name → [value, source]. */
export type PropertyMap = Record<string, [unknown, string]>;

export interface BuildsetInput {
  reason: string;
  sourcestamps: SourceStampInput[];
  properties: PropertyMap;
  builderids: number[];
  priority?: number;
  externalIdstring?: string | null;
  parentBuildid?: number | null;
  /** Buildbot's `parent_relationship` ("Triggered from"). */
  parentRelationship?: string | null;
  /** A build waits for this buildset (a trigger step with `waitForFinish`). */
  waitedFor?: boolean;
}

/** Writes made in the same transaction as a buildset (schedulers: their state). */
export interface BuildsetAddOptions {
  /** Compare-and-set of the scheduler's state; on a conflict nothing is added. */
  state?: StateUpdate;
  /** Forget these changes a scheduler classified (they are being built). */
  flushClassified?: { objectid: number; changeids: number[] };
}

export interface BuildRequestEntity {
  buildrequestid: number;
  buildsetid: number;
  builderid: number;
  priority: number;
  claimed: boolean;
  claimed_at: number | null;
  claimed_by_masterid: number | null;
  complete: boolean;
  complete_at: number | null;
  results: number | null;
  submitted_at: number | null;
  waited_for: boolean;
  /** Null unless the query asks for properties (`property=*` or names): the buildset's. */
  properties: PropertyMap | null;
}

export interface BuildsetEntity {
  bsid: number;
  external_idstring: string | null;
  reason: string;
  submitted_at: number | null;
  complete: boolean;
  complete_at: number | null;
  results: number | null;
  parent_buildid: number | null;
  parent_relationship: string | null;
  sourcestamps: SourceStampEntity[];
}

export const BUILDREQUEST_COLLECTION: CollectionDef = {
  name: 'buildrequests',
  defaultOrder: { column: 'id', descending: false },
  fields: {
    buildrequestid: { column: 'id', type: 'number' },
    buildsetid: { column: 'buildsetid', type: 'number' },
    builderid: { column: 'builderid', type: 'number' },
    priority: { column: 'priority', type: 'number' },
    complete: { column: 'complete', type: 'boolean' },
    results: { column: 'results', type: 'number' },
    submitted_at: { column: 'submitted_at', type: 'timestamp' },
    complete_at: { column: 'complete_at', type: 'timestamp' },
    claimed_at: { column: 'claimed_at', type: 'timestamp' },
    claimed_by_masterid: { column: 'claimed_by_masterid', type: 'number' },
    claimed: { column: 'claimed_flag', type: 'boolean' },
    waited_for: { column: 'waited_for', type: 'boolean' },
  },
};

export const BUILDSET_COLLECTION: CollectionDef = {
  name: 'buildsets',
  defaultOrder: { column: 'id', descending: false },
  fields: {
    bsid: { column: 'id', type: 'number' },
    external_idstring: { column: 'external_idstring', type: 'string' },
    reason: { column: 'reason', type: 'string' },
    submitted_at: { column: 'submitted_at', type: 'timestamp' },
    complete: { column: 'complete', type: 'boolean' },
    complete_at: { column: 'complete_at', type: 'timestamp' },
    results: { column: 'results', type: 'number' },
    parent_buildid: { column: 'parent_buildid', type: 'number' },
    parent_relationship: { column: 'parent_relationship', type: 'string' },
  },
};

export const SOURCESTAMP_COLLECTION: CollectionDef = {
  name: 'sourcestamps',
  defaultOrder: { column: 'id', descending: false },
  fields: {
    ssid: { column: 'id', type: 'number' },
    branch: { column: 'branch', type: 'string' },
    revision: { column: 'revision', type: 'string' },
    repository: { column: 'repository', type: 'string' },
    project: { column: 'project', type: 'string' },
    codebase: { column: 'codebase', type: 'string' },
    created_at: { column: 'created_at', type: 'timestamp' },
  },
};

type SourcestampRow = {
  id: number;
  branch: string | null;
  revision: string | null;
  repository: string;
  project: string;
  codebase: string;
  created_at: number;
};

function toSourcestamp(r: SourcestampRow): SourceStampEntity {
  return {
    ssid: r.id,
    branch: r.branch,
    revision: r.revision,
    repository: r.repository,
    project: r.project,
    codebase: r.codebase,
    created_at: toSeconds(r.created_at),
    patch: null,
  };
}

type BuildsetRow = {
  id: number;
  external_idstring: string | null;
  reason: string;
  submitted_at: number;
  complete: number;
  complete_at: number | null;
  results: number | null;
  parent_buildid: number | null;
  parent_relationship: string | null;
};

function toBuildset(row: BuildsetRow, sourcestamps: SourceStampEntity[]): BuildsetEntity {
  return {
    bsid: row.id,
    external_idstring: row.external_idstring,
    reason: row.reason,
    submitted_at: toSeconds(row.submitted_at),
    complete: row.complete === 1,
    complete_at: toSeconds(row.complete_at),
    results: row.results,
    parent_buildid: row.parent_buildid,
    parent_relationship: row.parent_relationship,
    sourcestamps,
  };
}

type BuildRequestRow = {
  id: number;
  buildsetid: number;
  builderid: number;
  priority: number;
  complete: number;
  results: number | null;
  submitted_at: number;
  complete_at: number | null;
  waited_for: number;
  claimed_by_masterid: number | null;
  claimed_at: number | null;
};

/**
 * Each request entity built here → its submission time in milliseconds (the entity carries
 * Buildbot's whole seconds): the queue-wait metric reads it instead of the database.
 */
const submittedMs = new WeakMap<BuildRequestEntity, number>();

/** When `request` was submitted, in epoch milliseconds, if this module built the entity. */
export function requestSubmittedMs(request: BuildRequestEntity): number | undefined {
  return submittedMs.get(request);
}

function toBuildRequest(r: BuildRequestRow): BuildRequestEntity {
  const entity: BuildRequestEntity = {
    buildrequestid: r.id,
    buildsetid: r.buildsetid,
    builderid: r.builderid,
    priority: r.priority,
    claimed: r.claimed_by_masterid !== null,
    claimed_at: toSeconds(r.claimed_at),
    claimed_by_masterid: r.claimed_by_masterid,
    complete: r.complete === 1,
    complete_at: toSeconds(r.complete_at),
    results: r.results,
    submitted_at: toSeconds(r.submitted_at),
    waited_for: r.waited_for === 1,
    properties: null,
  };
  submittedMs.set(entity, Number(r.submitted_at));
  return entity;
}

export class BuildsetsData {
  constructor(private readonly ctx: DataContext) {}

  async add(
    input: BuildsetInput,
    options: BuildsetAddOptions = {},
  ): Promise<{ buildsetid: number; brids: Record<number, number> }> {
    const now = this.ctx.now();
    const result = await this.ctx.db.transaction().execute(async (trx) => {
      const bs = await trx
        .insertInto('buildsets')
        .values({
          external_idstring: input.externalIdstring ?? null,
          reason: input.reason,
          submitted_at: now,
          complete: 0,
          parent_buildid: input.parentBuildid ?? null,
          parent_relationship: input.parentRelationship ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      // The rows written come back from their inserts: the events need no read after.
      const stamps: SourcestampRow[] = [];
      let reusedStamps = false;
      for (const ss of input.sourcestamps) {
        if (ss.ssid !== undefined) {
          reusedStamps = true;
          await trx
            .insertInto('buildset_sourcestamps')
            .values({ buildsetid: bs.id, sourcestampid: ss.ssid })
            .execute();
          continue;
        }
        const row = await trx
          .insertInto('sourcestamps')
          .values({
            branch: ss.branch ?? null,
            revision: ss.revision ?? null,
            repository: ss.repository ?? '',
            project: ss.project ?? '',
            codebase: ss.codebase ?? '',
            created_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        stamps.push(row);
        await trx
          .insertInto('buildset_sourcestamps')
          .values({ buildsetid: bs.id, sourcestampid: row.id })
          .execute();
      }
      const props = Object.entries(input.properties);
      if (props.length > 0) {
        await trx
          .insertInto('buildset_properties')
          .values(
            props.map(([name, value]) => ({
              buildsetid: bs.id,
              property_name: name,
              property_value: JSON.stringify(value),
            })),
          )
          .execute();
      }
      const brids: Record<number, number> = {};
      const requests: BuildRequestRow[] = [];
      for (const builderid of input.builderids) {
        const br = await trx
          .insertInto('buildrequests')
          .values({
            buildsetid: bs.id,
            builderid,
            priority: input.priority ?? 0,
            complete: 0,
            submitted_at: now,
            waited_for: input.waitedFor === true ? 1 : 0,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        brids[builderid] = br.id;
        requests.push(br);
      }
      if (options.state) await compareAndSetIn(trx, options.state);
      const flush = options.flushClassified;
      if (flush && flush.changeids.length > 0) {
        const deleted = await trx
          .deleteFrom('scheduler_changes')
          .where('objectid', '=', flush.objectid)
          .where('changeid', 'in', flush.changeids)
          .executeTakeFirst();
        // Another run of the scheduler built them already: add nothing.
        if (Number(deleted.numDeletedRows) !== new Set(flush.changeids).size) {
          throw new StateConflictError(flush.objectid, 'scheduler_changes');
        }
      }
      return { buildsetid: bs.id, brids, bs, stamps, reusedStamps, requests };
    });
    const stamps = result.reusedStamps
      ? await this.sourcestamps(result.buildsetid)
      : result.stamps.sort((a, b) => a.id - b.id).map(toSourcestamp);
    this.ctx.bus.publish(
      ['buildsets', String(result.buildsetid), 'new'],
      toBuildset(result.bs, stamps),
    );
    for (const row of result.requests) this.publishRequest(toBuildRequest(row), 'new');
    return { buildsetid: result.buildsetid, brids: result.brids };
  }

  async get(bsid: number): Promise<BuildsetEntity | undefined> {
    const row = await this.ctx.db
      .selectFrom('buildsets')
      .selectAll()
      .where('id', '=', bsid)
      .executeTakeFirst();
    if (!row) return undefined;
    return toBuildset(row, await this.sourcestamps(bsid));
  }

  /** Buildsets with their source stamps: one query for the page, one for the count, one for the stamps. */
  async list(
    spec: ResultSpec,
    scope?: { bsid?: number },
  ): Promise<{ items: BuildsetEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom('buildsets');
    if (scope?.bsid !== undefined) base = base.where('id', '=', scope.bsid);
    base = applyFilters(base, BUILDSET_COLLECTION, spec);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), BUILDSET_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    const stamps = await this.sourcestampsOf(rows.map((r) => r.id));
    return {
      items: rows.map((r) => toBuildset(r, stamps.get(r.id) ?? [])),
      total: Number(count.n),
    };
  }

  async sourcestamps(bsid: number): Promise<SourceStampEntity[]> {
    return (await this.sourcestampsOf([bsid])).get(bsid) ?? [];
  }

  /** The source stamps of several buildsets in one query, each list in ssid order. */
  async sourcestampsOf(bsids: number[]): Promise<Map<number, SourceStampEntity[]>> {
    const out = new Map<number, SourceStampEntity[]>();
    if (bsids.length === 0) return out;
    const rows = await this.ctx.db
      .selectFrom('buildset_sourcestamps as bss')
      .innerJoin('sourcestamps as ss', 'ss.id', 'bss.sourcestampid')
      .selectAll('ss')
      .select('bss.buildsetid')
      .where('bss.buildsetid', 'in', bsids)
      .orderBy('ss.id')
      .execute();
    for (const r of rows) {
      let list = out.get(r.buildsetid);
      if (!list) out.set(r.buildsetid, (list = []));
      list.push(toSourcestamp(r));
    }
    return out;
  }

  /** Source stamps (Buildbot's `/sourcestamps`), filtered, ordered and paged in SQL. */
  async listSourcestamps(
    spec: ResultSpec,
    scope?: { ssid?: number },
  ): Promise<{ items: SourceStampEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom('sourcestamps');
    if (scope?.ssid !== undefined) base = base.where('id', '=', scope.ssid);
    base = applyFilters(base, SOURCESTAMP_COLLECTION, spec);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), SOURCESTAMP_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toSourcestamp), total: Number(count.n) };
  }

  async properties(bsid: number): Promise<PropertyMap> {
    return (await this.propertiesOf([bsid])).get(bsid) ?? {};
  }

  /** The properties of several buildsets in one query. */
  async propertiesOf(bsids: number[]): Promise<Map<number, PropertyMap>> {
    const out = new Map<number, PropertyMap>();
    if (bsids.length === 0) return out;
    const rows = await this.ctx.db
      .selectFrom('buildset_properties')
      .selectAll()
      .where('buildsetid', 'in', bsids)
      .execute();
    for (const r of rows) {
      let map = out.get(r.buildsetid);
      if (!map) out.set(r.buildsetid, (map = {}));
      map[r.property_name] = parseJson<[unknown, string]>(r.property_value, [null, '']);
    }
    return out;
  }

  // ---- build requests ----

  async getRequest(brid: number): Promise<BuildRequestEntity | undefined> {
    const row = await this.ctx.db
      .selectFrom('buildrequests')
      .selectAll()
      .where('id', '=', brid)
      .executeTakeFirst();
    return row ? toBuildRequest(row) : undefined;
  }

  /**
   * Build requests filtered, ordered and paged in SQL (one query for the page, one for the
   * count); with `spec.properties` their buildsets' properties in one more query.
   */
  async listRequests(
    spec: ResultSpec,
    scope?: { builderid?: number; buildrequestid?: number },
  ): Promise<{ items: BuildRequestEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom((eb) =>
      eb
        .selectFrom('buildrequests')
        .selectAll()
        .select(
          sql<number>`case when claimed_by_masterid is null then 0 else 1 end`.as('claimed_flag'),
        )
        .as('buildrequests'),
    );
    if (scope?.builderid !== undefined) base = base.where('builderid', '=', scope.builderid);
    if (scope?.buildrequestid !== undefined) base = base.where('id', '=', scope.buildrequestid);
    base = applyFilters(base, BUILDREQUEST_COLLECTION, spec);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), BUILDREQUEST_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    const items = rows.map(toBuildRequest);
    if (spec.properties.length > 0) {
      const props = await this.propertiesOf([...new Set(items.map((r) => r.buildsetid))]);
      for (const r of items) {
        const all = props.get(r.buildsetid) ?? {};
        const chosen = spec.properties.includes('*')
          ? all
          : Object.fromEntries(Object.entries(all).filter(([k]) => spec.properties.includes(k)));
        // As Buildbot: the field stays null when no property matches.
        if (Object.keys(chosen).length > 0) r.properties = chosen;
      }
    }
    return { items, total: Number(count.n) };
  }

  /** Pending requests in distribution order: priority, then oldest first. */
  async pendingRequests(
    builderids?: number[],
    limitPerBuilder?: number,
  ): Promise<BuildRequestEntity[]> {
    const base = () =>
      this.ctx.db
        .selectFrom('buildrequests')
        .selectAll()
        .where('complete', '=', 0)
        .where('claimed_by_masterid', 'is', null)
        .orderBy('priority', 'desc')
        .orderBy('submitted_at')
        .orderBy('id');
    if (builderids?.length === 0) return [];
    if (limitPerBuilder === undefined || builderids === undefined) {
      const q = builderids ? base().where('builderid', 'in', builderids) : base();
      return (await q.execute()).map(toBuildRequest);
    }
    // The head of each builder's queue only: a distribution pass costs the same with
    // 10 or 10,000 requests waiting (the queue index serves each query).
    const heads = await Promise.all(
      builderids.map((id) => base().where('builderid', '=', id).limit(limitPerBuilder).execute()),
    );
    return heads
      .flat()
      .map(toBuildRequest)
      .sort(
        (a, b) =>
          b.priority - a.priority ||
          (a.submitted_at ?? 0) - (b.submitted_at ?? 0) ||
          a.buildrequestid - b.buildrequestid,
      );
  }

  /** How many requests wait in each builder's queue (for metrics and latent workers). */
  async pendingCounts(): Promise<Map<number, number>> {
    const rows = await this.ctx.db
      .selectFrom('buildrequests')
      .select(['builderid', sql<number>`count(*)`.as('n')])
      .where('complete', '=', 0)
      .where('claimed_by_masterid', 'is', null)
      .groupBy('builderid')
      .execute();
    return new Map(rows.map((r) => [r.builderid, Number(r.n)]));
  }

  /** Requests `masterid` claimed and did not complete. */
  async claimedBy(masterid: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('buildrequests')
      .select('id')
      .where('claimed_by_masterid', '=', masterid)
      .where('complete', '=', 0)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Claims one request for `masterid`; false if another claim won. */
  async claim(brid: number, masterid: number): Promise<boolean> {
    const row = await this.ctx.db
      .updateTable('buildrequests')
      .set({ claimed_by_masterid: masterid, claimed_at: this.ctx.now() })
      .where('id', '=', brid)
      .where('claimed_by_masterid', 'is', null)
      .where('complete', '=', 0)
      .returningAll()
      .executeTakeFirst();
    if (row) this.publishRequest(toBuildRequest(row), 'claimed');
    return row !== undefined;
  }

  /**
   * Claims up to `limit` requests from the head of a builder's queue (priority, then
   * oldest) for `masterid`, in one statement, and returns them in queue order. On
   * PostgreSQL the head is read `FOR UPDATE SKIP LOCKED`, so masters claiming at the same
   * moment take different requests instead of queueing behind one another; on SQLite
   * the one writer at a time does the same. A request is claimed only if it is pending
   * when read (PostgreSQL re-checks a row's latest version as it locks it, and holds the
   * lock until the update commits; SQLite's update repeats the condition), so no request is
   * ever claimed twice.
   */
  async claimNext(
    builderid: number,
    limit: number,
    masterid: number,
  ): Promise<BuildRequestEntity[]> {
    if (limit <= 0) return [];
    const head = this.ctx.db
      .selectFrom('buildrequests')
      .select('id')
      .where('builderid', '=', builderid)
      .where('complete', '=', 0)
      .where('claimed_by_masterid', 'is', null)
      .orderBy('priority', 'desc')
      .orderBy('submitted_at')
      .orderBy('id')
      .limit(limit);
    const claimed_at = this.ctx.now();
    // PostgreSQL: the head is read once, as an `array(…)` init plan, and locked `FOR UPDATE
    // SKIP LOCKED` (as `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` PostgreSQL may run
    // the subquery again for each row and claim far more than n). The rows it returns are
    // pending and locked by this statement, so the update finds them by primary key only:
    // with the pending conditions repeated, stale statistics (a queue filled in a burst,
    // before autovacuum's next ANALYZE) made PostgreSQL walk every pending request and
    // compare each with the head, O(queue) per claim. SQLite has one writer at a time: the
    // same head read and update in one statement, conditional on the request being pending.
    const rows = isPostgres(this.ctx.db)
      ? await this.ctx.db
          .updateTable('buildrequests')
          .set({ claimed_by_masterid: masterid, claimed_at })
          .where(sql<boolean>`id = any(array(${head.forUpdate().skipLocked()}))`)
          .returningAll()
          .execute()
      : await this.ctx.db
          .with(
            (cte) => cte('head').materialized(),
            () => head,
          )
          .updateTable('buildrequests')
          .set({ claimed_by_masterid: masterid, claimed_at })
          .where('id', 'in', (eb) => eb.selectFrom('head').select('head.id'))
          .where('claimed_by_masterid', 'is', null)
          .where('complete', '=', 0)
          .returningAll()
          .execute();
    const claimed = rows
      .map(toBuildRequest)
      .sort(
        (a, b) =>
          b.priority - a.priority ||
          (a.submitted_at ?? 0) - (b.submitted_at ?? 0) ||
          a.buildrequestid - b.buildrequestid,
      );
    for (const br of claimed) this.publishRequest(br, 'claimed');
    return claimed;
  }

  /** Puts requests claimed by `masterid` back in the queue. */
  async unclaim(brids: number[], masterid: number): Promise<void> {
    if (brids.length === 0) return;
    const rows = await this.ctx.db
      .updateTable('buildrequests')
      .set({ claimed_by_masterid: null, claimed_at: null })
      .where('id', 'in', brids)
      .where('claimed_by_masterid', '=', masterid)
      .where('complete', '=', 0)
      .returningAll()
      .execute();
    for (const row of rows) this.publishRequest(toBuildRequest(row), 'unclaimed');
  }

  /**
   * Completes requests and, when a buildset's last request completes, the buildset. With
   * `claimedBy`, only requests still claimed by that master: a master that was expired
   * (fenced) must not complete requests now run by another.
   */
  async complete(
    brids: number[],
    results: Result,
    claimedBy?: number,
    /** Buildset id → its source stamps, when the caller has them (no read for the event). */
    known?: Map<number, SourceStampEntity[]>,
    /** The build that ran the request, ended (with `results`) in the same write. */
    build?: { buildid: number; state: string },
  ): Promise<void> {
    if (isPostgres(this.ctx.db)) {
      return this.completeInOneStatement(brids, results, claimedBy, known, build);
    }
    if (build) await new BuildsData(this.ctx).finish(build.buildid, results, build.state);
    if (brids.length === 0) return;
    const now = this.ctx.now();
    let update = this.ctx.db
      .updateTable('buildrequests')
      .set({ complete: 1, results, complete_at: now })
      .where('id', 'in', brids)
      .where('complete', '=', 0);
    if (claimedBy !== undefined) update = update.where('claimed_by_masterid', '=', claimedBy);
    const rows = await update.returningAll().execute();
    const bsids = new Set<number>();
    for (const row of rows) {
      bsids.add(row.buildsetid);
      this.publishRequest(toBuildRequest(row), 'complete');
    }
    for (const bsid of bsids) await this.maybeCompleteBuildset(bsid, known?.get(bsid));
  }

  /**
   * PostgreSQL: the requests' completion and their buildsets' in one statement (one round
   * trip instead of two). The buildset update runs on the statement's snapshot, where the
   * requests completed by the same statement still look pending, so it leaves them out by
   * id and takes their results from the CTE. Two masters completing a buildset's last two
   * requests at once would each see the other's still pending and neither complete it, so
   * a buildset that had another request pending is checked again after the commit, by
   * the same conditional statement as on SQLite: of the two, at least one sees both
   * complete. A buildset of one request (a force, a change on one builder) needs no second
   * statement.
   */
  private async completeInOneStatement(
    brids: number[],
    results: Result,
    claimedBy: number | undefined,
    known: Map<number, SourceStampEntity[]> | undefined,
    build: { buildid: number; state: string } | undefined,
  ): Promise<void> {
    if (brids.length === 0 && !build) return;
    const now = this.ctx.now();
    // The build's end: not conditional on the claim (a fenced master still ends the build
    // it ran, as before), only on the build not being ended already (by recovery, say).
    const buildCte = build
      ? sql`b as (update builds set results = ${results}, complete_at = ${now},
          state_string = ${build.state} where id = ${build.buildid} and complete_at is null
          returning *),`
      : sql``;
    // The conditions on `complete` and the claim are written `is not distinct from`, which
    // no index serves, so PostgreSQL finds the rows by primary key (and a buildset's
    // requests by buildsetid) whatever its statistics say: with `complete = 0` a queue
    // filled in a burst, before autovacuum's next ANALYZE, made it read every pending
    // request through the pending index instead (milliseconds per build at 2,000 pending).
    const fenced =
      claimedBy === undefined
        ? sql``
        : sql`and claimed_by_masterid is not distinct from ${claimedBy}`;
    const othersPending = sql`exists (select 1 from buildrequests o
        where o.buildsetid = bs.id and o.complete is not distinct from 0
          and o.id not in (select id from r))`;
    const result = await sql<{
      requests: BuildRequestRow[] | null;
      buildsets: BuildsetRow[] | null;
      recheck: number[] | null;
      build: BuildRow | null;
    }>`${
      // json results only, so the statement may be prepared (db/prepared-statements.ts)
      sql.raw(PREPARED)
    }with ${buildCte} r as (update buildrequests set complete = 1, results = ${results},
          complete_at = ${now}
          where id in (${brids.length > 0 ? sql.join(brids) : sql`null`})
            and complete is not distinct from 0 ${fenced}
          returning *),
        bs as (select id from buildsets where id in (select buildsetid from r) and complete = 0),
        s as (update buildsets set complete = 1, complete_at = ${now},
            results = (select case when results is null or results = ${Results.SKIPPED}
                then ${Results.SUCCESS} else results end
              from (select results from buildrequests o
                  where o.buildsetid = buildsets.id and o.id not in (select id from r)
                union all select results from r where r.buildsetid = buildsets.id) w
              order by ${WORST_FIRST} limit 1)
          from bs
          where buildsets.id = bs.id and buildsets.complete = 0 and not ${othersPending}
          returning buildsets.*)
      select (select json_agg(r) from r) as requests,
        (select json_agg(s) from s) as buildsets,
        (select json_agg(bs.id) from bs where ${othersPending}) as recheck,
        ${build ? sql`(select row_to_json(b) from b)` : sql`null`} as build`.execute(this.ctx.db);
    const first = result.rows[0];
    if (build) {
      const builds = new BuildsData(this.ctx);
      // Already ended (by recovery, say): publish what is stored, as `builds.finish` does.
      const row = first?.build;
      builds.publish(row ? toBuild(row) : await builds.get(build.buildid), 'finished');
    }
    for (const row of first?.requests ?? []) this.publishRequest(toBuildRequest(row), 'complete');
    for (const row of first?.buildsets ?? []) {
      this.ctx.bus.publish(
        ['buildsets', String(row.id), 'complete'],
        toBuildset(row, known?.get(row.id) ?? (await this.sourcestamps(row.id))),
      );
    }
    for (const bsid of first?.recheck ?? [])
      await this.maybeCompleteBuildset(bsid, known?.get(bsid));
  }

  /** Buildbot's event paths for a build request: in its buildset, by id, by builder. */
  private publishRequest(br: BuildRequestEntity | undefined, event: string): void {
    if (!br) return;
    const id = String(br.buildrequestid);
    const builderid = String(br.builderid);
    this.ctx.bus.publishAll(
      [
        ['buildsets', String(br.buildsetid), 'builders', builderid, 'buildrequests', id, event],
        ['buildrequests', id, event],
        ['builders', builderid, 'buildrequests', id, event],
      ],
      br,
    );
  }

  /**
   * Completes the buildset if none of its requests is pending, with the worst of their
   * results (Buildbot's worst_status, from SUCCESS: SKIPPED alone gives SUCCESS), in one
   * conditional statement. Run after the request's own write committed, so of two
   * masters completing a buildset's last two requests at once at least one sees both
   * complete, and `complete = 0` lets only one of them write it.
   */
  private async maybeCompleteBuildset(
    bsid: number,
    sourcestamps?: SourceStampEntity[],
  ): Promise<void> {
    const row = await this.ctx.db
      .updateTable('buildsets')
      .set({
        complete: 1,
        complete_at: this.ctx.now(),
        results: sql<number>`(select case when results is null or results = ${Results.SKIPPED}
            then ${Results.SUCCESS} else results end
          from buildrequests where buildsetid = ${bsid}
          order by ${WORST_FIRST} limit 1)`,
      })
      .where('id', '=', bsid)
      .where('complete', '=', 0)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('buildrequests')
              .select('id')
              .where('buildsetid', '=', bsid)
              .where('complete', '=', 0),
          ),
        ),
      )
      .returningAll()
      .executeTakeFirst();
    if (row) {
      this.ctx.bus.publish(
        ['buildsets', String(bsid), 'complete'],
        toBuildset(row, sourcestamps ?? (await this.sourcestamps(bsid))),
      );
    }
  }
}

/** Buildbot's severity order (results.ts SEVERITY), most severe first, as an ORDER BY. */
const WORST_FIRST = sql`case results
  when ${Results.CANCELLED} then 6 when ${Results.RETRY} then 5 when ${Results.EXCEPTION} then 4
  when ${Results.FAILURE} then 3 when ${Results.WARNINGS} then 2 when ${Results.SUCCESS} then 1
  when ${Results.SKIPPED} then 0 else 1 end desc`;
