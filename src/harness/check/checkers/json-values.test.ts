import { describe, expect, it } from 'vitest';
import { compareValues, IncomparableError, jsonEqual, valueKey } from './json-values.js';

describe('valueKey / jsonEqual', () => {
  it('tells apart values of different JSON types that print alike', () => {
    expect(jsonEqual(1, '1')).toBe(false);
    expect(jsonEqual('[1,2]', [1, 2])).toBe(false);
    expect(jsonEqual('{}', {})).toBe(false);
    expect(jsonEqual(true, 'true')).toBe(false);
    expect(jsonEqual(null, 'null')).toBe(false);
    expect(jsonEqual(null, undefined)).toBe(true);
  });

  it('ignores object key order but not list order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(new Set([valueKey([1, 2]), valueKey([1, 2]), valueKey('x'), valueKey('x')]).size).toBe(2);
  });
});

describe('compareValues', () => {
  it('orders like Clojure compare', () => {
    const sorted = [3, -1, 2.5, 0].sort(compareValues);
    expect(sorted).toEqual([-1, 0, 2.5, 3]);
    expect(['b', 'B', 'a', 'ab'].sort(compareValues)).toEqual(['B', 'a', 'ab', 'b']);
    // vectors: shorter first, then element-wise
    expect([[2], [1, 5], [1, 2]].sort(compareValues)).toEqual([[2], [1, 2], [1, 5]]);
    expect(compareValues(null, 0)).toBe(-1);
    expect(compareValues(false, true)).toBe(-1);
  });

  it('throws for maps and for values of unrelated types', () => {
    expect(() => compareValues(1, 'a')).toThrow(IncomparableError);
    expect(() => compareValues({ a: 1 }, { a: 2 })).toThrow(IncomparableError);
  });
});
