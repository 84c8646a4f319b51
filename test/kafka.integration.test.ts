// Kafka challenges 5a and 5c under bin/glomers at reduced time limits, and 5c with the kill
// nemesis: no acknowledged message may be lost when nodes are SIGKILLed and restarted. Full
// 20 s runs are `make kafka-a`, `make kafka-c`, `make kafka-c-kill`.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runGlomersTest, type GlomersRun } from './support/spawn.js';

const glomers = path.join(repoRoot, 'bin', 'glomers');
const kafka = path.join(repoRoot, 'bin', 'kafka');
const built = existsSync(glomers) && existsSync(kafka);

const store = mkdtempSync(path.join(tmpdir(), 'kafka-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  net: { servers: { 'msgs-per-op': number } };
  availability: { 'ok-fraction': number };
  workload: { 'valid?': boolean | string; 'error-types': string[] };
  stats: { 'by-f': { [f: string]: { 'ok-count': number } } };
  glomers: { nemesis: { kills: number } };
}

function runGlomers(args: string[]): GlomersRun<Results> {
  return runGlomersTest<Results>(store, 'kafka', 'kafka', ['--concurrency', '2n', '--rate', '1000', ...args], [], 60_000);
}

/**
 * The run is valid, at least `minOk` sends and polls succeeded, and the final phase polled from
 * the beginning.
 */
function expectValid(run: ReturnType<typeof runGlomers>, minOk = 100): void {
  expect(run.results.workload['error-types'], run.output).toEqual([]);
  expect(run.results['valid?'], run.output).toBe(true);
  expect(run.status).toBe(0);
  expect(run.results.stats['by-f']['send']?.['ok-count'], run.output).toBeGreaterThan(minOk);
  expect(run.results.stats['by-f']['poll']?.['ok-count'], run.output).toBeGreaterThan(minOk);
  expect(run.history).toContain('"seek-to-beginning?":true');
}

describe.skipIf(!built)('kafka under bin/glomers', () => {
  it('5a: one node', () => {
    const run = runGlomers(['--node-count', '1', '--time-limit', '5', '--final-wait', '1']);
    expectValid(run);
  }, 60_000);

  it('5c: two nodes', () => {
    // The final polls stop once they reach the offsets seen during load; a send still in flight at
    // the time limit is not among them (as in Jepsen, whose tracking generator is dropped with the
    // load phase), so its message counts as seen only if it is visible on the polled node by then.
    // A loaded machine once left one unseen after a 1 s wait (2026-12-08): the wait is 3 s.
    const run = runGlomers(['--node-count', '2', '--time-limit', '5', '--final-wait', '3']);
    expectValid(run);
    expect(run.results.net.servers['msgs-per-op']).toBeLessThan(0.5);
  }, 60_000);

  it('5c with the kill nemesis: no acknowledged message is lost', () => {
    // A fixed schedule: seed 1 kills 4 node processes in 3 kills and leaves time for traffic (an
    // unlucky random one can keep both nodes dead for most of 8 s).
    const run = runGlomers(['--node-count', '2', '--time-limit', '8', '--nemesis', 'kill', '--nemesis-interval', '2', '--final-wait', '3', '--seed', '1']);
    expect(run.history).toMatch(/"f":"kill"/);
    expect(run.history).toMatch(/"f":"start"/);
    expect(run.results.glomers.nemesis.kills).toBeGreaterThan(0);
    // A loaded machine slows restarts, and sends to a dead node time out: fewer oks, still enough
    // traffic for a loss to show.
    expectValid(run, 30);
  }, 60_000);
});
