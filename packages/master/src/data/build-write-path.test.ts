import { openDatabase } from '../db/connect.js';
import { buildWritePathContract } from './build-write-path.contract.js';

buildWritePathContract('SQLite', () => openDatabase('sqlite://', '/tmp'));
