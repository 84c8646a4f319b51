// bin/g-set under bin/glomers on the g-set line at a reduced time limit, end to end (the set-full
// checker, real processes, partitions). Full runs: `make g-set`, `node bench/counters.mjs g-set`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGlomersTest } from '../../test/support/spawn.js';

const store = mkdtempSync(path.join(tmpdir(), 'g-set-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  net: { servers: { 'msg-count': number; 'msgs-per-op': number } };
  workload: { 'lost-count': number; 'stable-count': number };
}

const line = ['--node-count', '3', '--rate', '10', '--time-limit', '8', '--final-wait', '5'];

describe('bin/g-set under bin/glomers', () => {
  it('without faults: valid, and at most four messages a round (leaves -> hub -> leaves)', () => {
    const { results, output } = runGlomersTest<Results>(store, 'g-set', 'g-set', line, ['--round', '1000']);
    expect(results['valid?'], output).toBe(true);
    expect(results.workload['stable-count']).toBeGreaterThan(20);
    // about 14 s of rounds (8 s load, 5 s wait, start-up), one more for the last acknowledgements
    expect(results.net.servers['msg-count']).toBeLessThanOrEqual(4 * 16);
  });

  it('with partitions: valid, nothing lost, far fewer messages than full-state gossip', () => {
    const { results, output } = runGlomersTest<Results>(store, 'g-set', 'g-set', [...line, '--nemesis', 'partition', '--nemesis-interval', '3', '--seed', '5']);
    expect(results['valid?'], output).toBe(true);
    expect(results.workload['lost-count']).toBe(0);
    expect(results.net.servers['msgs-per-op']).toBeLessThan(0.5);
  });
});
