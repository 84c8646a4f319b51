import { describe, expect, it } from 'vitest';
import { getWorkload, workloads } from './index.js';

describe('workload registry', () => {
  it('finds each workload by its Maelstrom name', () => {
    // Every workload Maelstrom has, and our own (sched, timers: docs/workloads/).
    expect(Object.keys(workloads).sort()).toEqual([
      'broadcast', 'echo', 'g-counter', 'g-set', 'kafka', 'lin-kv', 'pn-counter', 'sched', 'timers', 'txn-list-append', 'txn-rw-register', 'unique-ids',
    ]);
    for (const name of Object.keys(workloads)) expect(getWorkload(name)?.name).toBe(name);
  });

  it('returns undefined for unknown names, including inherited property names', () => {
    expect(getWorkload('lin_kv')).toBeUndefined();
    expect(getWorkload('constructor')).toBeUndefined();
  });
});
