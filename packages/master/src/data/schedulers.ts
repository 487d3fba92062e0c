/**
 * What schedulers store between a change and the build it starts (Buildbot's
 * `scheduler_changes`): the changes a scheduler classified as important or not while its
 * tree-stable timer runs, and the buildsets other schedulers made (for `dependent`).
 *
 * `classify` writes the classifications and the scheduler's "last handled change" state
 * in one transaction (compare-and-set), so a change is classified once even when the
 * scheduler restarts or moves to another master; `buildsets.add(…, { flushClassified })`
 * forgets them in the transaction that builds them.
 */
import { sql } from 'kysely';
import type { DataContext } from './context.js';
import { parseJson } from './context.js';
import { compareAndSetIn, type StateUpdate } from './state.js';
import type { Result } from '../results.js';

export interface UpstreamBuildset {
  bsid: number;
  complete: boolean;
  results: Result | null;
  ssids: number[];
}

export class SchedulersData {
  constructor(private readonly ctx: DataContext) {}

  /** Records changes as important or not, with a compare-and-set of the scheduler's state. */
  async classify(
    objectid: number,
    entries: { changeid: number; important: boolean }[],
    state?: StateUpdate,
  ): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      if (entries.length > 0) {
        await trx
          .insertInto('scheduler_changes')
          .values(
            entries.map((e) => ({
              objectid,
              changeid: e.changeid,
              important: e.important ? 1 : 0,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['objectid', 'changeid']).doUpdateSet((eb) => ({
              important: eb.ref('excluded.important'),
            })),
          )
          .execute();
      }
      if (state) await compareAndSetIn(trx, state);
    });
  }

  /** The classified changes of a scheduler: changeid → important, in changeid order. */
  async classifications(objectid: number): Promise<Map<number, boolean>> {
    const rows = await this.ctx.db
      .selectFrom('scheduler_changes')
      .select(['changeid', 'important'])
      .where('objectid', '=', objectid)
      .orderBy('changeid')
      .execute();
    return new Map(rows.map((r) => [r.changeid, r.important === 1]));
  }

  /** Forgets classified changes (all, or those below `lessThan`). */
  async flush(objectid: number, lessThan?: number): Promise<void> {
    let query = this.ctx.db.deleteFrom('scheduler_changes').where('objectid', '=', objectid);
    if (lessThan !== undefined) query = query.where('changeid', '<', lessThan);
    await query.execute();
  }

  /** The highest buildset id so far (0 when there is none). */
  async lastBuildsetid(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('buildsets')
      .select(sql<number | null>`max(id)`.as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Buildsets above `afterBsid` whose `scheduler` property names `scheduler`, oldest
   * first, with their source stamp ids (for `dependent`).
   */
  async buildsetsOf(scheduler: string, afterBsid: number): Promise<UpstreamBuildset[]> {
    const rows = await this.ctx.db
      .selectFrom('buildsets as bs')
      .innerJoin('buildset_properties as p', 'p.buildsetid', 'bs.id')
      .select(['bs.id', 'bs.complete', 'bs.results', 'p.property_value'])
      .where('bs.id', '>', afterBsid)
      .where('p.property_name', '=', 'scheduler')
      .orderBy('bs.id')
      .execute();
    const mine = rows.filter(
      (r) => parseJson<[unknown, string]>(r.property_value, [null, ''])[0] === scheduler,
    );
    if (mine.length === 0) return [];
    const stamps = await this.ctx.db
      .selectFrom('buildset_sourcestamps')
      .select(['buildsetid', 'sourcestampid'])
      .where(
        'buildsetid',
        'in',
        mine.map((r) => r.id),
      )
      .orderBy('sourcestampid')
      .execute();
    return mine.map((r) => ({
      bsid: r.id,
      complete: r.complete === 1,
      results: r.results as Result | null,
      ssids: stamps.filter((s) => s.buildsetid === r.id).map((s) => s.sourcestampid),
    }));
  }
}
