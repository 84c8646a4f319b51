import { describe, expect, it } from 'vitest';
import { getWorkload, workloads } from './index.js';

describe('workload registry', () => {
  it('finds each workload by its Maelstrom name', () => {
    expect(Object.keys(workloads).sort()).toEqual(['broadcast', 'echo', 'unique-ids']);
    for (const name of Object.keys(workloads)) expect(getWorkload(name)?.name).toBe(name);
  });

  it('returns undefined for unknown names, including inherited property names', () => {
    expect(getWorkload('lin-kv')).toBeUndefined();
    expect(getWorkload('constructor')).toBeUndefined();
  });
});
