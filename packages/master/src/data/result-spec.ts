/**
 * Buildbot's result spec: the filters, order, paging and field selection a REST query
 * asks for, applied in SQL wherever the field maps to a column.
 */
import { BadRequestError } from '../errors.js';

export const FILTER_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'in', 'notin'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface Filter {
  field: string;
  op: FilterOp;
  values: (string | number | boolean | null)[];
}

export interface ResultSpec {
  filters: Filter[];
  order: { field: string; descending: boolean }[];
  limit: number | null;
  offset: number;
  fields: string[] | null;
  properties: string[];
}

export const EMPTY_SPEC: ResultSpec = {
  filters: [],
  order: [],
  limit: null,
  offset: 0,
  fields: null,
  properties: [],
};

/** A filterable field of a collection: its SQL column and how to read a query value. */
export interface FieldDef {
  column: string;
  type: 'number' | 'string' | 'boolean' | 'timestamp';
}

export function coerceValue(field: string, def: FieldDef, raw: string | number | boolean | null) {
  if (raw === null) return null;
  const text = String(raw);
  if (text === 'null' || text === 'None') return null;
  switch (def.type) {
    case 'number': {
      const n = Number(text);
      if (!Number.isFinite(n))
        throw new BadRequestError(`filter on ${field}: "${text}" is not a number`);
      return n;
    }
    case 'timestamp': {
      // Compared with the column in whole seconds (see query.ts), as Buildbot stores them.
      const n = Number(text);
      if (!Number.isFinite(n))
        throw new BadRequestError(`filter on ${field}: "${text}" is not an epoch time in seconds`);
      return Math.floor(n);
    }
    case 'boolean': {
      if (['true', '1', 'yes', 'on'].includes(text.toLowerCase())) return 1;
      if (['false', '0', 'no', 'off'].includes(text.toLowerCase())) return 0;
      throw new BadRequestError(
        `filter on ${field}: "${text}" is not a boolean (use true or false)`,
      );
    }
    case 'string':
      return text;
  }
}

/** Keeps only the requested fields of each entity (Buildbot's `field=`). */
export function selectFields<T extends object>(items: T[], fields: string[] | null): Partial<T>[] {
  if (!fields || fields.length === 0) return items;
  return items.map((item) => {
    const out: Record<string, unknown> = {};
    for (const f of fields) if (f in item) out[f] = (item as Record<string, unknown>)[f];
    return out as Partial<T>;
  });
}
