// lin-kv under bin/glomers at reduced time limits: bin/raft on the Raft tutorial's line, with
// partitions and with kills, and a node that is not linearizable caught by the checker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runGlomersTest } from './support/spawn.js';

const store = mkdtempSync(path.join(tmpdir(), 'lin-kv-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  availability: { 'ok-fraction': number };
  workload: { 'valid?': boolean | string; failures: unknown[] };
  glomers: { nemesis: { kills: number } };
}

const tutorial = ['--node-count', '3', '--concurrency', '4n', '--rate', '30', '--time-limit', '10', '--nemesis', 'partition', '--nemesis-interval', '3'];

describe('lin-kv under bin/glomers', () => {
  it('bin/raft on the tutorial line with partitions: linearizable', () => {
    const { results, output } = runGlomersTest<Results>(store, 'lin-kv', 'raft', tutorial);
    expect(results['valid?'], output).toBe(true);
    expect(results.workload.failures).toEqual([]);
    expect(results.availability['ok-fraction']).toBeGreaterThan(0.5);
  });

  it('bin/raft with kills: a restarted node comes back safely', () => {
    const { results, output } = runGlomersTest<Results>(store, 'lin-kv', 'raft', [
      ...tutorial.slice(0, -4), '--nemesis', 'partition,kill', '--nemesis-interval', '2', '--seed', '4',
    ]);
    expect(results['valid?'], output).toBe(true);
    expect(results.glomers.nemesis.kills).toBeGreaterThan(0);
  });

  it('a node that answers from its own copy is not linearizable', () => {
    // runGlomersTest resolves bin/<name>; the fixture is not built, so go through its relative path.
    const { results, output } = runGlomersTest<Results>(
      store, 'lin-kv', path.relative(path.join(repoRoot, 'bin'), path.join(repoRoot, 'test/fixtures/fixture-node.js')),
      ['--node-count', '2', '--concurrency', '4n', '--rate', '50', '--time-limit', '4'], ['local-kv'],
    );
    expect(results.workload['valid?'], output).toBe(false);
    expect(results.workload.failures.length).toBeGreaterThan(0);
  });
});
