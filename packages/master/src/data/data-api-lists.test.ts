import { openDatabase } from '../db/connect.js';
import { dataApiListsContract } from './data-api-lists.contract.js';

dataApiListsContract('SQLite', () => openDatabase('sqlite://', '/tmp'));
