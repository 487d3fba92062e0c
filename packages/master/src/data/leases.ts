/**
 * Leases: a named singleton (a change source, a timed scheduler) held by one master at a
 * time. Taking or renewing is one upsert that only succeeds when the lease is free,
 * expired or already ours, so two masters can never both believe they hold it (within
 * the clock skew of their `now`, which is why `ttlMs` should be well above the renew
 * interval).
 */
import type { DataContext } from './context.js';

export class LeasesData {
  constructor(private readonly ctx: DataContext) {}

  /** Takes or renews `name` for `masterid` until now + ttlMs; true when this master holds it. */
  async acquire(name: string, masterid: number, ttlMs: number): Promise<boolean> {
    const now = this.ctx.now();
    await this.ctx.db
      .insertInto('leases')
      .values({ name, masterid, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ masterid, expires_at: now + ttlMs })
          .where((eb) =>
            eb.or([eb('leases.masterid', '=', masterid), eb('leases.expires_at', '<', now)]),
          ),
      )
      .execute();
    const row = await this.ctx.db
      .selectFrom('leases')
      .select('masterid')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.masterid === masterid;
  }

  async release(name: string, masterid: number): Promise<void> {
    await this.ctx.db
      .deleteFrom('leases')
      .where('name', '=', name)
      .where('masterid', '=', masterid)
      .execute();
  }

  async holder(name: string): Promise<{ masterid: number; expiresAt: number } | null> {
    const row = await this.ctx.db
      .selectFrom('leases')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? { masterid: row.masterid, expiresAt: Number(row.expires_at) } : null;
  }
}
