/**
 * One `mq_events` row per message instead of one per routing key: most events go out
 * under two or three keys (a build by id, by builder and number, by worker) with the same
 * message, so a build wrote and every other master read two to three times as many rows
 * as needed. `event_key` keeps the canonical key (`builds/12/finished`), so a master of
 * the previous version, during a rolling upgrade, still sees every event under it.
 */
import type { Kysely } from 'kysely';

export const eventKeysMigration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('mq_events').addColumn('more_keys', 'text').execute();
  },
};
