// bin/counter --durability memory under bin/glomers on the pn-counter line at a reduced time
// limit, end to end. Full runs: `make pn-counter-memory`, `node bench/counters.mjs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGlomersTest } from '../../test/support/spawn.js';

const store = mkdtempSync(path.join(tmpdir(), 'counter-memory-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  net: { servers: { 'msgs-per-op': number } };
  workload: { 'final-reads': number[] };
}

describe('bin/counter --durability memory under bin/glomers', () => {
  it('pn-counter with partitions: valid, exact final reads, a few messages per hundred operations', () => {
    const line = ['--node-count', '3', '--rate', '100', '--time-limit', '6', '--final-wait', '6', '--nemesis', 'partition', '--nemesis-interval', '2'];
    const { results, output } = runGlomersTest<Results>(store, 'pn-counter', 'counter', line, ['--durability', 'memory']);
    expect(results['valid?'], output).toBe(true);
    expect(new Set(results.workload['final-reads']).size).toBe(1);
    // kv mode costs a seq-kv round trip per add: about 0.67 here
    expect(results.net.servers['msgs-per-op']).toBeLessThan(0.15);
  });
});
