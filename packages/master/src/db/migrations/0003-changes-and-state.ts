/**
 * What change sources and schedulers keep across restarts, as Buildbot keeps it:
 *
 * - `objects` / `object_state`: named state of a long-lived object (a git poller's last
 *   seen revisions, a timed scheduler's last build time, a scheduler's last handled
 *   change), one JSON value per (object, name);
 * - `scheduler_changes`: changes a scheduler classified (important or not) and has not
 *   built yet, so a tree-stable timer survives a restart;
 * - `change_files`, `change_properties` and `changes.parent_changeids`: the rest of a
 *   change (the initial schema kept only its main row).
 */
import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.js';

export function changesAndStateMigration(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('objects')
        .addColumn('id', types.id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(191)', (c) => c.notNull())
        .addColumn('class_name', 'varchar(128)', (c) => c.notNull())
        .addUniqueConstraint('objects_identity', ['name', 'class_name'])
        .execute();

      await db.schema
        .createTable('object_state')
        .addColumn('objectid', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(191)', (c) => c.notNull())
        .addColumn('value_json', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('object_state_pk', ['objectid', 'name'])
        .execute();

      await db.schema
        .createTable('scheduler_changes')
        .addColumn('objectid', 'integer', (c) => c.notNull())
        .addColumn('changeid', 'integer', (c) => c.notNull())
        .addColumn('important', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('scheduler_changes_pk', ['objectid', 'changeid'])
        .execute();

      await db.schema
        .createTable('change_files')
        .addColumn('changeid', 'integer', (c) => c.notNull())
        .addColumn('filename', 'varchar(1024)', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('change_files_changeid')
        .on('change_files')
        .column('changeid')
        .execute();

      await db.schema
        .createTable('change_properties')
        .addColumn('changeid', 'integer', (c) => c.notNull())
        .addColumn('property_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('property_value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('change_properties_pk', ['changeid', 'property_name'])
        .execute();

      await db.schema.alterTable('changes').addColumn('parent_changeids', 'integer').execute();
      await db.schema
        .createIndex('changes_sourcestampid')
        .on('changes')
        .column('sourcestampid')
        .execute();
    },
  };
}
