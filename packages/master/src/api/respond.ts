/**
 * Buildbot's response envelope, `{"<plural>": [...], "meta": {...}}` (a list even for one
 * entity), the result-spec applied in memory for the small collections not worth SQL, and
 * the JSON encoding: compact, with object keys sorted, as Buildbot's `json.dumps(...,
 * sort_keys=True, separators=(',', ':'))` writes it.
 */
import { selectFields, type Filter, type ResultSpec } from '../data/result-spec.js';

export interface Envelope {
  [plural: string]: unknown;
  meta: { total?: number };
}

/** A collection: `meta.total` counts every match before `limit`/`offset` (see decision 0005). */
export function collection(
  plural: string,
  items: object[],
  spec: ResultSpec,
  total: number,
): Envelope {
  return { [plural]: selectFields(items, spec.fields), meta: { total } };
}

/** A single entity, still in a list; `meta` is empty, as in Buildbot. */
export function single(plural: string, item: object, spec: ResultSpec): Envelope {
  return { [plural]: selectFields([item], spec.fields), meta: {} };
}

type Scalar = string | number | boolean | null;

function matches(value: unknown, filter: Filter): boolean {
  const vs = filter.values as Scalar[];
  const first = vs[0] ?? null;
  const plural = vs.length > 1;
  const isIn = () => vs.some((v) => v === value);
  switch (filter.op) {
    case 'eq':
      return plural ? isIn() : value === first;
    case 'ne':
      return plural ? !isIn() : value !== first;
    case 'in':
      return isIn();
    case 'notin':
      return !isIn();
    case 'contains':
      if (Array.isArray(value)) return vs.some((v) => (value as unknown[]).includes(v));
      return typeof value === 'string' && vs.some((v) => value.includes(String(v)));
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      if (value === null || value === undefined || first === null) return false;
      const a = value as number | string;
      const b = first as number | string;
      if (filter.op === 'lt') return a < b;
      if (filter.op === 'le') return a <= b;
      if (filter.op === 'gt') return a > b;
      return a >= b;
    }
  }
}

/** Buildbot's order: NULLs sort before every value (so last when descending). */
function compare(x: unknown, y: unknown): number {
  if (x === y) return 0;
  if (x === null || x === undefined) return -1;
  if (y === null || y === undefined) return 1;
  return (x as number | string) < (y as number | string)
    ? -1
    : (x as number | string) > (y as number | string)
      ? 1
      : 0;
}

/** Applies filters, order and paging in memory; `total` counts matches before paging. */
export function inMemory<T extends object>(
  items: T[],
  spec: ResultSpec,
): { items: T[]; total: number } {
  const field = (item: T, name: string) => (item as Record<string, unknown>)[name];
  const out = items.filter((item) => spec.filters.every((f) => matches(field(item, f.field), f)));
  if (spec.order.length > 0) {
    out.sort((a, b) => {
      for (const o of spec.order) {
        const c = compare(field(a, o.field), field(b, o.field));
        if (c !== 0) return o.descending ? -c : c;
      }
      return 0;
    });
  }
  const end = spec.limit === null ? undefined : spec.offset + spec.limit;
  return { items: out.slice(spec.offset, end), total: out.length };
}

/** Thrown by `sortedKeys` when only the exact, slower `toJsonExact` gives the same text. */
const SLOW_PATH = new Error('toJson: slow path');

/** An array index ("0", "17"): JavaScript keeps such keys first, in numeric order. */
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * JSON.stringify replacer that hands over objects with their keys sorted. Objects whose keys
 * are already in order (most entities) pass as they are; a bigint or an array-index key
 * (which an object cannot hold in string order) sends the value to `toJsonExact`.
 */
function sortedKeys(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') throw SLOW_PATH;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  let ordered = true;
  for (let index = 1; index < keys.length; index++) {
    if ((keys[index - 1] ?? '') > (keys[index] ?? '')) {
      ordered = false;
      break;
    }
  }
  if (ordered) return value;
  if (keys.some((key) => ARRAY_INDEX.test(key))) throw SLOW_PATH;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of keys.sort()) out[key] = record[key];
  return out;
}

/**
 * Compact JSON with every object's keys sorted (undefined members dropped, as JSON does).
 * Native JSON.stringify with a sorting replacer: about twice as fast as building the text
 * here, which was the largest single cost of `GET /builds?limit=50`; `toJsonExact` covers
 * what the replacer cannot express.
 */
export function toJson(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value, sortedKeys);
    } catch (error) {
      if (error !== SLOW_PATH) throw error;
    }
  }
  return toJsonExact(value);
}

function toJsonExact(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value))
        return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : toJsonExact(v))).join(',')}]`;
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return toJsonExact(withToJson.toJSON());
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const v = record[key];
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
        parts.push(`${JSON.stringify(key)}:${toJsonExact(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return 'null';
  }
}
