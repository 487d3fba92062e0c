/**
 * Changes (commits seen by change sources), read for the REST API as Buildbot's Data API
 * shows them. The schema keeps one row per change with its source stamp; files, parents and
 * change properties are not stored yet, so those fields are empty.
 */
import { sql } from 'kysely';
import type { DataContext } from './context.js';
import { toSeconds } from './context.js';
import { applyFilters, applyOrderAndPage, type CollectionDef } from './query.js';
import type { ResultSpec } from './result-spec.js';
import type { PropertyMap, SourceStampEntity } from './buildsets.js';

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
    scope?: { changeid?: number; ssid?: number; buildid?: number },
  ): Promise<{ items: ChangeEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom('changes');
    if (scope?.changeid !== undefined) base = base.where('changeid', '=', scope.changeid);
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
    const items = rows.map((r): ChangeEntity => {
      const ss = byId.get(r.sourcestampid);
      return {
        changeid: r.changeid,
        parent_changeids: [],
        author: r.author,
        committer: r.committer,
        files: [],
        comments: r.comments,
        revision: r.revision,
        when_timestamp: toSeconds(r.when_timestamp),
        branch: r.branch,
        category: r.category,
        revlink: r.revlink,
        properties: {},
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
}
