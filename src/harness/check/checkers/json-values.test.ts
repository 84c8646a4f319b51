import { describe, expect, it } from 'vitest';
import { compareValues, IncomparableError, jsonEqual, pairKey, valueKey } from './json-values.js';

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

describe('pairKey', () => {
  it('is equal for two pairs exactly when both parts are equal, in either of its forms', () => {
    const parts = [0, 1, 7, 2 ** 11 - 1, 2 ** 11, 2 ** 19 - 1, 2 ** 19, 2 ** 20, 2 ** 30, 2 ** 32, -1, 1.5, '1', '7', null, true, [1], { a: 1 }];
    const pairs = parts.flatMap((k) => parts.map((v) => [k, v] as const));
    expect(new Set(pairs.map(([k, v]) => pairKey(k, v))).size).toBe(pairs.length);
    expect(pairKey(3, 4)).toBe(pairKey(3, 4));
    expect(pairKey({ a: 1, b: 2 }, 'x')).toBe(pairKey({ b: 2, a: 1 }, 'x'));
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
