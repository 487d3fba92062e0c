import { inject } from 'vitest';
import { createTestDatabase } from '@yardmaster/testkit';
import { openDatabase } from '../db/connect.js';
import { dataApiListsContract } from './data-api-lists.contract.js';

dataApiListsContract('PostgreSQL', async () => {
  const admin = inject('postgresUrl');
  if (!admin)
    throw new Error(`no PostgreSQL server for the tests: ${String(inject('postgresError'))}`);
  return openDatabase(await createTestDatabase(admin), '/tmp', { poolSize: 4 });
});
