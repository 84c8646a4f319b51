// `glomers analyze`: the checkers again on a stored run, from one of ours (history.jsonl) and from a
// Maelstrom store folder (history.edn), with the same results as the original analysis.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { analyzeStoredRun } from '../src/harness/analyze.js';
import { loadReferenceResults } from './support/reference-runs.js';
import { parseTestArgs } from '../src/harness/cli/cli.js';
import { createStoreDir } from '../src/harness/report/index.js';
import { finishRun } from '../src/harness/finish.js';
import { parseEdn, parseHistoryEdn } from '../src/harness/report/edn-read.js';
import { runTest } from '../src/harness/run/runner.js';
import type { Json, TestOptions } from '../src/harness/types.js';
import { getWorkload } from '../src/harness/workloads/index.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glomers-analyze-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function options(args: string[]): TestOptions {
  const parsed = parseTestArgs(args, undefined, { requireBin: false });
  if (parsed.kind !== 'test') throw new Error('expected test');
  return parsed.opts;
}

const readResults = (dir: string): { [key: string]: Json } =>
  JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { [key: string]: Json };

const sortedSets = (workload: Json | undefined): Json => {
  const copy = { ...(workload as { [key: string]: Json }) };
  for (const key of ['lost', 'never-read', 'stale']) {
    const value = copy[key];
    if (Array.isArray(value)) copy[key] = [...value].sort((a, b) => Number(a) - Number(b));
  }
  return copy;
};

describe('EDN reading', () => {
  it('reads keywords, records, sets, nil, strings, numbers and nesting', () => {
    expect(parseEdn('#jepsen.history.Op{:type :ok, :f :read, :value #{1 2}, :process 3, :final? true, :error nil}')).toEqual({
      type: 'ok',
      f: 'read',
      value: [1, 2],
      process: 3,
      'final?': true,
      error: null,
    });
    expect(parseEdn('[:send "5" [3 1.5] -2 "a\\"b\\n" \\c ; comment\n 7N]')).toEqual(['send', '5', [3, 1.5], -2, 'a"b\n', 'c', 7]);
    expect(parseEdn('{"k1" [[0 1]], 2 :x}')).toEqual({ k1: [[0, 1]], '2': 'x' });
    expect(() => parseEdn('[1 2')).toThrow(/missing \]/);
    expect(() => parseEdn('['.repeat(5000) + ']'.repeat(5000))).toThrow(/nesting deeper/);
  });

  it('reads a history one operation per line', () => {
    const ops = parseHistoryEdn('{:index 0, :type :invoke, :process 0, :f :read, :value nil, :time 5}\n{:index 1, :type :ok, :process 0, :f :read, :value [1], :time 9}\n');
    expect(ops.map((op) => [op.type, op.f, op.value])).toEqual([['invoke', 'read', null], ['ok', 'read', [1]]]);
  });
});

describe('glomers analyze', () => {
  it("gives Maelstrom's verdict on a Maelstrom store folder (history.edn)", async () => {
    const dir = tempDir();
    copyFileSync('test/fixtures/maelstrom-store/broadcast-gossip-partition/history.edn', path.join(dir, 'history.edn'));
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await analyzeStoredRun(dir, options(['-w', 'broadcast', '--node-count', '5', '--time-limit', '20', '--rate', '10', '--nemesis', 'partition']));
    out.mockRestore();
    err.mockRestore();
    const reference = loadReferenceResults('broadcast-gossip-partition');
    expect(code).toBe(0);
    const ours = readResults(dir);
    expect(sortedSets(ours.workload)).toEqual(sortedSets(reference.workload));
    expect(ours.stats).toEqual(reference.stats);
    expect(ours.availability).toEqual(reference.availability);
  });

  it('on one of our runs, gives the results the run gave', async () => {
    const store = tempDir();
    const opts = options([
      '-w', 'broadcast', '--bin', path.resolve('test/fixtures/fixture-node.js'), '--node-count', '3', '--time-limit', '1.5', '--rate', '20',
      '--final-wait', '0.5', '--seed', '5', '--store', store,
    ]);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const outcome = await runTest(opts, { getWorkload, createStoreDir, finishRun, progressStream: null });
    const original = readResults(outcome.storeDir);
    const code = await analyzeStoredRun(outcome.storeDir, opts);
    out.mockRestore();
    err.mockRestore();
    const again = readResults(outcome.storeDir);
    expect(code).toBe(outcome.exitCode);
    for (const section of ['workload', 'stats', 'availability', 'net', 'exceptions', 'valid?']) {
      expect(again[section], section).toEqual(original[section]);
    }
  }, 30_000);

  it('names what is missing when the folder has no history', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await analyzeStoredRun(tempDir(), options(['-w', 'echo']));
    expect(code).toBe(254);
    expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/neither history.jsonl \(glomers\) nor history.edn \(Maelstrom\)/);
    err.mockRestore();
  });
});

// Keep the fixture folder honest: it is the reference run's history, written as EDN.
describe('the Maelstrom-format fixture', () => {
  it('holds the reference history', async () => {
    const { loadReferenceHistory } = await import('./support/reference-runs.js');
    const fromEdn = parseHistoryEdn(readFileSync('test/fixtures/maelstrom-store/broadcast-gossip-partition/history.edn', 'utf8'));
    expect(fromEdn).toEqual(loadReferenceHistory('broadcast-gossip-partition'));
  });
});
