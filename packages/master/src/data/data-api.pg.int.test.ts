import { inject } from 'vitest';
import { createTestDatabase } from '@yardmaster/testkit';
import { openDatabase } from '../db/connect.js';
import { dataApiContract } from './data-api.contract.js';

dataApiContract('PostgreSQL', async () => {
  const admin = inject('postgresUrl');
  if (!admin) throw new Error(`no PostgreSQL server for the tests: ${inject('postgresError')}`);
  return openDatabase(await createTestDatabase(admin), '/tmp', { poolSize: 4 });
});
