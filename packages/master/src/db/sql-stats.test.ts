import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './connect.js';
import { statementShape, type SqlStatsSnapshot } from './sql-stats.js';

describe('statement counting (YARDMASTER_SQL_STATS)', () => {
  const saved = process.env.YARDMASTER_SQL_STATS;
  afterEach(() => {
    if (saved === undefined) delete process.env.YARDMASTER_SQL_STATS;
    else process.env.YARDMASTER_SQL_STATS = saved;
  });

  it('folds parameter lists and multi-row values into one shape', () => {
    expect(statementShape('select * from t where id in ($1, $2, $3)')).toBe(
      'select * from t where id in (…)',
    );
    expect(statementShape('insert into t (a, b) values ($1, $2), ($3, $4), ($5, $6)')).toBe(
      'insert into t (a, b) values (…), …',
    );
    expect(statementShape('update t\n  set a = ?\n where id = ?')).toBe(
      'update t set a = ? where id = ?',
    );
  });

  it('counts every statement and transaction of a database and writes them at close', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sql-stats-')), 'stats.json');
    process.env.YARDMASTER_SQL_STATS = file;
    const handle = await openDatabase('sqlite://', '/tmp');
    const before = handle.db;
    await before.selectFrom('masters').selectAll().where('id', 'in', [1, 2]).execute();
    await before.selectFrom('masters').selectAll().where('id', 'in', [1, 2, 3]).execute();
    await before.transaction().execute(async (trx) => {
      await trx.selectFrom('builders').selectAll().execute();
    });
    await handle.close();
    const stats = JSON.parse(fs.readFileSync(file, 'utf8')) as SqlStatsSnapshot;
    expect(stats.shapes['select * from "masters" where "id" in (…)']).toBe(2);
    expect(stats.shapes['select * from "builders"']).toBe(1);
    expect(stats.transactions).toBe(1);
    expect(stats.shapes.commit).toBe(1);
    // The migrations ran through the same database too.
    expect(stats.statements).toBeGreaterThan(5);
  });
});
