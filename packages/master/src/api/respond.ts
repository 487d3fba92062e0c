/** Buildbot's response envelope: `{"<plural>": [...], "meta": {...}}`, a list even for one entity. */
import { selectFields, type ResultSpec } from '../data/result-spec.js';
import { NotFoundError } from '../errors.js';

export function collection<T extends object>(plural: string, items: T[], spec: ResultSpec, total?: number) {
  return { [plural]: selectFields(items, spec.fields), meta: { total: total ?? items.length } };
}

export function single<T extends object>(plural: string, item: T | undefined, spec: ResultSpec, what: string) {
  if (!item) throw new NotFoundError(`${what} not found`);
  return { [plural]: selectFields([item], spec.fields), meta: {} };
}

/** Applies filters, order and paging in memory, for small collections not worth SQL. */
export function inMemory<T extends object>(items: T[], spec: ResultSpec): { items: T[]; total: number } {
  let out = items.filter((item) =>
    spec.filters.every((f) => {
      const value = (item as Record<string, unknown>)[f.field];
      const as = (v: unknown) => (typeof value === 'number' ? Number(v) : typeof value === 'boolean' ? ['true', '1'].includes(String(v)) : String(v));
      const vs = f.values.map(as);
      const first = vs[0];
      switch (f.op) {
        case 'eq':
          return vs.some((v) => v === value);
        case 'ne':
          return first !== value;
        case 'in':
          return vs.includes(value as never);
        case 'notin':
          return !vs.includes(value as never);
        case 'contains':
          return Array.isArray(value) ? value.includes(first) : String(value).includes(String(first));
        case 'lt':
          return (value as number) < (first as number);
        case 'le':
          return (value as number) <= (first as number);
        case 'gt':
          return (value as number) > (first as number);
        case 'ge':
          return (value as number) >= (first as number);
      }
    }),
  );
  for (const o of [...spec.order].reverse()) {
    out = [...out].sort((a, b) => {
      const x = (a as Record<string, unknown>)[o.field] as number | string;
      const y = (b as Record<string, unknown>)[o.field] as number | string;
      const c = x < y ? -1 : x > y ? 1 : 0;
      return o.descending ? -c : c;
    });
  }
  const total = out.length;
  const end = spec.limit === null ? undefined : spec.offset + spec.limit;
  return { items: out.slice(spec.offset, end), total };
}
