import { freshPostgresDatabase } from '@yardmaster/testkit';
import { openDatabase } from '../db/connect.js';
import { buildWritePathContract } from './build-write-path.contract.js';

buildWritePathContract('PostgreSQL', async () => {
  return openDatabase(await freshPostgresDatabase(), '/tmp', { poolSize: 4 });
});
