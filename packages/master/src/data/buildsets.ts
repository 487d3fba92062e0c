/**
 * Buildsets, their source stamps and properties, and the build requests they make.
 *
 * A build request is pending while `complete = 0` and `claimed_by_masterid IS NULL`.
 * Claiming is one conditional UPDATE, so two masters (or two loops of one) can never
 * both start the same request. A buildset completes when its last request does, with
 * the worst of their results.
 */
import { sql } from 'kysely';
import type { DataContext } from './context.js';
import { parseJson, toSeconds } from './context.js';
import { Results, worstResult, type Result } from '../results.js';
import { applyFilters, applyOrderAndPage, type CollectionDef } from './query.js';
import type { ResultSpec } from './result-spec.js';

export interface SourceStampInput {
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
  properties: null;
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
    waited_for: { column: 'waited_for', type: 'boolean' },
  },
};

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

function toBuildRequest(r: BuildRequestRow): BuildRequestEntity {
  return {
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
}

export class BuildsetsData {
  constructor(private readonly ctx: DataContext) {}

  async add(input: BuildsetInput): Promise<{ buildsetid: number; brids: Record<number, number> }> {
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
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const ss of input.sourcestamps) {
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
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx.insertInto('buildset_sourcestamps').values({ buildsetid: bs.id, sourcestampid: row.id }).execute();
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
      for (const builderid of input.builderids) {
        const br = await trx
          .insertInto('buildrequests')
          .values({
            buildsetid: bs.id,
            builderid,
            priority: input.priority ?? 0,
            complete: 0,
            submitted_at: now,
            waited_for: 0,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        brids[builderid] = br.id;
      }
      return { buildsetid: bs.id, brids };
    });
    this.ctx.bus.publish(['buildsets', String(result.buildsetid), 'new'], await this.get(result.buildsetid));
    for (const brid of Object.values(result.brids)) {
      const br = await this.getRequest(brid);
      if (br) this.ctx.bus.publish(['buildrequests', String(brid), 'new'], br);
    }
    return result;
  }

  async get(bsid: number): Promise<BuildsetEntity | undefined> {
    const row = await this.ctx.db.selectFrom('buildsets').selectAll().where('id', '=', bsid).executeTakeFirst();
    if (!row) return undefined;
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
      sourcestamps: await this.sourcestamps(bsid),
    };
  }

  async list(spec: ResultSpec): Promise<BuildsetEntity[]> {
    let q = this.ctx.db.selectFrom('buildsets').select('id');
    q = applyOrderAndPage(
      q,
      { name: 'buildsets', defaultOrder: { column: 'id', descending: false }, fields: { bsid: { column: 'id', type: 'number' } } },
      spec,
    );
    const ids = await q.execute();
    const out: BuildsetEntity[] = [];
    for (const { id } of ids) {
      const bs = await this.get(id);
      if (bs) out.push(bs);
    }
    return out;
  }

  async sourcestamps(bsid: number): Promise<SourceStampEntity[]> {
    const rows = await this.ctx.db
      .selectFrom('buildset_sourcestamps as bss')
      .innerJoin('sourcestamps as ss', 'ss.id', 'bss.sourcestampid')
      .selectAll('ss')
      .where('bss.buildsetid', '=', bsid)
      .orderBy('ss.id')
      .execute();
    return rows.map((r) => ({
      ssid: r.id,
      branch: r.branch,
      revision: r.revision,
      repository: r.repository,
      project: r.project,
      codebase: r.codebase,
      created_at: toSeconds(r.created_at),
      patch: null,
    }));
  }

  async properties(bsid: number): Promise<PropertyMap> {
    const rows = await this.ctx.db
      .selectFrom('buildset_properties')
      .selectAll()
      .where('buildsetid', '=', bsid)
      .execute();
    const out: PropertyMap = {};
    for (const r of rows) out[r.property_name] = parseJson<[unknown, string]>(r.property_value, [null, '']);
    return out;
  }

  // ---- build requests ----

  async getRequest(brid: number): Promise<BuildRequestEntity | undefined> {
    const row = await this.ctx.db.selectFrom('buildrequests').selectAll().where('id', '=', brid).executeTakeFirst();
    return row ? toBuildRequest(row) : undefined;
  }

  async listRequests(spec: ResultSpec, extra?: { builderid?: number }): Promise<{ items: BuildRequestEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom('buildrequests');
    if (extra?.builderid !== undefined) base = base.where('builderid', '=', extra.builderid);
    base = applyFilters(base, BUILDREQUEST_COLLECTION, spec);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), BUILDREQUEST_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toBuildRequest), total: Number(count.n) };
  }

  /** Pending requests in distribution order: priority, then oldest first. */
  async pendingRequests(builderids?: number[]): Promise<BuildRequestEntity[]> {
    let q = this.ctx.db
      .selectFrom('buildrequests')
      .selectAll()
      .where('complete', '=', 0)
      .where('claimed_by_masterid', 'is', null);
    if (builderids) {
      if (builderids.length === 0) return [];
      q = q.where('builderid', 'in', builderids);
    }
    const rows = await q.orderBy('priority', 'desc').orderBy('submitted_at').orderBy('id').execute();
    return rows.map(toBuildRequest);
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
    const result = await this.ctx.db
      .updateTable('buildrequests')
      .set({ claimed_by_masterid: masterid, claimed_at: this.ctx.now() })
      .where('id', '=', brid)
      .where('claimed_by_masterid', 'is', null)
      .where('complete', '=', 0)
      .executeTakeFirst();
    const won = Number(result.numUpdatedRows) === 1;
    if (won) {
      const br = await this.getRequest(brid);
      this.ctx.bus.publish(['buildrequests', String(brid), 'claimed'], br);
    }
    return won;
  }

  /** Puts requests claimed by `masterid` back in the queue. */
  async unclaim(brids: number[], masterid: number): Promise<void> {
    if (brids.length === 0) return;
    await this.ctx.db
      .updateTable('buildrequests')
      .set({ claimed_by_masterid: null, claimed_at: null })
      .where('id', 'in', brids)
      .where('claimed_by_masterid', '=', masterid)
      .where('complete', '=', 0)
      .execute();
    for (const brid of brids) {
      this.ctx.bus.publish(['buildrequests', String(brid), 'unclaimed'], await this.getRequest(brid));
    }
  }

  /** Completes requests and, when a buildset's last request completes, the buildset. */
  async complete(brids: number[], results: Result): Promise<void> {
    if (brids.length === 0) return;
    const now = this.ctx.now();
    await this.ctx.db
      .updateTable('buildrequests')
      .set({ complete: 1, results, complete_at: now })
      .where('id', 'in', brids)
      .where('complete', '=', 0)
      .execute();
    const bsids = new Set<number>();
    for (const brid of brids) {
      const br = await this.getRequest(brid);
      if (!br) continue;
      bsids.add(br.buildsetid);
      this.ctx.bus.publish(['buildrequests', String(brid), 'complete'], br);
    }
    for (const bsid of bsids) await this.maybeCompleteBuildset(bsid);
  }

  private async maybeCompleteBuildset(bsid: number): Promise<void> {
    const requests = await this.ctx.db
      .selectFrom('buildrequests')
      .select(['complete', 'results'])
      .where('buildsetid', '=', bsid)
      .execute();
    if (requests.some((r) => r.complete === 0)) return;
    const results = requests.reduce<Result>(
      (acc, r) => worstResult(acc, (r.results ?? Results.SUCCESS) as Result),
      Results.SUCCESS,
    );
    const updated = await this.ctx.db
      .updateTable('buildsets')
      .set({ complete: 1, complete_at: this.ctx.now(), results })
      .where('id', '=', bsid)
      .where('complete', '=', 0)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 1) {
      this.ctx.bus.publish(['buildsets', String(bsid), 'complete'], await this.get(bsid));
    }
  }
}
