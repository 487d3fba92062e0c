/** The column types that differ between the SQL dialects we run on. */
import type { ColumnDataType } from 'kysely';

type DataTypeExpression = ColumnDataType;

export type Dialect = 'sqlite' | 'postgres';

export interface ColumnTypes {
  /** An auto-increment integer primary key. */
  id: DataTypeExpression;
  /** Epoch milliseconds: needs 64 bits. */
  millis: DataTypeExpression;
  blob: DataTypeExpression;
}

export function columnTypes(dialect: Dialect): ColumnTypes {
  return dialect === 'postgres'
    ? { id: 'serial', millis: 'bigint', blob: 'bytea' }
    : { id: 'integer', millis: 'integer', blob: 'blob' };
}
