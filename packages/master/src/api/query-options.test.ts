import { describe, expect, it } from 'vitest';
import { ENTITY_TYPES } from './entity-types.js';
import { parseResultSpec } from './query-options.js';
import { PathRouter, splitPath } from './path-router.js';

const builds = ENTITY_TYPES.build;

describe('parseResultSpec (Buildbot query options)', () => {
  it('reads fields, order, paging, properties and typed filters', () => {
    const spec = parseResultSpec(
      {
        field: ['buildid', 'results'],
        order: ['-buildid', 'number'],
        limit: '50',
        offset: '10',
        property: ['*'],
        complete: 'yes',
        results__ne: '0',
        buildid__in: ['1', '2'],
        state_string__contains: 'fail',
        started_at__ge: '1700000000',
      },
      builds,
      true,
    );
    expect(spec).toEqual({
      fields: ['buildid', 'results'],
      order: [
        { field: 'buildid', descending: true },
        { field: 'number', descending: false },
      ],
      limit: 50,
      offset: 10,
      properties: ['*'],
      filters: [
        { field: 'complete', op: 'eq', values: [true] },
        { field: 'results', op: 'ne', values: [0] },
        { field: 'buildid', op: 'in', values: [1, 2] },
        { field: 'state_string', op: 'contains', values: ['fail'] },
        { field: 'started_at', op: 'ge', values: [1700000000] },
      ],
    });
  });

  it('does not split in/notin values on commas (as Buildbot)', () => {
    const spec = parseResultSpec({ name__in: 'a,b' }, ENTITY_TYPES.builder, true);
    expect(spec.filters).toEqual([{ field: 'name', op: 'in', values: ['a,b'] }]);
  });

  it('splits in/notin values on commas for integer fields only (our extension)', () => {
    const spec = parseResultSpec(
      { buildid__in: ['1,2', '3'], results__notin: '0,1', number: '4' },
      builds,
      true,
    );
    expect(spec.filters).toEqual([
      { field: 'buildid', op: 'in', values: [1, 2, 3] },
      { field: 'results', op: 'notin', values: [0, 1] },
      { field: 'number', op: 'eq', values: [4] },
    ]);
    // eq keeps Buildbot's reading: "1,2" is not an integer.
    expect(() => parseResultSpec({ buildid: '1,2' }, builds, true)).toThrow(
      /"buildid".*"1,2" is not an integer/,
    );
    expect(() => parseResultSpec({ buildid__in: '1,,2' }, builds, true)).toThrow(
      /"buildid__in".*"" is not an integer/,
    );
  });

  it.each([
    [{ field: 'nope' }, /field "nope"/],
    [{ order: 'nope' }, /order "nope"/],
    [{ limit: '1.5' }, /limit "1.5"/],
    [{ offset: '-2' }, /offset "-2"/],
    [{ buildid__between: '1' }, /unknown operator "between"/],
    [{ nope: '1' }, /unrecognized query parameter "nope"/],
    [{ results: 'two' }, /"results".*not an integer/],
    [{ complete: 'perhaps' }, /not a boolean/],
    [{ buildid__gt: ['1', '2'] }, /gt compares with one value/],
    [{ properties__contains: 'x' }, /cannot be filtered/],
  ])('refuses %j', (query, message) => {
    expect(() => parseResultSpec(query, builds, true)).toThrow(message);
  });

  it('refuses filters on a single entity', () => {
    expect(() => parseResultSpec({ results: '0' }, builds, false)).toThrow(/not a collection/);
    expect(parseResultSpec({ field: 'buildid' }, builds, false).fields).toEqual(['buildid']);
  });
});

describe('PathRouter', () => {
  const router = new PathRouter<string>();
  router.add('/builders/k:builder/builds/n:number', 'build');
  router.add('/builds/n:buildid', 'one');
  router.add('/', 'root');

  it('matches typed segments', () => {
    expect(router.match(['builders', 'noop', 'builds', '3'])).toEqual({
      handler: 'build',
      params: { builder: 'noop', number: 3 },
    });
    expect(router.match(['builders', '7', 'builds', '3'])?.params).toEqual({
      builder: 7,
      number: 3,
    });
    expect(router.match(['builds', 'x'])).toBeUndefined();
    expect(router.match(['builds', '12', ''])).toBeUndefined();
    expect(router.match([])?.handler).toBe('root');
  });

  it('decodes segments', () => {
    expect(splitPath('builders/a%20b/builds')).toEqual(['builders', 'a b', 'builds']);
    expect(splitPath('bad%E0')).toBeUndefined();
    expect(splitPath('')).toEqual([]);
  });
});
