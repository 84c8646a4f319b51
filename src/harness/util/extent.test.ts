import { describe, expect, it } from 'vitest';
import { maxOf, minOf } from './extent.js';

describe('minOf and maxOf', () => {
  it('take any number of values, where spreading them into Math.min throws', () => {
    const many = Array.from({ length: 300_000 }, (_, k) => (k * 7919) % 300_001);
    expect(() => Math.min(...many)).toThrow(RangeError);
    expect(minOf(many)).toBe(0);
    expect(maxOf(many)).toBe(many.reduce((a, b) => Math.max(a, b), -Infinity));
    expect(minOf([])).toBe(Infinity);
    expect(maxOf(new Float64Array([2, -1, 5]))).toBe(5);
  });
});
