import { describe, expect, it } from 'vitest';
import { EMPTY_SPEC } from '../data/result-spec.js';
import { inMemory, toJson } from './respond.js';

describe('toJson', () => {
  it('writes compact JSON with sorted keys, like json.dumps(sort_keys=True)', () => {
    expect(toJson({ b: 1, a: [{ z: null, y: 'é"' }], c: undefined, d: true })).toBe(
      '{"a":[{"y":"é\\"","z":null}],"b":1,"d":true}',
    );
    expect(toJson([undefined, Number.NaN])).toBe('[null,null]');
  });

  it('gives the same text on the fast path and the exact one', () => {
    // array-index keys ("10" sorts before "9"), bigints, toJSON, nesting, unsorted keys
    expect(toJson({ props: { '9': 1, '10': 2, b: [1n, { z: 1, a: 2 }] } })).toBe(
      '{"props":{"10":2,"9":1,"b":[1,{"a":2,"z":1}]}}',
    );
    expect(toJson({ at: new Date(0), f: () => 1, s: Symbol('x'), list: [() => 1] })).toBe(
      '{"at":"1970-01-01T00:00:00.000Z","list":[null]}',
    );
    expect(toJson({ builds: [{ c: 1, a: { y: null, x: 'é' } }], meta: { total: 2 } })).toBe(
      '{"builds":[{"a":{"x":"é","y":null},"c":1}],"meta":{"total":2}}',
    );
    expect(toJson('text')).toBe('"text"');
  });
});

describe('inMemory', () => {
  const rows = [
    { id: 1, name: 'a', tags: ['x'], at: null },
    { id: 2, name: 'b', tags: ['x', 'y'], at: 5 },
    { id: 3, name: 'c', tags: [], at: 3 },
  ];
  const ids = (spec: Partial<typeof EMPTY_SPEC>) =>
    inMemory(rows, { ...EMPTY_SPEC, ...spec }).items.map((r) => r.id);

  it('filters with Buildbot semantics', () => {
    expect(ids({ filters: [{ field: 'tags', op: 'contains', values: ['y'] }] })).toEqual([2]);
    expect(ids({ filters: [{ field: 'tags', op: 'contains', values: ['y', 'x'] }] })).toEqual([
      1, 2,
    ]);
    expect(ids({ filters: [{ field: 'id', op: 'eq', values: [1, 3] }] })).toEqual([1, 3]);
    expect(ids({ filters: [{ field: 'id', op: 'ne', values: [1, 3] }] })).toEqual([2]);
    expect(ids({ filters: [{ field: 'at', op: 'gt', values: [2] }] })).toEqual([2, 3]);
    expect(ids({ filters: [{ field: 'name', op: 'notin', values: ['a'] }] })).toEqual([2, 3]);
  });

  it('orders NULL first ascending and last descending, and counts before paging', () => {
    expect(ids({ order: [{ field: 'at', descending: false }] })).toEqual([1, 3, 2]);
    expect(ids({ order: [{ field: 'at', descending: true }] })).toEqual([2, 3, 1]);
    const page = inMemory(rows, { ...EMPTY_SPEC, limit: 1, offset: 1 });
    expect(page).toEqual({ items: [rows[1]], total: 3 });
  });
});
