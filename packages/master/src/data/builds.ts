/**
 * Builds and their properties. Build numbers count per builder from 1.
 *
 * State: the builds this instance is numbering, per builder. A master starts the builds
 * of one claim pass together; numbered at the same moment they would all compute the same
 * `max(number) + 1` and all but one clash and retry, so this instance numbers one build
 * of a builder at a time (other masters may still clash, and retry).
 */
import { sql } from 'kysely';
import type { DataContext } from './context.js';
import { parseJson, toSeconds } from './context.js';
import type { Result } from '../results.js';
import { applyFilters, applyOrderAndPage, type CollectionDef } from './query.js';
import type { ResultSpec } from './result-spec.js';
import type { PropertyMap } from './buildsets.js';
import { isUniqueViolation } from './transient.js';

/** Properties per statement: 4 parameters each, far below SQLite's and PostgreSQL's limits. */
const PROPERTY_BATCH = 200;

export interface BuildEntity {
  buildid: number;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number | null;
  masterid: number;
  started_at: number | null;
  complete_at: number | null;
  complete: boolean;
  state_string: string;
  results: number | null;
  properties: PropertyMap;
}

export const BUILD_COLLECTION: CollectionDef = {
  name: 'builds',
  defaultOrder: { column: 'id', descending: false },
  fields: {
    buildid: { column: 'id', type: 'number' },
    number: { column: 'number', type: 'number' },
    builderid: { column: 'builderid', type: 'number' },
    buildrequestid: { column: 'buildrequestid', type: 'number' },
    workerid: { column: 'workerid', type: 'number' },
    masterid: { column: 'masterid', type: 'number' },
    started_at: { column: 'started_at', type: 'timestamp' },
    complete_at: { column: 'complete_at', type: 'timestamp' },
    results: { column: 'results', type: 'number' },
    state_string: { column: 'state_string', type: 'string' },
    complete: { column: 'complete_flag', type: 'boolean' },
  },
};

export type BuildRow = {
  id: number;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number | null;
  masterid: number;
  started_at: number;
  complete_at: number | null;
  state_string: string;
  results: number | null;
};

export function toBuild(r: BuildRow): BuildEntity {
  return {
    buildid: r.id,
    number: r.number,
    builderid: r.builderid,
    buildrequestid: r.buildrequestid,
    workerid: r.workerid,
    masterid: r.masterid,
    started_at: toSeconds(r.started_at),
    complete_at: toSeconds(r.complete_at),
    complete: r.complete_at !== null,
    state_string: r.state_string,
    results: r.results,
    properties: {},
  };
}

export class BuildsData {
  /** Builder id → the end of its queue of `add`s in this instance. */
  private readonly numbering = new Map<number, Promise<unknown>>();

  constructor(private readonly ctx: DataContext) {}

  /**
   * Adds a build row with the next number of its builder, in one statement (`insert …
   * select max(number) + 1 … returning *`). Two masters numbering the same builder at
   * the same moment collide on the unique (builderid, number): the loser tries again.
   */
  async add(input: {
    builderid: number;
    buildrequestid: number;
    workerid: number | null;
    masterid: number;
    state: string;
  }): Promise<{ buildid: number; number: number }> {
    const previous = this.numbering.get(input.builderid) ?? Promise.resolve();
    const added = previous.then(
      () => this.insertNumbered(input),
      () => this.insertNumbered(input),
    );
    const tail = added.catch(() => undefined);
    this.numbering.set(input.builderid, tail);
    void tail.then(() => {
      if (this.numbering.get(input.builderid) === tail) this.numbering.delete(input.builderid);
    });
    return added;
  }

  private async insertNumbered(input: {
    builderid: number;
    buildrequestid: number;
    workerid: number | null;
    masterid: number;
    state: string;
  }): Promise<{ buildid: number; number: number }> {
    const now = this.ctx.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await this.ctx.db
          .insertInto('builds')
          .columns([
            'number',
            'builderid',
            'buildrequestid',
            'workerid',
            'masterid',
            'started_at',
            'state_string',
          ])
          .expression((eb) =>
            eb
              .selectFrom('builds')
              .select([
                sql<number>`coalesce(max(number), 0) + 1`.as('number'),
                sql<number>`${input.builderid}`.as('builderid'),
                sql<number>`${input.buildrequestid}`.as('buildrequestid'),
                sql<number | null>`${input.workerid}`.as('workerid'),
                sql<number>`${input.masterid}`.as('masterid'),
                sql<number>`${now}`.as('started_at'),
                sql<string>`${input.state}`.as('state_string'),
              ])
              .where('builderid', '=', input.builderid),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        this.publish(toBuild(row), 'new');
        return { buildid: row.id, number: row.number };
      } catch (error) {
        if (attempt >= 5 || !isUniqueViolation(error)) throw error;
      }
    }
  }

  async setState(buildid: number, state: string): Promise<void> {
    const row = await this.ctx.db
      .updateTable('builds')
      .set({ state_string: state })
      .where('id', '=', buildid)
      .returningAll()
      .executeTakeFirst();
    if (row) this.publish(toBuild(row), 'update');
  }

  async finish(buildid: number, results: Result, state: string): Promise<void> {
    const row = await this.ctx.db
      .updateTable('builds')
      .set({ results, complete_at: this.ctx.now(), state_string: state })
      .where('id', '=', buildid)
      .where('complete_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    // Already finished (by recovery, say): publish what is stored, as before.
    this.publish(row ? toBuild(row) : await this.get(buildid), 'finished');
  }

  /**
   * Stores properties (insert or replace by name) in one statement per 200 of them: a
   * build writes its ~15 properties at its start and, at its end, only those that changed.
   */
  async setProperties(buildid: number, props: PropertyMap): Promise<void> {
    const entries = Object.entries(props);
    for (let start = 0; start < entries.length; start += PROPERTY_BATCH) {
      await this.ctx.db
        .insertInto('build_properties')
        .values(
          entries.slice(start, start + PROPERTY_BATCH).map(([name, [value, source]]) => ({
            buildid,
            name,
            value: JSON.stringify(value ?? null),
            source,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['buildid', 'name']).doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            source: eb.ref('excluded.source'),
          })),
        )
        .execute();
    }
  }

  async properties(buildids: number[]): Promise<Map<number, PropertyMap>> {
    const out = new Map<number, PropertyMap>();
    if (buildids.length === 0) return out;
    const rows = await this.ctx.db
      .selectFrom('build_properties')
      .selectAll()
      .where('buildid', 'in', buildids)
      .execute();
    for (const r of rows) {
      let map = out.get(r.buildid);
      if (!map) out.set(r.buildid, (map = {}));
      map[r.name] = [parseJson<unknown>(r.value, null), r.source];
    }
    return out;
  }

  /** Builds a master started and never finished (it crashed or was killed). */
  async unfinishedOf(masterid: number): Promise<BuildEntity[]> {
    const rows = await this.ctx.db
      .selectFrom('builds')
      .selectAll()
      .where('masterid', '=', masterid)
      .where('complete_at', 'is', null)
      .execute();
    return rows.map(toBuild);
  }

  async get(buildid: number): Promise<BuildEntity | undefined> {
    const row = await this.ctx.db
      .selectFrom('builds')
      .selectAll()
      .where('id', '=', buildid)
      .executeTakeFirst();
    return row ? toBuild(row) : undefined;
  }

  async list(
    spec: ResultSpec,
    scope?: {
      builderid?: number;
      buildrequestid?: number;
      number?: number;
      workerid?: number;
      buildid?: number;
    },
  ): Promise<{ items: BuildEntity[]; total: number }> {
    let base = this.ctx.db.selectFrom((eb) =>
      eb
        .selectFrom('builds')
        .selectAll()
        .select(sql<number>`case when complete_at is null then 0 else 1 end`.as('complete_flag'))
        .as('builds'),
    );
    if (scope?.builderid !== undefined) base = base.where('builderid', '=', scope.builderid);
    if (scope?.buildrequestid !== undefined)
      base = base.where('buildrequestid', '=', scope.buildrequestid);
    if (scope?.number !== undefined) base = base.where('number', '=', scope.number);
    if (scope?.workerid !== undefined) base = base.where('workerid', '=', scope.workerid);
    if (scope?.buildid !== undefined) base = base.where('id', '=', scope.buildid);
    base = applyFilters(base, BUILD_COLLECTION, spec);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), BUILD_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    const items = rows.map(toBuild);
    if (spec.properties.length > 0) {
      const props = await this.properties(items.map((b) => b.buildid));
      for (const b of items) {
        const all = props.get(b.buildid) ?? {};
        b.properties = spec.properties.includes('*')
          ? all
          : Object.fromEntries(Object.entries(all).filter(([k]) => spec.properties.includes(k)));
      }
    }
    return { items, total: Number(count.n) };
  }

  /** Buildbot's event paths for a build: by id, by builder and number, by worker. */
  publish(build: BuildEntity | undefined, event: string): void {
    if (!build) return;
    const keys = [
      ['builders', String(build.builderid), 'builds', String(build.number), event],
      ['builds', String(build.buildid), event],
    ];
    if (build.workerid !== null) {
      keys.push(['workers', String(build.workerid), 'builds', String(build.buildid), event]);
    }
    this.ctx.bus.publishAll(keys, build);
  }
}
