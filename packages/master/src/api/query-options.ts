/**
 * Parses Buildbot's REST query options into a ResultSpec, checked against the resource
 * type of the endpoint (Buildbot's `resultspec_from_jsonapi`):
 *   field=a&field=b   only these fields          order=-buildid   sort (repeatable, `-` = descending)
 *   limit=N offset=N  paging                     property=* | property=name   (builds, build requests)
 *   f=v               f equals v (repeated: f is one of the values)
 *   f__op=v           op in eq ne lt le gt ge contains in notin (repeated for in/notin)
 *   f__in=1,2,3       on an integer field, `in` and `notin` also take a comma-separated list
 *                     (Buildbot refuses it; ours is the short form of f__in=1&f__in=2&f__in=3)
 * Every mistake is a 400 that names the option: an unknown field (in field, order or a
 * filter), an unknown operator, a value of the wrong type, a bad limit or offset, an
 * unrecognized parameter, or a filter on a single entity.
 */
import { BadRequestError } from '../errors.js';
import { FILTER_OPS, type Filter, type FilterOp, type ResultSpec } from '../data/result-spec.js';
import type { EntityType, FieldType } from './entity-types.js';

export type Query = Record<string, string | string[] | undefined>;

/** Operators that compare with exactly one value. */
const SINGULAR_ONLY: ReadonlySet<FilterOp> = new Set(['lt', 'le', 'gt', 'ge']);

/** Field types whose `in` / `notin` values may be one comma-separated list (no comma in a value). */
const COMMA_LISTS: ReadonlySet<FieldType> = new Set(['integer', 'datetime', 'integer[]']);

const BOOLEANS: Readonly<Record<string, boolean>> = {
  on: true,
  true: true,
  yes: true,
  '1': true,
  off: false,
  false: false,
  no: false,
  '0': false,
};

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function invalid(message: string): BadRequestError {
  return new BadRequestError(message, 'invalid_query');
}

function fieldList(type: EntityType): string {
  return Object.keys(type.fields).join(', ');
}

function checkField(type: EntityType, field: string, option: string): FieldType {
  const fieldType = type.fields[field];
  if (fieldType === undefined) {
    throw invalid(
      `invalid ${option}: ${type.plural} have no field "${field}" (fields: ${fieldList(type)})`,
    );
  }
  return fieldType;
}

function nonNegativeInteger(name: string, value: string | string[] | undefined): number | null {
  const first = list(value)[0];
  if (first === undefined) return null;
  if (!/^\d+$/.test(first.trim())) {
    throw invalid(`invalid ${name} "${first}": expected an integer of at least 0`);
  }
  return Number(first.trim());
}

/** Reads one query value as Buildbot's field type does; throws a 400 naming the option. */
export function parseValue(
  option: string,
  fieldType: FieldType,
  text: string,
): string | number | boolean {
  switch (fieldType) {
    case 'integer':
    case 'datetime':
    case 'integer[]': {
      const trimmed = text.trim();
      if (!/^[+-]?\d+$/.test(trimmed)) {
        const what = fieldType === 'datetime' ? 'an epoch time in whole seconds' : 'an integer';
        throw invalid(`invalid filter value for ${option}: "${text}" is not ${what}`);
      }
      return Number(trimmed);
    }
    case 'boolean': {
      const b = BOOLEANS[text.toLowerCase()];
      if (b === undefined) {
        throw invalid(
          `invalid filter value for ${option}: "${text}" is not a boolean (use true or false)`,
        );
      }
      return b;
    }
    case 'string':
    case 'string[]':
      return text;
    case 'object':
      throw invalid(
        `invalid filter ${option}: this field holds structured data and cannot be filtered`,
      );
  }
}

export function parseResultSpec(query: Query, type: EntityType, isCollection: boolean): ResultSpec {
  const filters: Filter[] = [];
  const order: ResultSpec['order'] = [];
  const fields: string[] = [];
  const properties: string[] = [];
  let limit: number | null = null;
  let offset = 0;
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    const values = list(raw);
    switch (key) {
      case 'order':
        for (const o of values.flatMap((v) => v.split(','))) {
          const descending = o.startsWith('-');
          const field = descending ? o.slice(1) : o;
          if (checkField(type, field, `order "${o}"`) === 'object') {
            throw invalid(
              `invalid order "${o}": ${type.plural} cannot be ordered by a structured field`,
            );
          }
          order.push({ field, descending });
        }
        continue;
      case 'field':
        for (const f of values.flatMap((v) => v.split(','))) {
          checkField(type, f, `field "${f}"`);
          if (!fields.includes(f)) fields.push(f);
        }
        continue;
      case 'limit':
        limit = nonNegativeInteger('limit', raw);
        continue;
      case 'offset':
        offset = nonNegativeInteger('offset', raw) ?? 0;
        continue;
      case 'property':
        properties.push(...values);
        continue;
    }
    let field = key;
    let op: FilterOp = 'eq';
    const split = key.lastIndexOf('__');
    if (type.fields[key] === undefined && split > 0) {
      field = key.slice(0, split);
      const named = key.slice(split + 2);
      if (!(FILTER_OPS as readonly string[]).includes(named)) {
        throw invalid(
          `invalid filter "${key}": unknown operator "${named}" (operators: ${FILTER_OPS.join(', ')})`,
        );
      }
      op = named as FilterOp;
    }
    const fieldType = type.fields[field];
    if (fieldType === undefined) {
      throw invalid(
        `unrecognized query parameter "${key}": not an option (field, order, limit, offset, property) ` +
          `nor a filter on a field of ${type.plural} (fields: ${fieldList(type)})`,
      );
    }
    if (SINGULAR_ONLY.has(op) && values.length > 1) {
      throw invalid(`invalid filter "${key}": ${op} compares with one value, got ${values.length}`);
    }
    const listed = (op === 'in' || op === 'notin') && COMMA_LISTS.has(fieldType);
    filters.push({
      field,
      op,
      values: (listed ? values.flatMap((v) => v.split(',')) : values).map((v) =>
        parseValue(`"${key}"`, fieldType, v),
      ),
    });
  }
  if (!isCollection && filters.length > 0) {
    throw invalid(
      `invalid filter "${filters[0]?.field ?? ''}": this path is a single ${type.name}, not a collection`,
    );
  }
  return { filters, order, limit, offset, fields: fields.length > 0 ? fields : null, properties };
}
