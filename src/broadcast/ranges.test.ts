import { describe, expect, it } from 'vitest';
import { decodeRanges, encodeRanges } from './ranges.js';

describe('range encoding', () => {
  it('collapses runs, sorts and drops duplicates', () => {
    expect(encodeRanges([5, 1, 2, 3, 9, 10, 3, 7])).toEqual([[1, 3], 5, 7, [9, 10]]);
    expect(encodeRanges([])).toEqual([]);
  });

  it('round-trips random sets', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 50; round += 1) {
      const values = new Set<number>();
      const count = Math.floor(random() * 200);
      for (let i = 0; i < count; i += 1) values.add(Math.floor(random() * 300) - 20);
      const decoded = decodeRanges(encodeRanges(values), 10_000);
      expect(decoded).toEqual([...values].sort((a, b) => a - b));
    }
  });

  it('keeps a long catch-up batch small', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    expect(JSON.stringify(encodeRanges(values)).length).toBeLessThan(20);
  });

  it('rejects malformed input and expansions past the bound', () => {
    expect(decodeRanges('1,2', 100)).toBeUndefined();
    expect(decodeRanges([1.5], 100)).toBeUndefined();
    expect(decodeRanges([[3, 1]], 100)).toBeUndefined();
    expect(decodeRanges([[1, 2, 3]], 100)).toBeUndefined();
    expect(decodeRanges([['a', 2]], 100)).toBeUndefined();
    expect(decodeRanges([[0, 1e12]], 100)).toBeUndefined();
    expect(decodeRanges([[0, 99]], 100)).toHaveLength(100);
    expect(decodeRanges([[0, 99], 200], 100)).toBeUndefined();
  });
});
