import { freshPostgresDatabase } from '@yardmaster/testkit';
import { openDatabase } from '../db/connect.js';
import { dataApiContract } from './data-api.contract.js';

dataApiContract('PostgreSQL', async () => {
  return openDatabase(await freshPostgresDatabase(), '/tmp', { poolSize: 4 });
});
