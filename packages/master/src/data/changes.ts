/**
 * Changes (commits seen by change sources and change hooks): added with their files,
 * properties and parent, and read for the REST API and the schedulers as Buildbot's Data
 * API shows them.
 *
 * `add` writes a batch of changes, each with its own source stamp, in one transaction,
 * optionally with a compare-and-set of the change source's state (its last seen
 * revisions), so "found these commits" and "seen up to here" are stored together or not
 * at all: a restart never adds a change twice nor loses one. `changes/<id>/new` is
 * published after the commit, in changeid order.
 */
import { sql } from 'kysely';
import type { DataContext } from './context.js';
import { parseJson, toSeconds } from './context.js';
import { applyFilters, applyOrderAndPage, type CollectionDef } from './query.js';
import { EMPTY_SPEC, type ResultSpec } from './result-spec.js';
import type { PropertyMap, SourceStampEntity } from './buildsets.js';
import { compareAndSetIn, type StateUpdate } from './state.js';

/** A change to add (Buildbot's `addChange` arguments). Times are epoch milliseconds. */
export interface ChangeInput {
  author: string;
  committer?: string | null;
  comments?: string;
  revision?: string | null;
  branch?: string | null;
  category?: string | null;
  revlink?: string | null;
  repository?: string;
  project?: string;
  codebase?: string;
  files?: string[];
  /** Stored with source `Change`, as Buildbot does. */
  properties?: Record<string, unknown>;
  /** Default: now. */
  whenTimestamp?: number | null;
}

export interface ChangeEntity {
  changeid: number;
  parent_changeids: number[];
  author: string;
  committer: string | null;
  files: string[];
  comments: string;
  revision: string | null;
  when_timestamp: number | null;
  branch: string | null;
  category: string | null;
  revlink: string | null;
  properties: PropertyMap;
  repository: string;
  project: string;
  codebase: string;
  sourcestamp: SourceStampEntity;
}

export const CHANGE_COLLECTION: CollectionDef = {
  name: 'changes',
  defaultOrder: { column: 'changeid', descending: false },
  fields: {
    changeid: { column: 'changeid', type: 'number' },
    author: { column: 'author', type: 'string' },
    committer: { column: 'committer', type: 'string' },
    comments: { column: 'comments', type: 'string' },
    revision: { column: 'revision', type: 'string' },
    when_timestamp: { column: 'when_timestamp', type: 'timestamp' },
    branch: { column: 'branch', type: 'string' },
    category: { column: 'category', type: 'string' },
    revlink: { column: 'revlink', type: 'string' },
    repository: { column: 'repository', type: 'string' },
    project: { column: 'project', type: 'string' },
    codebase: { column: 'codebase', type: 'string' },
  },
};

export class ChangesData {
  constructor(private readonly ctx: DataContext) {}

  /**
   * Changes filtered, ordered and paged in SQL, each joined with its source stamp.
   * Scopes: one change, the changes of a source stamp, or those of a build (through its
   * build request's buildset and that buildset's source stamps).
   */
  async list(
    spec: ResultSpec,
    scope?: { changeid?: number; ssid?: number; buildid?: number; afterChangeid?: number },
  ): Promise<{ items: ChangeEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom('changes');
    if (scope?.changeid !== undefined) base = base.where('changeid', '=', scope.changeid);
    if (scope?.afterChangeid !== undefined) base = base.where('changeid', '>', scope.afterChangeid);
    if (scope?.ssid !== undefined) base = base.where('sourcestampid', '=', scope.ssid);
    if (scope?.buildid !== undefined) {
      const buildid = scope.buildid;
      base = base.where('sourcestampid', 'in', (eb) =>
        eb
          .selectFrom('buildset_sourcestamps as bss')
          .innerJoin('buildrequests as br', 'br.buildsetid', 'bss.buildsetid')
          .innerJoin('builds as b', 'b.buildrequestid', 'br.id')
          .select('bss.sourcestampid')
          .where('b.id', '=', buildid),
      );
    }
    base = applyFilters(base, CHANGE_COLLECTION, spec);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), CHANGE_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    const ssids = [...new Set(rows.map((r) => r.sourcestampid))];
    const stamps =
      ssids.length === 0
        ? []
        : await this.ctx.db
            .selectFrom('sourcestamps')
            .selectAll()
            .where('id', 'in', ssids)
            .execute();
    const byId = new Map(stamps.map((s) => [s.id, s]));
    const { files, properties } = await this.detailsOf(rows.map((r) => r.changeid));
    const items = rows.map((r): ChangeEntity => {
      const ss = byId.get(r.sourcestampid);
      return {
        changeid: r.changeid,
        parent_changeids: r.parent_changeids === null ? [] : [r.parent_changeids],
        author: r.author,
        committer: r.committer,
        files: files.get(r.changeid) ?? [],
        comments: r.comments,
        revision: r.revision,
        when_timestamp: toSeconds(r.when_timestamp),
        branch: r.branch,
        category: r.category,
        revlink: r.revlink,
        properties: properties.get(r.changeid) ?? {},
        repository: r.repository,
        project: r.project,
        codebase: r.codebase,
        sourcestamp: {
          ssid: r.sourcestampid,
          branch: ss?.branch ?? null,
          revision: ss?.revision ?? null,
          repository: ss?.repository ?? '',
          project: ss?.project ?? '',
          codebase: ss?.codebase ?? '',
          created_at: toSeconds(ss?.created_at ?? null),
          patch: null,
        },
      };
    });
    return { items, total: Number(count.n) };
  }

  /** The files and properties of some changes, two queries for all of them. */
  private async detailsOf(
    changeids: number[],
  ): Promise<{ files: Map<number, string[]>; properties: Map<number, PropertyMap> }> {
    const files = new Map<number, string[]>();
    const properties = new Map<number, PropertyMap>();
    if (changeids.length === 0) return { files, properties };
    const [fileRows, propertyRows] = await Promise.all([
      this.ctx.db
        .selectFrom('change_files')
        .selectAll()
        .where('changeid', 'in', changeids)
        .execute(),
      this.ctx.db
        .selectFrom('change_properties')
        .selectAll()
        .where('changeid', 'in', changeids)
        .execute(),
    ]);
    for (const row of fileRows) {
      let list = files.get(row.changeid);
      if (!list) files.set(row.changeid, (list = []));
      list.push(row.filename);
    }
    for (const row of propertyRows) {
      let map = properties.get(row.changeid);
      if (!map) properties.set(row.changeid, (map = {}));
      map[row.property_name] = parseJson<[unknown, string]>(row.property_value, [null, 'Change']);
    }
    return { files, properties };
  }

  /** One change, or undefined. */
  async get(changeid: number): Promise<ChangeEntity | undefined> {
    return (await this.list(EMPTY_SPEC, { changeid })).items[0];
  }

  /** Changes with an id above `changeid`, oldest first, at most `limit`. */
  async after(changeid: number, limit: number): Promise<ChangeEntity[]> {
    return (await this.list({ ...EMPTY_SPEC, limit }, { afterChangeid: changeid })).items;
  }

  /** The builds of a change: those whose buildset has the change's source stamp. */
  async buildidsOf(changeid: number): Promise<number[]> {
    const rows = await this.ctx.db
      .selectFrom('changes as c')
      .innerJoin('buildset_sourcestamps as bss', 'bss.sourcestampid', 'c.sourcestampid')
      .innerJoin('buildrequests as br', 'br.buildsetid', 'bss.buildsetid')
      .innerJoin('builds as b', 'b.buildrequestid', 'br.id')
      .select('b.id')
      .where('c.changeid', '=', changeid)
      .orderBy('b.id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** The highest change id so far (0 when there is none). */
  async lastChangeid(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('changes')
      .select(sql<number | null>`max(changeid)`.as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Adds changes (in order, each with its own source stamp) and, with `state`, sets the
   * change source's state in the same transaction; a StateConflictError from `state`
   * adds nothing. Returns the new change ids.
   */
  async add(inputs: ChangeInput[], state?: StateUpdate): Promise<number[]> {
    const now = this.ctx.now();
    const changeids = await this.ctx.db.transaction().execute(async (trx) => {
      const ids: number[] = [];
      for (const input of inputs) {
        const branch = input.branch ?? null;
        const repository = input.repository ?? '';
        const project = input.project ?? '';
        const codebase = input.codebase ?? '';
        const revision = input.revision ?? null;
        const ss = await trx
          .insertInto('sourcestamps')
          .values({ branch, revision, repository, project, codebase, created_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
        let parentQuery = trx
          .selectFrom('changes')
          .select(sql<number | null>`max(changeid)`.as('n'))
          .where('repository', '=', repository)
          .where('project', '=', project)
          .where('codebase', '=', codebase);
        parentQuery =
          branch === null
            ? parentQuery.where('branch', 'is', null)
            : parentQuery.where('branch', '=', branch);
        const parent = await parentQuery.executeTakeFirst();
        const change = await trx
          .insertInto('changes')
          .values({
            author: input.author,
            committer: input.committer ?? null,
            comments: input.comments ?? '',
            branch,
            revision,
            revlink: input.revlink ?? null,
            when_timestamp: input.whenTimestamp ?? now,
            category: input.category ?? null,
            repository,
            codebase,
            project,
            sourcestampid: ss.id,
            parent_changeids: parent?.n == null ? null : Number(parent.n),
          })
          .returning('changeid')
          .executeTakeFirstOrThrow();
        const files = [...new Set(input.files ?? [])];
        if (files.length > 0) {
          await trx
            .insertInto('change_files')
            .values(files.map((filename) => ({ changeid: change.changeid, filename })))
            .execute();
        }
        const properties = Object.entries(input.properties ?? {});
        if (properties.length > 0) {
          await trx
            .insertInto('change_properties')
            .values(
              properties.map(([name, value]) => ({
                changeid: change.changeid,
                property_name: name,
                property_value: JSON.stringify([value ?? null, 'Change']),
              })),
            )
            .execute();
        }
        ids.push(change.changeid);
      }
      if (state) await compareAndSetIn(trx, state);
      return ids;
    });
    for (const changeid of changeids) {
      const change = await this.get(changeid);
      if (change) this.ctx.bus.publish(['changes', String(changeid), 'new'], change);
    }
    return changeids;
  }
}
