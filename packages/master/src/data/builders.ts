/** The builders table and which masters run each builder. */
import type { DataContext } from './context.js';
import { parseJson } from './context.js';

export interface BuilderEntity {
  builderid: number;
  name: string;
  description: string | null;
  tags: string[];
  masterids: number[];
}

export class BuildersData {
  constructor(private readonly ctx: DataContext) {}

  /** Finds or creates the builder row; updates description and tags from the config. */
  async ensure(name: string, description: string | null, tags: string[]): Promise<number> {
    // Insert-or-ignore, then read: masters starting together on one database do not collide.
    await this.ctx.db
      .insertInto('builders')
      .values({ name, description, tags: JSON.stringify(tags) })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.ctx.db
      .selectFrom('builders')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    await this.ctx.db
      .updateTable('builders')
      .set({ description, tags: JSON.stringify(tags) })
      .where('id', '=', row.id)
      .execute();
    return row.id;
  }

  /** Records that `masterid` runs exactly `builderids`. */
  async setMasterBuilders(masterid: number, builderids: number[]): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('builder_masters').where('masterid', '=', masterid).execute();
      if (builderids.length > 0) {
        await trx
          .insertInto('builder_masters')
          .values(builderids.map((builderid) => ({ builderid, masterid })))
          .execute();
      }
    });
  }

  async list(): Promise<BuilderEntity[]> {
    const [rows, links] = await Promise.all([
      this.ctx.db.selectFrom('builders').selectAll().orderBy('id').execute(),
      this.ctx.db.selectFrom('builder_masters').selectAll().execute(),
    ]);
    return rows.map((r) => ({
      builderid: r.id,
      name: r.name,
      description: r.description,
      tags: parseJson<string[]>(r.tags, []),
      masterids: links.filter((l) => l.builderid === r.id).map((l) => l.masterid),
    }));
  }

  async get(idOrName: number | string): Promise<BuilderEntity | undefined> {
    const all = await this.list();
    return all.find((b) =>
      typeof idOrName === 'number' ? b.builderid === idOrName : b.name === idOrName,
    );
  }
}
