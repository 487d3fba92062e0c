/**
 * The initial schema: Buildbot's tables. Written once for both dialects; the few
 * type differences (auto-increment ids, binary columns) come from `ColumnTypes`.
 */
import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.js';

export function initialMigration(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const { id, millis, blob } = types;
      await db.schema
        .createTable('masters')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(191)', (c) => c.notNull().unique())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('last_active', millis, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('builders')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(191)', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();

      await db.schema
        .createTable('builder_masters')
        .addColumn('builderid', 'integer', (c) => c.notNull())
        .addColumn('masterid', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('builder_masters_pk', ['builderid', 'masterid'])
        .execute();

      await db.schema
        .createTable('workers')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(191)', (c) => c.notNull().unique())
        .addColumn('info', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('graceful', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .createTable('configured_workers')
        .addColumn('builderid', 'integer', (c) => c.notNull())
        .addColumn('workerid', 'integer', (c) => c.notNull())
        .addColumn('masterid', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('configured_workers_pk', ['builderid', 'workerid', 'masterid'])
        .execute();

      await db.schema
        .createTable('connected_workers')
        .addColumn('workerid', 'integer', (c) => c.notNull())
        .addColumn('masterid', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('connected_workers_pk', ['workerid', 'masterid'])
        .execute();

      await db.schema
        .createTable('sourcestamps')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('branch', 'varchar(255)')
        .addColumn('revision', 'varchar(255)')
        .addColumn('repository', 'varchar(512)', (c) => c.notNull().defaultTo(''))
        .addColumn('project', 'varchar(512)', (c) => c.notNull().defaultTo(''))
        .addColumn('codebase', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', millis, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('changes')
        .addColumn('changeid', id, (c) => c.primaryKey())
        .addColumn('author', 'varchar(255)', (c) => c.notNull())
        .addColumn('committer', 'varchar(255)')
        .addColumn('comments', 'text', (c) => c.notNull())
        .addColumn('branch', 'varchar(255)')
        .addColumn('revision', 'varchar(255)')
        .addColumn('revlink', 'varchar(512)')
        .addColumn('when_timestamp', millis, (c) => c.notNull())
        .addColumn('category', 'varchar(255)')
        .addColumn('repository', 'varchar(512)', (c) => c.notNull().defaultTo(''))
        .addColumn('codebase', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('project', 'varchar(512)', (c) => c.notNull().defaultTo(''))
        .addColumn('sourcestampid', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('buildsets')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('external_idstring', 'varchar(255)')
        .addColumn('reason', 'varchar(255)', (c) => c.notNull())
        .addColumn('submitted_at', millis, (c) => c.notNull())
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('complete_at', millis)
        .addColumn('results', 'integer')
        .addColumn('parent_buildid', 'integer')
        .addColumn('parent_relationship', 'varchar(255)')
        .execute();

      await db.schema
        .createTable('buildset_sourcestamps')
        .addColumn('buildsetid', 'integer', (c) => c.notNull())
        .addColumn('sourcestampid', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('buildset_sourcestamps_pk', ['buildsetid', 'sourcestampid'])
        .execute();

      await db.schema
        .createTable('buildset_properties')
        .addColumn('buildsetid', 'integer', (c) => c.notNull())
        .addColumn('property_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('property_value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('buildset_properties_pk', ['buildsetid', 'property_name'])
        .execute();

      await db.schema
        .createTable('buildrequests')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('buildsetid', 'integer', (c) => c.notNull())
        .addColumn('builderid', 'integer', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('results', 'integer')
        .addColumn('submitted_at', millis, (c) => c.notNull())
        .addColumn('complete_at', millis)
        .addColumn('waited_for', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('claimed_by_masterid', 'integer')
        .addColumn('claimed_at', millis)
        .execute();
      await db.schema
        .createIndex('buildrequests_pending')
        .on('buildrequests')
        .columns(['complete', 'claimed_by_masterid', 'builderid'])
        .execute();
      await db.schema
        .createIndex('buildrequests_buildsetid')
        .on('buildrequests')
        .column('buildsetid')
        .execute();

      await db.schema
        .createTable('builds')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('builderid', 'integer', (c) => c.notNull())
        .addColumn('buildrequestid', 'integer', (c) => c.notNull())
        .addColumn('workerid', 'integer')
        .addColumn('masterid', 'integer', (c) => c.notNull())
        .addColumn('started_at', millis, (c) => c.notNull())
        .addColumn('complete_at', millis)
        .addColumn('state_string', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('results', 'integer')
        .addUniqueConstraint('builds_number', ['builderid', 'number'])
        .execute();
      await db.schema
        .createIndex('builds_buildrequestid')
        .on('builds')
        .column('buildrequestid')
        .execute();

      await db.schema
        .createTable('build_properties')
        .addColumn('buildid', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('source', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('build_properties_pk', ['buildid', 'name'])
        .execute();

      await db.schema
        .createTable('steps')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(150)', (c) => c.notNull())
        .addColumn('buildid', 'integer', (c) => c.notNull())
        .addColumn('started_at', millis)
        .addColumn('complete_at', millis)
        .addColumn('state_string', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('results', 'integer')
        .addColumn('urls', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('hidden', 'integer', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('steps_number', ['buildid', 'number'])
        .execute();

      await db.schema
        .createTable('logs')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('slug', 'varchar(255)', (c) => c.notNull())
        .addColumn('stepid', 'integer', (c) => c.notNull())
        .addColumn('complete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('num_lines', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('type', 'varchar(1)', (c) => c.notNull())
        .addUniqueConstraint('logs_slug', ['stepid', 'slug'])
        .execute();

      await db.schema
        .createTable('logchunks')
        .addColumn('logid', 'integer', (c) => c.notNull())
        .addColumn('first_line', 'integer', (c) => c.notNull())
        .addColumn('last_line', 'integer', (c) => c.notNull())
        .addColumn('content', blob, (c) => c.notNull())
        .addColumn('compressed', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('logchunks_pk', ['logid', 'first_line'])
        .execute();
    },
  };
}
