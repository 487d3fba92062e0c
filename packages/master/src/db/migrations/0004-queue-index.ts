/** An index in distribution order, so reading the head of a builder's queue stays cheap. */
import type { Kysely } from 'kysely';

export const queueIndexMigration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('buildrequests_queue')
      .on('buildrequests')
      .columns(['builderid', 'complete', 'claimed_by_masterid', 'priority', 'submitted_at', 'id'])
      .execute();
  },
};
