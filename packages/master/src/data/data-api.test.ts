import { openDatabase } from '../db/connect.js';
import { dataApiContract } from './data-api.contract.js';

dataApiContract('SQLite', () => openDatabase('sqlite://', '/tmp'));
