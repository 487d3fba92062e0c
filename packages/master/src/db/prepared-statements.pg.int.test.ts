import { freshPostgresDatabase } from '@yardmaster/testkit';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from './connect.js';
import { PREPARED, preparedName } from './prepared-statements.js';

describe('named prepared statements on PostgreSQL', () => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('names only marked statements, one name per text', () => {
    expect(preparedName('select 1')).toBeUndefined();
    const name = preparedName(`${PREPARED}select 1`);
    expect(name).toMatch(/^ym_[0-9a-f]{24}$/);
    expect(preparedName(`${PREPARED}select 1`)).toBe(name);
    expect(preparedName(`${PREPARED}select 2`)).not.toBe(name);
  });

  it('prepares a marked statement once per connection and leaves the others unnamed', async () => {
    handle = await openDatabase(await freshPostgresDatabase(), '/tmp', { poolSize: 1 });
    const marked = (n: number) =>
      sql<{ row: { id: number } | null }>`${sql.raw(PREPARED)}select (select row_to_json(b)
        from (select id from builders where id = ${n}) b) as row`;
    await handle.db.connection().execute(async (conn) => {
      for (let i = 0; i < 3; i++) await marked(i).execute(conn);
      await sql`select ${1}::int as one`.execute(conn);
      const prepared = await sql<{ name: string; statement: string }>`
        select name, statement from pg_prepared_statements`.execute(conn);
      expect(prepared.rows.map((r) => r.name)).toEqual([
        preparedName(marked(0).compile(handle!.db).sql),
      ]);
    });
  });

  it('keeps working when a migration adds a column to a table the statement reads', async () => {
    handle = await openDatabase(await freshPostgresDatabase(), '/tmp', { poolSize: 1 });
    const db = handle.db;
    await sql`insert into builders (name) values ('b1')`.execute(db);
    const read = () =>
      sql<{ row: { name: string } }>`${sql.raw(PREPARED)}select (select row_to_json(b)
        from (select * from builders where name = ${'b1'}) b) as row`.execute(db);
    for (let i = 0; i < 6; i++) expect((await read()).rows[0]?.row.name).toBe('b1');
    await sql`alter table builders add column extra integer`.execute(db);
    const after = await read();
    expect(after.rows[0]?.row).toMatchObject({ name: 'b1', extra: null });
  });
});
