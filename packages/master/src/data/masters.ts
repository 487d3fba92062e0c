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

  /** Finds or creates the row for `name` and marks it active. */
  async register(name: string): Promise<number> {
    const now = this.ctx.now();
    const existing = await this.ctx.db
      .selectFrom('masters')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirst();
    let id: number;
    if (existing) {
      id = existing.id;
      await this.ctx.db
        .updateTable('masters')
        .set({ active: 1, last_active: now })
        .where('id', '=', id)
        .execute();
    } else {
      const row = await this.ctx.db
        .insertInto('masters')
        .values({ name, active: 1, last_active: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      id = row.id;
    }
    this.ctx.bus.publish(['masters', String(id), 'started'], await this.get(id));
    return id;
  }

  async heartbeat(masterid: number): Promise<void> {
    await this.ctx.db
      .updateTable('masters')
      .set({ last_active: this.ctx.now(), active: 1 })
      .where('id', '=', masterid)
      .execute();
  }

  async setInactive(masterid: number): Promise<void> {
    await this.ctx.db.updateTable('masters').set({ active: 0 }).where('id', '=', masterid).execute();
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
