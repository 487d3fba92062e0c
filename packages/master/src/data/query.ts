/**
 * Applies a ResultSpec to a Kysely select over one table, with a field → column map, the
 * way Buildbot's SQL-backed endpoints do (`buildbot/data/resultspec.py`):
 * - one value: `eq ne lt le gt ge contains in notin` compare with it;
 * - several values (a repeated query option): `eq` is `in`, `ne` is `notin`, `contains`
 *   matches any of them;
 * - timestamps are stored in milliseconds but compared in Buildbot's whole seconds, so
 *   `started_at__le=S` includes a build started during second S;
 * - `contains` is a substring match (LIKE with `%` and `_` escaped);
 * - order puts NULLs first ascending and last descending on every dialect, as Buildbot's
 *   Python sort does.
 */
import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';
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
    throw new BadRequestError(
      `cannot ${purpose} ${def.name} by "${field}": it is not stored as a column (possible: ${known})`,
      'invalid_query',
    );
  }
  return f;
}

/** The SQL expression a filter compares: the column, or whole seconds for a timestamp. */
function filterOperand(f: FieldDef): Expression<unknown> {
  const ref = sql.ref(f.column);
  return f.type === 'timestamp' ? sql`(${ref} / 1000)` : ref;
}

function likePattern(value: unknown): string {
  return `%${String(value).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function applyFilters<Q extends AnySelect>(
  query: Q,
  def: CollectionDef,
  spec: ResultSpec,
): Q {
  let q = query;
  for (const filter of spec.filters) {
    const f = column(def, filter.field, 'filter');
    const operand = filterOperand(f);
    const values = filter.values.map((v) => coerceValue(filter.field, f, v));
    const first = values[0] ?? null;
    const plural = values.length > 1;
    switch (filter.op) {
      case 'eq':
        q = (
          plural
            ? q.where(operand, 'in', values)
            : first === null
              ? q.where(operand, 'is', null)
              : q.where(operand, '=', first)
        ) as Q;
        break;
      case 'ne':
        q = (
          plural
            ? q.where(operand, 'not in', values)
            : first === null
              ? q.where(operand, 'is not', null)
              : q.where(operand, '!=', first)
        ) as Q;
        break;
      case 'lt':
        q = q.where(operand, '<', first) as Q;
        break;
      case 'le':
        q = q.where(operand, '<=', first) as Q;
        break;
      case 'gt':
        q = q.where(operand, '>', first) as Q;
        break;
      case 'ge':
        q = q.where(operand, '>=', first) as Q;
        break;
      case 'contains':
        q = q.where((eb) =>
          eb.or(values.map((v) => sql<SqlBool>`${operand} like ${likePattern(v)} escape '\\'`)),
        ) as Q;
        break;
      case 'in':
        q = (values.length === 0 ? q.where(sql.lit(false)) : q.where(operand, 'in', values)) as Q;
        break;
      case 'notin':
        q = (values.length === 0 ? q : q.where(operand, 'not in', values)) as Q;
        break;
    }
  }
  return q;
}

export function applyOrderAndPage<Q extends AnySelect>(
  query: Q,
  def: CollectionDef,
  spec: ResultSpec,
): Q {
  let q = query;
  for (const o of spec.order) {
    const f = column(def, o.field, 'order');
    q = q.orderBy(sql.ref(f.column), (ob) =>
      o.descending ? ob.desc().nullsLast() : ob.asc().nullsFirst(),
    ) as Q;
  }
  // The default order last, so ties keep a stable order and paging is repeatable.
  const d = def.defaultOrder;
  if (!spec.order.some((o) => def.fields[o.field]?.column === d.column)) {
    q = q.orderBy(sql.ref(d.column), d.descending ? 'desc' : 'asc') as Q;
  }
  if (spec.limit !== null) q = q.limit(spec.limit) as Q;
  if (spec.offset > 0) {
    if (spec.limit === null) q = q.limit(2_147_483_647) as Q;
    q = q.offset(spec.offset) as Q;
  }
  return q;
}
