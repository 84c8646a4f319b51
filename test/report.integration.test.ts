// Wrong nodes (test/fixtures/wrong) run end to end through the built bin/glomers: for each
// workload, report.html and the console summary must explain the verdict in words that name the
// values, ids, nodes and errors, and every run's summary gives availability and latency.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot } from './support/spawn.js';

const storeRoot = mkdtempSync(path.join(os.tmpdir(), 'glomers-report-it-'));
afterAll(() => rmSync(storeRoot, { recursive: true, force: true }));

const wrong = (name: string): string => path.join(repoRoot, 'test/fixtures/wrong', name);

interface Outcome {
  exitCode: number | null;
  console: string;
  html: string;
  results: {
    'valid?': unknown;
    workload: { [key: string]: unknown };
    glomers: {
      explanation: { headline: string; facts: Array<{ text: string }> };
      failures: { groups: Array<{ error: string; text: string | null }>; 'never-ok': string[] };
      nemesis: { 'partitioned-s': number; 'partition-shapes': Record<string, number>; 'isolated-s': Record<string, number> };
    };
  };
}

function run(args: string[]): Outcome {
  const store = mkdtempSync(path.join(storeRoot, 'run-'));
  const child = spawnSync(binPath('glomers'), ['test', ...args, '--store', store, '--final-wait', '1', '--seed', '7'], { encoding: 'utf8', timeout: 60_000 });
  const latest = path.join(store, 'latest');
  return {
    exitCode: child.status,
    console: child.stdout,
    html: readFileSync(path.join(latest, 'report.html'), 'utf8'),
    results: JSON.parse(readFileSync(path.join(latest, 'results.json'), 'utf8')) as Outcome['results'],
  };
}

/** The page's text with tags dropped and entities undone, for sentence checks. */
function pageText(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

function expectLatencyAndAvailability(outcome: Outcome): void {
  expect(outcome.console).toMatch(/^Operations: \d+ completed: .* availability \(ok-fraction\) /m);
  expect(outcome.console).toMatch(/^Latency: \w+ p50 [\d.]+ p95 [\d.]+ p99 [\d.]+ max [\d.]+ ms/m);
}

describe('report and summary explain invalid verdicts', () => {
  it('broadcast that tells its neighbours once, under partitions: the lost values, where they went in, who lacks them', () => {
    const outcome = run(['-w', 'broadcast', '--bin', wrong('broadcast-once.mjs'), '--node-count', '5', '--topology', 'line', '--time-limit', '4', '--rate', '20', '--nemesis', 'partition', '--nemesis-interval', '0.5']);
    const lost = outcome.results.workload['lost'] as number[];
    expect(outcome.exitCode, outcome.console).toBe(1);
    expect(lost.length).toBeGreaterThan(0);
    const text = pageText(outcome.html);
    for (const value of lost.slice(0, 3)) {
      const sentence = new RegExp(`Lost ${value}: broadcast via n\\d+ \\(process \\d+\\) at [\\d.]+ s.*?the final reads on .*? lack it\\.`);
      expect(outcome.console).toMatch(sentence);
      expect(text).toMatch(sentence);
    }
    expect(outcome.console).toContain(`Why: ${outcome.results.glomers.explanation.headline}`);
    expect(outcome.html).toContain('<svg id="stable-latency"');
    expect(outcome.html).toContain('id="messages-0"');
    // the nemesis, in results.json, on the console and drawn beside latency
    expect(outcome.results.glomers.nemesis['partitioned-s']).toBeGreaterThan(0);
    expect(Object.keys(outcome.results.glomers.nemesis['partition-shapes']).length).toBeGreaterThan(0);
    expect(outcome.console).toMatch(/^Nemesis \(partition\): \d+ partitions \([\d.]+ s partitioned; /m);
    expect(outcome.html).toContain('<svg id="nemesis"');
    expectLatencyAndAvailability(outcome);
  });

  it('unique-ids whose nodes each count from 1: the duplicate ids and the ops and nodes that produced them', () => {
    const outcome = run(['-w', 'unique-ids', '--bin', wrong('unique-ids-counter.mjs'), '--node-count', '2', '--time-limit', '2', '--rate', '20']);
    expect(outcome.exitCode, outcome.console).toBe(1);
    const sentence = /Id 1 was handed out \d times: process \d+ via n[01] at [\d.]+ s \(op \d+\)/;
    expect(outcome.console).toMatch(sentence);
    expect(pageText(outcome.html)).toMatch(sentence);
    expect(outcome.results.glomers.explanation.facts[0]?.text).toMatch(/via n0.*via n1|via n1.*via n0/);
    expectLatencyAndAvailability(outcome);
  });

  it('g-counter that never shares its adds: each final read against the acceptable sum, and the adds in the gap', () => {
    const outcome = run(['-w', 'g-counter', '--bin', wrong('counter-local.mjs'), '--node-count', '2', '--time-limit', '2', '--rate', '20']);
    expect(outcome.exitCode, outcome.console).toBe(1);
    const sentence = /Final read on n[01] \(process \d+\) at [\d.]+ s returned -?\d+: \d+ short of the least acceptable sum \d+\. Acknowledged adds it may be missing .*: \d+ via n[01] at/;
    expect(outcome.console).toMatch(sentence);
    expect(pageText(outcome.html)).toMatch(sentence);
    expect(outcome.html).toContain('<svg id="counter-value"');
    expectLatencyAndAvailability(outcome);
  });

  it('g-set that keeps its own set: lost elements and the node each was added through', () => {
    const outcome = run(['-w', 'g-set', '--bin', wrong('g-set-local.mjs'), '--node-count', '2', '--time-limit', '2', '--rate', '20']);
    expect(outcome.exitCode, outcome.console).toBe(1);
    const sentence = /Lost \d+: added via n[01] \(process \d+\)/;
    expect(outcome.console).toMatch(sentence);
    expect(pageText(outcome.html)).toMatch(sentence);
    expectLatencyAndAvailability(outcome);
  });

  it('lin-kv with a copy per node: the operation that cannot be placed and the nodes that served the order', () => {
    const outcome = run(['-w', 'lin-kv', '--bin', wrong('lin-kv-local.mjs'), '--node-count', '2', '--concurrency', '4', '--time-limit', '3', '--rate', '30']);
    expect(outcome.exitCode, outcome.console).toBe(1);
    expect(outcome.results.glomers.explanation.headline).toMatch(/not linearizable \(key \d+\).*nodes involved: n0 and n1/);
    const sentence = /cannot be placed: .*\. n[01] served it; the last steps of the order found were .* via n[01] \(op \d+\)/;
    expect(outcome.console).toMatch(sentence);
    expect(pageText(outcome.html)).toMatch(sentence);
    // the drawing groups rows by the node that served them
    expect(outcome.html).toMatch(/>n0 · p\d+<\/text>/);
    expect(outcome.html).toMatch(/>n1 · p\d+<\/text>/);
    expectLatencyAndAvailability(outcome);
  });

  it('kafka that gives two messages one offset: the error, its key and offsets, and the operations and node behind it', () => {
    const outcome = run(['-w', 'kafka', '--bin', wrong('kafka-shared-offsets.mjs'), '--node-count', '1', '--concurrency', '2', '--time-limit', '2', '--rate', '30']);
    expect(outcome.exitCode, outcome.console).toBe(1);
    expect(outcome.results.glomers.explanation.headline).toMatch(/^The log broke its contract: inconsistent-offsets ×\d+; worst realtime lag [\d.]+ s/);
    const sentence = /inconsistent-offsets on key \d+: Offset \d+ of key \d+ holds 2 different messages .* \(ops [\d, ]+ via n0, from [\d.]+ s\)\./;
    expect(outcome.console).toMatch(sentence);
    expect(pageText(outcome.html)).toMatch(sentence);
    expect(pageText(outcome.html)).toMatch(/worst-realtime-lag in results\.json: ([\d.]+) s .*; the highest point drawn is \1 s\./);
    expectLatencyAndAvailability(outcome);
  });

  it('txn-rw-register with a copy per node: the anomalies in one sentence, each transaction drawn with its node', () => {
    const outcome = run(['-w', 'txn-rw-register', '--bin', wrong('txn-local.mjs'), '--node-count', '2', '--concurrency', '2', '--time-limit', '2', '--rate', '30']);
    expect(outcome.exitCode, outcome.console).toBe(1);
    expect(outcome.console).toMatch(/^Why: The history shows [\w-]+.*, so it is not [\w-]+.*; each anomaly is drawn below\.$/m);
    expect(outcome.html).toMatch(/T\d+ · process \d+ · n[01]</);
    expectLatencyAndAvailability(outcome);
  });

  it('lin-kv against a node that supports nothing: the errors, and that only the never-succeeding fs fail the run', () => {
    const outcome = run(['-w', 'lin-kv', '--bin', wrong('not-supported.mjs'), '--node-count', '1', '--concurrency', '2', '--time-limit', '2', '--rate', '20']);
    expect(outcome.exitCode, outcome.console).toBe(1);
    const header = 'The run is invalid only because some operations never succeeded';
    expect(outcome.console).toContain(header);
    expect(outcome.console).toMatch(/\d+× not-supported "unsupported message type '(read|write|cas)'"/);
    expect(outcome.console).toMatch(/e\.g\. (read|write|cas) .* by process \d+ via n0: fail at/);
    expect(outcome.console).toMatch(/No read ever succeeded \(\d+ completed: \d+ fail, 0 info\); commonest error: not-supported "unsupported message type 'read'"/);
    const text = pageText(outcome.html);
    expect(text).toContain(header);
    expect(text).toContain("unsupported message type 'read'");
    expect(text).toContain('nothing to judge');
    expect(outcome.html).toContain('<svg id="failures"');
    expect(outcome.results.glomers.failures.groups[0]?.error).toBe('not-supported');
    expect(outcome.console).toMatch(/^Operations: \d+ completed: 0 ok, \d+ fail, 0 info; availability \(ok-fraction\) 0/m);
  });
});
