// Challenge 4 (and pn-counter) under bin/glomers at a reduced time limit: bin/counter against the
// counter workloads and checker, end to end, with partitions and with kills. Full runs:
// `make counter`, `make counter-kill`, `node bench/challenges.mjs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGlomersTest } from './support/spawn.js';

const store = mkdtempSync(path.join(tmpdir(), 'counter-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  workload: { 'valid?': boolean | string; 'final-reads': number[] };
  glomers: { nemesis: { kills: number } };
}

// Counters converge within a couple of seconds of the heal (the node pushes its view every 2 s).
const line = ['--node-count', '3', '--rate', '100', '--time-limit', '5', '--final-wait', '4'];

describe('bin/counter under bin/glomers', () => {
  it('challenge 4 with partitions: valid, and every final read exact', () => {
    const { results, output } = runGlomersTest<Results>(store, 'g-counter', 'counter', [...line, '--nemesis', 'partition']);
    expect(results['valid?'], output).toBe(true);
    const reads = results.workload['final-reads'];
    expect(reads).toHaveLength(3);
    // Exact: every node gives the same total (and valid? says it is an acceptable one).
    expect(new Set(reads).size).toBe(1);
  });

  it('pn-counter with partitions', () => {
    const { results, output } = runGlomersTest<Results>(store, 'pn-counter', 'counter', [...line, '--nemesis', 'partition']);
    expect(results['valid?'], output).toBe(true);
  });

  it('g-counter with kills: acknowledged adds survive their node', () => {
    const { results, output } = runGlomersTest<Results>(store, 'g-counter', 'counter', [
      ...line, '--time-limit', '8', '--nemesis', 'partition,kill', '--nemesis-interval', '2', '--seed', '3',
    ]);
    expect(results['valid?'], output).toBe(true);
    expect(results.glomers.nemesis.kills).toBeGreaterThan(0);
  });
});
