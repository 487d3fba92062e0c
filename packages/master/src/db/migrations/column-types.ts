/** The column types that differ between the SQL dialects we run on. */
import type { ColumnDataType } from 'kysely';

type DataTypeExpression = ColumnDataType;

export type Dialect = 'sqlite' | 'postgres';

export interface ColumnTypes {
  /** An auto-increment integer primary key. */
  id: DataTypeExpression;
  /** An auto-increment 64-bit primary key, for tables that grow without bound. */
  bigId: DataTypeExpression;
  /** Epoch milliseconds: needs 64 bits. */
  millis: DataTypeExpression;
  blob: DataTypeExpression;
}

export function columnTypes(dialect: Dialect): ColumnTypes {
  return dialect === 'postgres'
    ? { id: 'serial', bigId: 'bigserial', millis: 'bigint', blob: 'bytea' }
    : { id: 'integer', bigId: 'integer', millis: 'integer', blob: 'blob' };
}
