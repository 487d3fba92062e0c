/** Applies a ResultSpec to a Kysely select over one table, with a field → column map. */
import { sql, type SelectQueryBuilder } from 'kysely';
import { BadRequestError } from '../errors.js';
import { coerceValue, type FieldDef, type ResultSpec } from './result-spec.js';

// The builders here are generic over tables and derived tables; Kysely's types cannot follow
// a column name chosen at run time, so the query type is left open on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySelect = SelectQueryBuilder<any, any, any>;

export interface CollectionDef {
  name: string;
  fields: Record<string, FieldDef>;
  /** Columns to order by when the query says nothing. */
  defaultOrder: { column: string; descending: boolean };
}

function column(def: CollectionDef, field: string, purpose: string): FieldDef {
  const f = def.fields[field];
  if (!f) {
    const known = Object.keys(def.fields).join(', ');
    throw new BadRequestError(`cannot ${purpose} ${def.name} by "${field}" (possible: ${known})`);
  }
  return f;
}

export function applyFilters<Q extends AnySelect>(query: Q, def: CollectionDef, spec: ResultSpec): Q {
  let q = query;
  for (const filter of spec.filters) {
    const f = column(def, filter.field, 'filter');
    const ref = sql.ref(f.column);
    const values = filter.values.map((v) => coerceValue(filter.field, f, v));
    const first = values[0] ?? null;
    switch (filter.op) {
      case 'eq':
        q = (values.length > 1
          ? q.where(ref, 'in', values)
          : first === null
            ? q.where(ref, 'is', null)
            : q.where(ref, '=', first)) as Q;
        break;
      case 'ne':
        q = (first === null ? q.where(ref, 'is not', null) : q.where(ref, '!=', first)) as Q;
        break;
      case 'lt':
        q = q.where(ref, '<', first) as Q;
        break;
      case 'le':
        q = q.where(ref, '<=', first) as Q;
        break;
      case 'gt':
        q = q.where(ref, '>', first) as Q;
        break;
      case 'ge':
        q = q.where(ref, '>=', first) as Q;
        break;
      case 'contains':
        q = q.where(ref, 'like', `%${String(first)}%`) as Q;
        break;
      case 'in':
        q = (values.length === 0 ? q.where(sql.lit(false)) : q.where(ref, 'in', values)) as Q;
        break;
      case 'notin':
        q = (values.length === 0 ? q : q.where(ref, 'not in', values)) as Q;
        break;
    }
  }
  return q;
}

export function applyOrderAndPage<Q extends AnySelect>(query: Q, def: CollectionDef, spec: ResultSpec): Q {
  let q = query;
  if (spec.order.length === 0) {
    q = q.orderBy(sql.ref(def.defaultOrder.column), def.defaultOrder.descending ? 'desc' : 'asc') as Q;
  }
  for (const o of spec.order) {
    const f = column(def, o.field, 'order');
    q = q.orderBy(sql.ref(f.column), o.descending ? 'desc' : 'asc') as Q;
  }
  if (spec.limit !== null) q = q.limit(spec.limit) as Q;
  if (spec.offset > 0) {
    if (spec.limit === null) q = q.limit(2_147_483_647) as Q;
    q = q.offset(spec.offset) as Q;
  }
  return q;
}
