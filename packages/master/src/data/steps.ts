/** Steps of a build, numbered from 0 in the order they are added. */
import { sql } from 'kysely';
import { PREPARED } from '../db/prepared-statements.js';
import type { DataContext } from './context.js';
import { isPostgres, parseJson, toSeconds } from './context.js';
import { LogsData, toLog, type LogEntity, type LogRow, type LogTail } from './logs.js';
import { BuildsData, toBuild, type BuildRow } from './builds.js';
import type { Result } from '../results.js';
import { applyFilters, applyOrderAndPage, type CollectionDef } from './query.js';
import { coerceValue, type ResultSpec } from './result-spec.js';

export interface StepEntity {
  stepid: number;
  number: number;
  name: string;
  buildid: number;
  started_at: number | null;
  complete_at: number | null;
  complete: boolean;
  state_string: string;
  results: number | null;
  urls: { name: string; url: string }[];
  hidden: boolean;
}

export const STEP_COLLECTION: CollectionDef = {
  name: 'steps',
  // A build's steps get increasing ids in number order, so this is number order within a
  // build and a stable order across builds (the top-level `/steps`).
  defaultOrder: { column: 'id', descending: false },
  fields: {
    stepid: { column: 'id', type: 'number' },
    number: { column: 'number', type: 'number' },
    name: { column: 'name', type: 'string' },
    buildid: { column: 'buildid', type: 'number' },
    started_at: { column: 'started_at', type: 'timestamp' },
    complete_at: { column: 'complete_at', type: 'timestamp' },
    results: { column: 'results', type: 'number' },
    hidden: { column: 'hidden', type: 'boolean' },
    state_string: { column: 'state_string', type: 'string' },
    complete: { column: 'complete_flag', type: 'boolean' },
  },
};

/** A step's end written with the next step's start (`addStarted`). */
export interface StepEnding {
  stepid: number;
  results: Result;
  state: string;
  /** The build's new state, written with it (step 0: "building"). */
  build?: { buildid: number; state: string };
}

type StepRow = {
  id: number;
  number: number;
  name: string;
  buildid: number;
  started_at: number | null;
  complete_at: number | null;
  state_string: string;
  results: number | null;
  urls: string;
  hidden: number;
};

function toStep(r: StepRow): StepEntity {
  return {
    stepid: r.id,
    number: r.number,
    name: r.name,
    buildid: r.buildid,
    started_at: toSeconds(r.started_at),
    complete_at: toSeconds(r.complete_at),
    complete: r.complete_at !== null,
    state_string: r.state_string,
    results: r.results,
    urls: parseJson<{ name: string; url: string }[]>(r.urls, []),
    hidden: r.hidden === 1,
  };
}

export class StepsData {
  constructor(private readonly ctx: DataContext) {}

  /** Adds a step at the end of the build; a name used twice gets Buildbot's `_1` suffix. */
  async add(buildid: number, name: string, state = 'pending'): Promise<StepEntity> {
    const row = await this.ctx.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('steps')
        .select(['number', 'name'])
        .where('buildid', '=', buildid)
        .execute();
      const names = new Set(existing.map((s) => s.name));
      let unique = name;
      for (let i = 1; names.has(unique); i++) unique = `${name}_${i}`;
      const number = existing.reduce((max, s) => Math.max(max, s.number + 1), 0);
      const row = await trx
        .insertInto('steps')
        .values({ number, name: unique, buildid, state_string: state, urls: '[]', hidden: 0 })
        .returningAll()
        .executeTakeFirstOrThrow();
      return row;
    });
    const step = toStep(row);
    this.publish(step, 'new');
    return step;
  }

  /**
   * Adds a step and starts it in one statement, for the build that owns it: the build
   * numbers its steps and makes names unique itself (it is their only writer), so no
   * read is needed. Publishes `new` (as before the start) and `started`.
   */
  /**
   * Adds a step already started. With `ending`, the previous step's end (and the build's
   * new state) is written in the same statement on PostgreSQL (data-modifying CTEs; one
   * round trip instead of two), before it on SQLite.
   */
  async addStarted(
    buildid: number,
    step: { number: number; name: string; state: string },
    ending?: StepEnding,
  ): Promise<StepEntity> {
    if (ending && isPostgres(this.ctx.db)) return this.endAndAdd(buildid, step, ending);
    if (ending) {
      await this.finish(ending.stepid, ending.results, ending.state, false, [], ending.build);
    }
    const row = await this.ctx.db
      .insertInto('steps')
      .values({
        number: step.number,
        name: step.name,
        buildid,
        started_at: this.ctx.now(),
        state_string: step.state,
        urls: '[]',
        hidden: 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const started = toStep(row);
    this.publish({ ...started, started_at: null, state_string: 'pending' }, 'new');
    this.publish(started, 'started');
    return started;
  }

  private async endAndAdd(
    buildid: number,
    step: { number: number; name: string; state: string },
    ending: StepEnding,
  ): Promise<StepEntity> {
    const now = this.ctx.now();
    const buildCte = ending.build
      ? sql`b as (update builds set state_string = ${ending.build.state}
          where id = ${ending.build.buildid} returning *),`
      : sql``;
    const result = await sql<{ ended: StepRow | null; added: StepRow; build: BuildRow | null }>`${
      // json results only, so the statement may be prepared (db/prepared-statements.ts)
      sql.raw(PREPARED)
    }with ${buildCte} e as (update steps set complete_at = ${now}, results = ${ending.results},
          state_string = ${ending.state}, hidden = 0 where id = ${ending.stepid} returning *),
        n as (insert into steps (number, name, buildid, started_at, state_string, urls, hidden)
          values (${step.number}, ${step.name}, ${buildid}, ${now}, ${step.state}, '[]', 0)
          returning *)
      select (select row_to_json(e) from e) as ended, (select row_to_json(n) from n) as added,
        ${ending.build ? sql`(select row_to_json(b) from b)` : sql`null`} as build`.execute(
      this.ctx.db,
    );
    const first = result.rows[0];
    if (!first?.added) throw new Error(`adding step ${step.name} to build ${buildid} failed`);
    if (first.ended) this.publish(toStep(first.ended), 'finished');
    if (first.build) new BuildsData(this.ctx).publish(toBuild(first.build), 'update');
    const started = toStep(first.added);
    this.publish({ ...started, started_at: null, state_string: 'pending' }, 'new');
    this.publish(started, 'started');
    return started;
  }

  async start(stepid: number, state: string): Promise<void> {
    const row = await this.ctx.db
      .updateTable('steps')
      .set({ started_at: this.ctx.now(), state_string: state })
      .where('id', '=', stepid)
      .returningAll()
      .executeTakeFirst();
    if (row) this.publish(toStep(row), 'started');
  }

  async setState(stepid: number, state: string): Promise<void> {
    const row = await this.ctx.db
      .updateTable('steps')
      .set({ state_string: state })
      .where('id', '=', stepid)
      .returningAll()
      .executeTakeFirst();
    if (row) this.publish(toStep(row), 'updated');
  }

  /**
   * Ends a step. With `logs`, its logs' last lines and completions are stored in the same
   * write: one statement on PostgreSQL (data-modifying CTEs), one transaction on SQLite.
   */
  async finish(
    stepid: number,
    results: Result,
    state: string,
    hidden = false,
    logs: LogTail[] = [],
    /** The build's new state, written with the step's end (step 0: "building"). */
    build?: { buildid: number; state: string },
  ): Promise<void> {
    const set = {
      complete_at: this.ctx.now(),
      results,
      state_string: state,
      hidden: hidden ? 1 : 0,
    };
    if (logs.length === 0 && !build) {
      const row = await this.ctx.db
        .updateTable('steps')
        .set(set)
        .where('id', '=', stepid)
        .returningAll()
        .executeTakeFirst();
      if (row) this.publish(toStep(row), 'finished');
      return;
    }
    const logsData = new LogsData(this.ctx);
    const builds = new BuildsData(this.ctx);
    let step: StepRow | undefined;
    let logRows: LogEntity[];
    let buildRow: BuildRow | undefined;
    if (isPostgres(this.ctx.db)) {
      const ctes = logsData.tailCtes(logs);
      if (build) {
        ctes.push(
          sql`b as (update builds set state_string = ${build.state}
            where id = ${build.buildid} returning *)`,
        );
      }
      ctes.push(sql`s as (update steps set complete_at = ${set.complete_at},
          results = ${set.results}, state_string = ${set.state_string}, hidden = ${set.hidden}
          where id = ${stepid} returning *)`);
      const union =
        logs.length > 0
          ? sql.join(
              logs.map((_, i) => sql`select * from ${sql.raw(`t${i}`)}`),
              sql` union all `,
            )
          : sql`select * from logs where false`;
      const buildJson = build ? sql`(select row_to_json(b) from b)` : sql`null`;
      const result = await sql<{
        step: StepRow | null;
        logs: LogRow[] | null;
        build: BuildRow | null;
      }>`${sql.raw(PREPARED)}with ${sql.join(ctes)}
        select (select row_to_json(s) from s) as step,
          (select json_agg(l) from (${union}) l) as logs,
          ${buildJson} as build`.execute(this.ctx.db);
      const first = result.rows[0];
      step = first?.step ?? undefined;
      buildRow = first?.build ?? undefined;
      logRows = (first?.logs ?? []).map(toLog);
    } else {
      [step, logRows, buildRow] = await this.ctx.db.transaction().execute(async (trx) => {
        const rows = await logsData.finishTailsIn(trx, logs);
        const row = await trx
          .updateTable('steps')
          .set(set)
          .where('id', '=', stepid)
          .returningAll()
          .executeTakeFirst();
        const b = build
          ? await trx
              .updateTable('builds')
              .set({ state_string: build.state })
              .where('id', '=', build.buildid)
              .returningAll()
              .executeTakeFirst()
          : undefined;
        return [row, rows, b] as const;
      });
    }
    logsData.publishTails(logs, logRows);
    if (step) this.publish(toStep(step), 'finished');
    if (buildRow) builds.publish(toBuild(buildRow), 'update');
  }

  async addUrl(stepid: number, name: string, url: string): Promise<void> {
    const step = await this.getOrThrow(stepid);
    const urls = [...step.urls, { name, url }];
    const row = await this.ctx.db
      .updateTable('steps')
      .set({ urls: JSON.stringify(urls) })
      .where('id', '=', stepid)
      .returningAll()
      .executeTakeFirst();
    if (row) this.publish(toStep(row), 'updated');
  }

  async get(stepid: number): Promise<StepEntity | undefined> {
    const row = await this.ctx.db
      .selectFrom('steps')
      .selectAll()
      .where('id', '=', stepid)
      .executeTakeFirst();
    return row ? toStep(row) : undefined;
  }

  private async getOrThrow(stepid: number): Promise<StepEntity> {
    const step = await this.get(stepid);
    if (!step) throw new Error(`step ${stepid} vanished from the database`);
    return step;
  }

  /**
   * Steps matching the spec within the scope; an empty scope is every build's steps (the
   * top-level `/steps` collection: `complete=false` is what runs now on every build).
   */
  async list(
    spec: ResultSpec,
    scope: { buildid?: number; number?: number; name?: string; stepid?: number } = {},
  ): Promise<{ items: StepEntity[]; total: number }> {
    // `complete=false` / `complete=true` are asked of `complete_at` itself, inside the
    // subquery: a condition on the computed flag reads every step, while `complete_at is
    // null` reads the partial index of unfinished steps (migration 0007), so Home's
    // "every running step" costs the same with 30 or 3 million steps stored.
    const { pushed, rest } = completeFilter(spec);
    let base = this.ctx.db.selectFrom((eb) => {
      const inner = eb
        .selectFrom('steps')
        .selectAll()
        .select(sql<number>`case when complete_at is null then 0 else 1 end`.as('complete_flag'));
      return (
        pushed === undefined ? inner : inner.where('complete_at', pushed ? 'is not' : 'is', null)
      ).as('steps');
    });
    if (scope.stepid !== undefined) base = base.where('id', '=', scope.stepid);
    if (scope.buildid !== undefined) base = base.where('buildid', '=', scope.buildid);
    if (scope.number !== undefined) base = base.where('number', '=', scope.number);
    if (scope.name !== undefined) base = base.where('name', '=', scope.name);
    base = applyFilters(base, STEP_COLLECTION, rest);
    const [rows, count] = await Promise.all([
      applyOrderAndPage(base.selectAll(), STEP_COLLECTION, spec).execute(),
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toStep), total: Number(count.n) };
  }

  private publish(step: StepEntity | undefined, event: string): void {
    if (!step) return;
    this.ctx.bus.publishAll(
      [
        ['steps', String(step.stepid), event],
        ['builds', String(step.buildid), 'steps', String(step.stepid), event],
      ],
      step,
    );
  }
}

/**
 * A single `complete` equality (or inequality) filter as the completeness it asks for,
 * and the spec without it; any other shape of `complete` filter stays in the spec.
 */
function completeFilter(spec: ResultSpec): { pushed: boolean | undefined; rest: ResultSpec } {
  const index = spec.filters.findIndex(
    (f) => f.field === 'complete' && (f.op === 'eq' || f.op === 'ne') && f.values.length === 1,
  );
  const filter = spec.filters[index];
  if (!filter) return { pushed: undefined, rest: spec };
  const wanted = coerceValue(
    'complete',
    STEP_COLLECTION.fields.complete!,
    filter.values[0] ?? null,
  );
  if (wanted === null) return { pushed: undefined, rest: spec };
  const complete = (wanted === 1) === (filter.op === 'eq');
  return {
    pushed: complete,
    rest: { ...spec, filters: spec.filters.filter((_, i) => i !== index) },
  };
}
