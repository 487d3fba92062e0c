import { openDatabase } from '../db/connect.js';
import { changesStateContract } from './changes-state.contract.js';

changesStateContract('SQLite', () => openDatabase('sqlite://', '/tmp'));
