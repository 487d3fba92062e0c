import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './connect.js';

describe('YARDMASTER_DB_POOL_SIZE', () => {
  const saved = process.env.YARDMASTER_DB_POOL_SIZE;
  afterEach(() => {
    if (saved === undefined) delete process.env.YARDMASTER_DB_POOL_SIZE;
    else process.env.YARDMASTER_DB_POOL_SIZE = saved;
  });

  it.each(['0', '2.5', 'ten', '-3'])(
    'refuses %j with a message naming the variable',
    async (value) => {
      process.env.YARDMASTER_DB_POOL_SIZE = value;
      await expect(openDatabase('postgresql://nobody@127.0.0.1:1/none', '/tmp')).rejects.toThrow(
        `YARDMASTER_DB_POOL_SIZE must be a whole number from 1 to 1000, got "${value}"`,
      );
    },
  );

  it('is read only for PostgreSQL, where a pool exists', async () => {
    process.env.YARDMASTER_DB_POOL_SIZE = 'ten';
    const handle = await openDatabase('sqlite://', '/tmp');
    await handle.close();
  });
});
