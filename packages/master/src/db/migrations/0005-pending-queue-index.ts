/**
 * The queue of pending requests in distribution order (priority descending, then oldest),
 * as a partial index: 0004's index holds priority ascending, so `order by priority desc,
 * submitted_at, id` could not use it and every distribution pass and claim sorted all
 * pending requests (tens of ms at 10,000 pending). This one is read in order and holds
 * only pending rows, so the head of a queue costs the same with 10 or 100,000 waiting.
 * Same SQL on SQLite and PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';

export const pendingQueueIndexMigration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`create index buildrequests_pending_queue
      on buildrequests (builderid, priority desc, submitted_at, id)
      where complete = 0 and claimed_by_masterid is null`.execute(db);
  },
};
