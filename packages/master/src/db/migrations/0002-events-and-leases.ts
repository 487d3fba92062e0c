/**
 * Tables for several masters on one database: `mq_events`, the event log the PostgreSQL
 * bus delivers from (NOTIFY only wakes readers; the rows are the truth), and `leases`,
 * which hold singleton services (a change source, a timed scheduler) on one master.
 */
import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.js';

export function eventsAndLeasesMigration(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('mq_events')
        .addColumn('id', types.bigId, (c) => c.primaryKey())
        .addColumn('origin', 'integer', (c) => c.notNull())
        .addColumn('event_key', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('created_at', types.millis, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('mq_events_created_at')
        .on('mq_events')
        .column('created_at')
        .execute();

      await db.schema
        .createTable('leases')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('masterid', 'integer', (c) => c.notNull())
        .addColumn('expires_at', types.millis, (c) => c.notNull())
        .execute();
    },
  };
}
