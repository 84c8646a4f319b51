// Challenge 6a and 6c under bin/glomers at reduced time limits: bin/txn against the
// txn-rw-register workload and the Elle checker, end to end. Full 20 s runs are `make txn-a`,
// `make txn-b`, `make txn-c`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGlomersTest, type GlomersRun } from './support/spawn.js';

const store = mkdtempSync(path.join(tmpdir(), 'txn-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  availability: { 'valid?': boolean | string; 'ok-fraction': number };
  stats: { count: number };
  net: { servers: { 'msgs-per-op': number } };
  workload: { 'valid?': boolean | string; 'anomaly-types'?: string[] };
  glomers: { workload?: { strict?: boolean; 'finding-types'?: string[]; 'valid?'?: boolean | string } };
}

function runTxn(args: string[]): GlomersRun<Results> {
  return runGlomersTest<Results>(store, 'txn-rw-register', 'txn', ['--time-limit', '5', '--rate', '1000', ...args], [], 60_000);
}

describe('txn-rw-register under bin/glomers', () => {
  it('6a: one node, read-uncommitted, every transaction answered', () => {
    const { status, results, output } = runTxn(['--node-count', '1', '--concurrency', '2n', '--consistency-models', 'read-uncommitted', '--availability', 'total']);
    expect(results['valid?'], output).toBe(true);
    expect(status).toBe(0);
    expect(results.workload['valid?']).toBe(true);
    expect(results.availability['valid?']).toBe(true);
    expect(results.availability['ok-fraction']).toBe(1);
    expect(results.stats.count).toBeGreaterThan(500);
  });

  it('6c: two nodes, read-committed, total availability through partitions, no glomers findings under --strict', () => {
    const { status, results, history, output } = runTxn([
      '--node-count', '2', '--concurrency', '2n', '--consistency-models', 'read-committed',
      '--availability', 'total', '--nemesis', 'partition', '--strict',
    ]);
    expect(history).toContain('start-partition');
    expect(results['valid?'], output).toBe(true);
    expect(status).toBe(0);
    expect(results.workload['valid?']).toBe(true);
    expect(results.availability['valid?']).toBe(true);
    expect(results.availability['ok-fraction']).toBe(1);
    expect(results.glomers.workload?.strict).toBe(true);
    expect(results.glomers.workload?.['valid?']).toBe(true);
    expect(results.glomers.workload?.['finding-types']).toEqual([]);
    expect(results.net.servers['msgs-per-op']).toBeLessThan(0.1);
  });
});
