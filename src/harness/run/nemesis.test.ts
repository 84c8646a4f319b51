import { describe, expect, it } from 'vitest';
import { nemesisGapMs, partitionGrudge } from './nemesis.js';
import { createRng } from '../util/rng.js';

const nodes = (n: number) => Array.from({ length: n }, (_, k) => `n${k}`);
const blockedPairs = (g: Record<string, string[]>) => Object.values(g).reduce((sum, s) => sum + s.length, 0);

describe('partition shapes', () => {
  it('one: a single node cut off both ways', () => {
    const g = partitionGrudge('one', nodes(5), createRng(1));
    const loner = Object.keys(g).find((k) => (g[k] ?? []).length === 4) as string;
    expect(loner).toBeDefined();
    for (const other of nodes(5).filter((x) => x !== loner)) expect(g[other]).toEqual([loner]);
  });

  it('majority: floor(n/2) vs the rest, symmetric', () => {
    for (const n of [3, 5, 6]) {
      const g = partitionGrudge('majority', nodes(n), createRng(n));
      const sizes = Object.values(g).map((s) => s.length).sort((a, b) => a - b);
      const small = Math.floor(n / 2);
      const expected = [...Array(n - small).fill(small), ...Array(small).fill(n - small)].sort((a, b) => a - b);
      expect(sizes).toEqual(expected);
      for (const [a, blocked] of Object.entries(g)) for (const b of blocked) expect(g[b]).toContain(a);
    }
  });

  it('minority-third cuts nothing for n <= 3 and floor((n-1)/3) nodes otherwise', () => {
    for (const n of [1, 2, 3]) expect(blockedPairs(partitionGrudge('minority-third', nodes(n), createRng(n)))).toBe(0);
    const g = partitionGrudge('minority-third', nodes(7), createRng(3));
    const minority = Object.keys(g).filter((k) => (g[k] ?? []).length === 5);
    expect(minority).toHaveLength(2);
  });

  it('majorities-ring for n<=5: every node is the middle of one window and drops the others', () => {
    for (const n of [3, 4, 5]) {
      const g = partitionGrudge('majorities-ring', nodes(n), createRng(n * 7));
      const m = Math.floor(n / 2) + 1;
      expect(Object.keys(g).sort()).toEqual(nodes(n));
      for (const blocked of Object.values(g)) expect(blocked).toHaveLength(n - m);
      // the grudge is one-directional: for n=3 some a drops b while b does not drop a
      if (n === 3) {
        const asymmetric = Object.entries(g).some(([a, bs]) => bs.some((b) => !(g[b] ?? []).includes(a)));
        expect(asymmetric).toBe(true);
      }
    }
  });

  it('majorities-ring for n>5: every node still sees a majority (itself included)', () => {
    for (const n of [6, 7, 25]) {
      const g = partitionGrudge('majorities-ring', nodes(n), createRng(n));
      const m = Math.floor(n / 2) + 1;
      for (const node of nodes(n)) {
        expect(n - (g[node] ?? []).length).toBeGreaterThanOrEqual(m);
        expect(g[node]).not.toContain(node);
      }
      expect(blockedPairs(g)).toBeGreaterThan(0);
    }
  });

  it('nemesis gaps are uniform in [0, 2 interval)', () => {
    const rng = createRng(5);
    const gaps = Array.from({ length: 2000 }, () => nemesisGapMs(10, rng));
    expect(Math.max(...gaps)).toBeLessThan(20_000);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(9000);
    expect(mean).toBeLessThan(11000);
  });
});
