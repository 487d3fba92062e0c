/** The masters table: one row per master name; heart-beats keep `last_active` fresh. */
import type { DataContext } from './context.js';
import { toSeconds } from './context.js';

export interface MasterEntity {
  masterid: number;
  name: string;
  active: boolean;
  last_active: number | null;
}

export class MastersData {
  constructor(private readonly ctx: DataContext) {}

  /** Finds or creates the row for `name` and marks it active (safe when masters start together). */
  async register(name: string): Promise<number> {
    const now = this.ctx.now();
    await this.ctx.db
      .insertInto('masters')
      .values({ name, active: 1, last_active: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const { id } = await this.ctx.db
      .selectFrom('masters')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    await this.ctx.db
      .updateTable('masters')
      .set({ active: 1, last_active: now })
      .where('id', '=', id)
      .execute();
    this.ctx.bus.publish(['masters', String(id), 'started'], await this.get(id));
    return id;
  }

  /**
   * Records that `masterid` is alive. False when another master has expired it meanwhile:
   * its builds were handed back to the queue, so it must stop them (it is fenced).
   */
  async heartbeat(masterid: number): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('masters')
      .set({ last_active: this.ctx.now() })
      .where('id', '=', masterid)
      .where('active', '=', 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Marks inactive every active master silent since before `silentSince`; returns the
   * ones this call expired. One conditional UPDATE per master, so when several masters
   * look at once each dead master is expired (and recovered) by exactly one of them.
   */
  async expireSilent(silentSince: number, except: number): Promise<MasterEntity[]> {
    const stale = await this.ctx.db
      .selectFrom('masters')
      .select('id')
      .where('active', '=', 1)
      .where('last_active', '<', silentSince)
      .where('id', '!=', except)
      .execute();
    const expired: MasterEntity[] = [];
    for (const { id } of stale) {
      const result = await this.ctx.db
        .updateTable('masters')
        .set({ active: 0 })
        .where('id', '=', id)
        .where('active', '=', 1)
        .where('last_active', '<', silentSince)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) continue;
      await this.ctx.db.deleteFrom('connected_workers').where('masterid', '=', id).execute();
      const master = await this.get(id);
      if (master) {
        expired.push(master);
        this.ctx.bus.publish(['masters', String(id), 'stopped'], master);
      }
    }
    return expired;
  }

  async setInactive(masterid: number): Promise<void> {
    await this.ctx.db
      .updateTable('masters')
      .set({ active: 0 })
      .where('id', '=', masterid)
      .execute();
    await this.ctx.db.deleteFrom('connected_workers').where('masterid', '=', masterid).execute();
    this.ctx.bus.publish(['masters', String(masterid), 'stopped'], await this.get(masterid));
  }

  async get(masterid: number): Promise<MasterEntity | undefined> {
    return (await this.list()).find((m) => m.masterid === masterid);
  }

  async list(): Promise<MasterEntity[]> {
    const rows = await this.ctx.db.selectFrom('masters').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      masterid: r.id,
      name: r.name,
      active: r.active === 1,
      last_active: toSeconds(r.last_active),
    }));
  }
}
