/** Parses Buildbot's REST query options (`field`, `limit`, `offset`, `order`, filters, `property`). */
import { BadRequestError } from '../errors.js';
import { FILTER_OPS, type Filter, type FilterOp, type ResultSpec } from '../data/result-spec.js';

export type Query = Record<string, string | string[] | undefined>;

const RESERVED = new Set(['field', 'limit', 'offset', 'order', 'property']);

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function integer(name: string, value: string | string[] | undefined, min: number): number | null {
  const values = list(value);
  if (values.length === 0) return null;
  const text = values[values.length - 1] ?? '';
  if (!/^-?\d+$/.test(text) || Number(text) < min) {
    throw new BadRequestError(`invalid ${name} "${text}": expected an integer of at least ${min}`, 'invalid_query');
  }
  return Number(text);
}

export function parseResultSpec(query: Query): ResultSpec {
  const filters: Filter[] = [];
  for (const [key, raw] of Object.entries(query)) {
    if (RESERVED.has(key) || raw === undefined) continue;
    const [field, op = 'eq', extra] = key.split('__');
    if (!field || extra !== undefined || !(FILTER_OPS as readonly string[]).includes(op)) {
      throw new BadRequestError(
        `invalid filter "${key}": use FIELD=VALUE or FIELD__OP=VALUE with OP one of ${FILTER_OPS.join(', ')}`,
        'invalid_query',
      );
    }
    let values = list(raw);
    if (op === 'in' || op === 'notin') values = values.flatMap((v) => v.split(','));
    filters.push({ field, op: op as FilterOp, values });
  }
  const order = list(query.order).flatMap((o) => o.split(',')).filter(Boolean).map((o) =>
    o.startsWith('-') ? { field: o.slice(1), descending: true } : { field: o, descending: false },
  );
  const fields = list(query.field).flatMap((f) => f.split(',')).filter(Boolean);
  return {
    filters,
    order,
    limit: integer('limit', query.limit, 0),
    offset: integer('offset', query.offset, 0) ?? 0,
    fields: fields.length > 0 ? fields : null,
    properties: list(query.property),
  };
}
