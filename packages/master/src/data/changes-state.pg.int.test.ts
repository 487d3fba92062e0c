import { freshPostgresDatabase } from '@yardmaster/testkit';
import { openDatabase } from '../db/connect.js';
import { changesStateContract } from './changes-state.contract.js';

changesStateContract('PostgreSQL', async () =>
  openDatabase(await freshPostgresDatabase(), '/tmp', { poolSize: 4 }),
);
