import { describe, expect, it } from 'vitest';
import { createIdGenerator } from './ids.js';

describe('createIdGenerator', () => {
  it('never repeats within a node, across nodes, or across restarts of one node', () => {
    const seen = new Set<string>();
    const generators = [
      createIdGenerator('n0', 1_000),
      createIdGenerator('n1', 1_000),
      createIdGenerator('n0', 2_000), // n0 restarted
      createIdGenerator('n1', 1_000_000),
    ];
    for (const next of generators) for (let i = 0; i < 10_000; i++) seen.add(next());
    expect(seen.size).toBe(40_000);
  });

  it('formats ids as node-boot-counter, boot and counter in base 36', () => {
    const next = createIdGenerator('n1', 36);
    expect([next(), next()]).toEqual(['n1-10-1', 'n1-10-2']);
  });
});
