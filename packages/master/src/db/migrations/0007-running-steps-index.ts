/**
 * The steps that have not finished, as a partial index: `GET /api/v2/steps?complete=false`
 * (every running step, which Home reads on each visit) read the whole steps table before,
 * a cost that grows with history. This index holds only unfinished rows, in id order (the
 * collection's default order). Same SQL on SQLite and PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';

export const runningStepsIndexMigration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`create index steps_running on steps (id) where complete_at is null`.execute(db);
  },
};
