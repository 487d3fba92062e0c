/**
 * The workers tables: one row per worker name, which builders each is configured for
 * on which master, and which master each is connected to.
 */
import type { DataContext } from './context.js';
import { parseJson } from './context.js';

export interface WorkerEntity {
  workerid: number;
  name: string;
  workerinfo: Record<string, unknown>;
  paused: boolean;
  graceful: boolean;
  configured_on: { builderid: number; masterid: number }[];
  connected_to: { masterid: number }[];
}

export class WorkersData {
  constructor(private readonly ctx: DataContext) {}

  async ensure(name: string): Promise<number> {
    const existing = await this.ctx.db
      .selectFrom('workers')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing) return existing.id;
    // Insert-or-ignore, then read: masters starting together do not collide.
    await this.ctx.db
      .insertInto('workers')
      .values({ name, info: '{}', paused: 0, graceful: 0 })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.ctx.db
      .selectFrom('workers')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Replaces what `masterid` says about which builders each worker serves. */
  async setConfigured(
    masterid: number,
    links: { workerid: number; builderid: number }[],
  ): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('configured_workers').where('masterid', '=', masterid).execute();
      if (links.length > 0) {
        await trx
          .insertInto('configured_workers')
          .values(links.map((l) => ({ ...l, masterid })))
          .execute();
      }
    });
  }

  async connected(
    workerid: number,
    masterid: number,
    info: Record<string, unknown>,
  ): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('workers')
        .set({ info: JSON.stringify(info) })
        .where('id', '=', workerid)
        .execute();
      await trx
        .deleteFrom('connected_workers')
        .where('workerid', '=', workerid)
        .where('masterid', '=', masterid)
        .execute();
      await trx.insertInto('connected_workers').values({ workerid, masterid }).execute();
    });
    this.ctx.bus.publish(['workers', String(workerid), 'connected'], await this.get(workerid));
  }

  async disconnected(workerid: number, masterid: number): Promise<void> {
    await this.ctx.db
      .deleteFrom('connected_workers')
      .where('workerid', '=', workerid)
      .where('masterid', '=', masterid)
      .execute();
    this.ctx.bus.publish(['workers', String(workerid), 'disconnected'], await this.get(workerid));
  }

  async setState(workerid: number, state: { paused?: boolean; graceful?: boolean }): Promise<void> {
    const set: { paused?: number; graceful?: number } = {};
    if (state.paused !== undefined) set.paused = state.paused ? 1 : 0;
    if (state.graceful !== undefined) set.graceful = state.graceful ? 1 : 0;
    await this.ctx.db.updateTable('workers').set(set).where('id', '=', workerid).execute();
    this.ctx.bus.publish(['workers', String(workerid), 'state_updated'], await this.get(workerid));
  }

  async list(): Promise<WorkerEntity[]> {
    const [rows, configured, connected] = await Promise.all([
      this.ctx.db.selectFrom('workers').selectAll().orderBy('id').execute(),
      this.ctx.db.selectFrom('configured_workers').selectAll().execute(),
      this.ctx.db.selectFrom('connected_workers').selectAll().execute(),
    ]);
    return rows.map((r) => ({
      workerid: r.id,
      name: r.name,
      workerinfo: parseJson<Record<string, unknown>>(r.info, {}),
      paused: r.paused === 1,
      graceful: r.graceful === 1,
      configured_on: configured
        .filter((c) => c.workerid === r.id)
        .map((c) => ({ builderid: c.builderid, masterid: c.masterid })),
      connected_to: connected
        .filter((c) => c.workerid === r.id)
        .map((c) => ({ masterid: c.masterid })),
    }));
  }

  /** One worker by id or name; reads only its rows (every connect and disconnect calls it). */
  async get(idOrName: number | string): Promise<WorkerEntity | undefined> {
    const base = this.ctx.db.selectFrom('workers').selectAll();
    const row = await (
      typeof idOrName === 'number'
        ? base.where('id', '=', idOrName)
        : base.where('name', '=', idOrName)
    ).executeTakeFirst();
    if (!row) return undefined;
    const [configured, connected] = await Promise.all([
      this.ctx.db
        .selectFrom('configured_workers')
        .selectAll()
        .where('workerid', '=', row.id)
        .execute(),
      this.ctx.db
        .selectFrom('connected_workers')
        .selectAll()
        .where('workerid', '=', row.id)
        .execute(),
    ]);
    return {
      workerid: row.id,
      name: row.name,
      workerinfo: parseJson<Record<string, unknown>>(row.info, {}),
      paused: row.paused === 1,
      graceful: row.graceful === 1,
      configured_on: configured.map((c) => ({ builderid: c.builderid, masterid: c.masterid })),
      connected_to: connected.map((c) => ({ masterid: c.masterid })),
    };
  }
}
