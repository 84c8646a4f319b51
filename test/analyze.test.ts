// `glomers analyze`: the checkers again on a stored run, from one of ours (history.jsonl) and from a
// Maelstrom store folder (history.edn), with the same results as the original analysis.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { analyzeCommand, analyzeOptions, analyzeStoredRun } from '../src/harness/analyze.js';
import { knownWorkloads, main } from '../src/harness/main.js';
import { loadReferenceResults } from './support/reference-runs.js';
import { parseTestArgs } from '../src/harness/cli/cli.js';
import { createStoreDir } from '../src/harness/report/index.js';
import { finishRun } from '../src/harness/finish.js';
import { historyAsJson, parseEdn, parseHistoryEdn } from '../src/harness/report/edn-read.js';
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
    const { ops } = parseHistoryEdn('{:index 0, :type :invoke, :process 0, :f :read, :value nil, :time 5}\n{:index 1, :type :ok, :process 0, :f :read, :value [1], :time 9}\n');
    expect(ops.map((op) => [op.type, op.f, op.value])).toEqual([['invoke', 'read', null], ['ok', 'read', [1]]]);
  });
});

describe('history.edn fast path', () => {
  // A comment line is outside the fast path's part of EDN, so the reader reads the whole file.
  const byReader = (text: string): Json => parseHistoryEdn(text + '\n; read by the reader\n').ops as unknown as Json;
  const byFast = (text: string): Json => parseHistoryEdn(text).ops as unknown as Json;

  it('reads what the reader reads, op for op, on the fixture', () => {
    const text = readFileSync('test/fixtures/maelstrom-store/broadcast-gossip-partition/history.edn', 'utf8');
    expect(historyAsJson(Buffer.from(text))).toBeDefined();
    expect(byFast(text)).toEqual(byReader(text));
  });

  it('gives back reference runs\' histories from their EDN, by the fast path and by the reader alike', async () => {
    const { loadReferenceHistory } = await import('./support/reference-runs.js');
    const { toEdn } = await import('../src/harness/report/edn.js');
    // one of each workload's shapes, the smaller runs (every run took 28 s on a loaded machine)
    for (const name of ['echo-demo', 'lin-kv-raft-partition', 'g-set-crdt', 'pn-counter-crdt', 'txn-list-append-lin-kv', 'kafka-linkv-2node']) {
      const history = loadReferenceHistory(name);
      const text = history.map((op) => toEdn(op, Infinity)).join('\n') + '\n';
      expect(historyAsJson(Buffer.from(text)), name).toBeDefined();
      const fast = byFast(text);
      expect(fast, name).toEqual(history);
      expect(byReader(text), name).toEqual(fast);
    }
  }, 60_000);

  it('reads sets, nested maps with number and string keys, nil, booleans, negatives, unicode; hands floats, escapes and tags to the reader', () => {
    const lines = [
      '{:type :ok, :f :txn, :value [[:r 9 nil] [:append -3 [1 2]]], :time 0, :process 0, :index 0}',
      '{:type :ok, :f :poll, :value {"k1" [[0 1] [1 -2]], 7 #{1 2}, :x {:y true, :z false}}, :time 5, :process :nemesis, :index 1}',
      '{:type :info, :f :send, :value "héllo ☃", :time 6, :process 3, :index 2, :error [:net-timeout "x"]}',
    ];
    const plain = lines.join('\n') + '\n';
    expect(historyAsJson(Buffer.from(plain))).toBeDefined();
    expect(byFast(plain)).toEqual(byReader(plain));
    for (const odd of ['{:type :ok, :f :r, :value 1.5, :time 7, :process 0, :index 3}', '{:type :ok, :f :r, :value "a\\"b", :time 7, :process 0, :index 3}', '#jepsen.history.Op{:type :ok, :f :r, :value 00, :time 7, :process 0, :index 3}']) {
      expect(historyAsJson(Buffer.from(plain + odd))).toBeUndefined();
      expect(byFast(plain + odd)).toEqual(byReader(plain + odd));
    }
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
    // what only the run could measure is kept, not replaced by zeros
    const lateness = (results: { [key: string]: Json }) => (results.glomers as { [key: string]: Json }).lateness;
    expect(lateness(again)).toEqual(lateness(original));
    expect((lateness(again) as { deliveries: number }).deliveries).toBeGreaterThan(0);
    // and the report draws the run's messages from its journal, as the run's own report did
    const diagram = (html: string) => html.match(/Message flow \((?:first )?(\d+)/)?.[1];
    const report = readFileSync(path.join(outcome.storeDir, 'report.html'), 'utf8');
    expect(diagram(report)).toBeDefined();
    expect(Number(diagram(report))).toBeGreaterThan(0);
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
    const fromEdn = parseHistoryEdn(readFileSync('test/fixtures/maelstrom-store/broadcast-gossip-partition/history.edn', 'utf8')).ops;
    expect(fromEdn).toEqual(loadReferenceHistory('broadcast-gossip-partition'));
  });
});

// ---- damaged input (issue 23 item 8): policy in docs/analyze.md --------------------------------

const BROADCAST_FLAGS = ['-w', 'broadcast', '--node-count', '5', '--time-limit', '20', '--rate', '10', '--nemesis', 'partition'];

/** A folder holding the reference broadcast run as one of ours (history.jsonl), lines as given. */
async function folderWithHistoryLines(edit: (lines: string[]) => string): Promise<string> {
  const { loadReferenceHistory } = await import('./support/reference-runs.js');
  const { historyLine } = await import('../src/harness/run/history-file.js');
  const dir = tempDir();
  writeFileSync(path.join(dir, 'history.jsonl'), edit(loadReferenceHistory('broadcast-gossip-partition').map(historyLine)));
  return dir;
}

async function analyzeQuietly(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await analyzeCommand([dir, ...args], knownWorkloads());
    const text = (spy: typeof out) => spy.mock.calls.map((c) => String(c[0])).join('');
    return { code, stdout: text(out), stderr: text(err) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("glomers analyze keeps what only the run saw", () => {
  it("a node's crash recorded in results.json keeps the run invalid; its lateness is kept", async () => {
    const dir = await folderWithHistoryLines((lines) => lines.join('\n') + '\n');
    const crash = { node: 'n3', kind: 'exit', detail: 'n3 exited with code 1', 'exit-code': 1, signal: null, 'stderr-tail': ['panic: boom'] };
    const lateness = { deliveries: 812, 'p50-ms': 0.2, 'p99-ms': 1.5, 'max-ms': 4, 'behind?': false, 'harness-busy': 0.02 };
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ 'valid?': false, glomers: { lateness, problems: [crash, { node: 7 }] } }));
    const { code } = await analyzeQuietly(dir, BROADCAST_FLAGS);
    const glomers = readResults(dir).glomers as { [key: string]: Json };
    expect(glomers.problems).toEqual([crash]);
    expect(glomers.lateness).toEqual(lateness);
    expect(glomers['valid?']).toBe(false);
    expect(code).toBe(1);
  });

  it('says lateness was not measured for a folder no glomers run wrote results into, and again on a second analysis', async () => {
    const dir = await folderWithHistoryLines((lines) => lines.join('\n') + '\n');
    for (let round = 0; round < 2; round++) {
      const { code, stdout, stderr } = await analyzeQuietly(dir, BROADCAST_FLAGS);
      expect(code).toBe(0);
      expect((readResults(dir).glomers as { [key: string]: { [key: string]: Json } }).lateness?.['not-measured']).toBe(true);
      const report = readFileSync(path.join(dir, 'report.html'), 'utf8');
      expect(report).toContain('not measured (analysed from a folder no glomers run wrote results into)');
      // no journal: no empty diagrams, and no links to them from the explanation
      expect(report).toContain('No messages to draw');
      expect(report).not.toContain('messages around it');
      expect(stdout + stderr).toContain('Network lateness: not measured');
    }
  });
});

describe('glomers analyze on damaged input', () => {
  it('drops a torn last line of history.jsonl, says so, and judges the rest as a run stopped there', async () => {
    const dir = await folderWithHistoryLines((lines) => lines.join('\n') + '\n' + '{"f":"read","index":99999,"pro');
    const { code, stderr } = await analyzeQuietly(dir, BROADCAST_FLAGS);
    const results = readResults(dir);
    expect(stderr).toMatch(/line 409: torn last line, dropped/);
    expect((results.workload as { [key: string]: Json })['valid?']).toBe(true);
    expect((results.glomers as { [key: string]: Json })['stopped-early']).toMatch(/torn line \(line 409\)/);
    // analysed again: the reason is said once, not twice
    await analyzeQuietly(dir, BROADCAST_FLAGS);
    expect((readResults(dir).glomers as { [key: string]: Json })['stopped-early']).toBe('history.jsonl ends in a torn line (line 409), dropped');
    // a run cut off has not shown what it set out to show: unknown, as an interrupted run
    expect(results['valid?']).toBe('unknown');
    expect(code).toBe(2);
  });

  for (const [what, bad, reason] of [
    ['a line that is not JSON', '{"f":"read",', /line 3: not JSON/],
    ['a null line', 'null', /line 3: not an op map: null/],
    ['a line 42', '42', /line 3: not an op map: 42/],
    ['an op without time', '{"f":"read","index":2,"process":0,"type":"invoke","value":null}', /line 3: time must be/],
    ['an op with a string process', '{"f":"read","index":2,"process":"x","time":5,"type":"invoke","value":null}', /line 3: process must be/],
  ] as const) {
    it(`refuses ${what} in the middle of history.jsonl, naming the line and writing nothing`, async () => {
      const dir = await folderWithHistoryLines((lines) => [...lines.slice(0, 2), bad, ...lines.slice(2)].join('\n') + '\n');
      writeFileSync(path.join(dir, 'results.json'), 'stored');
      const { code, stderr } = await analyzeQuietly(dir, BROADCAST_FLAGS);
      expect(code).toBe(254);
      expect(stderr).toMatch(reason);
      expect(stderr).toMatch(/Fix or delete those lines/);
      expect(readFileSync(path.join(dir, 'results.json'), 'utf8')).toBe('stored');
    });
  }

  it('names at most ten damaged lines and counts the rest', async () => {
    const dir = await folderWithHistoryLines((lines) => lines.map((line, k) => (k % 20 === 7 ? 'null' : line)).join('\n') + '\n');
    const { code, stderr } = await analyzeQuietly(dir, BROADCAST_FLAGS);
    expect(code).toBe(254);
    expect(stderr).toMatch(/21 bad lines/);
    expect(stderr.match(/ line \d+: not an op map/g)).toHaveLength(10);
    expect(stderr).toMatch(/and 11 more/);
  });

  it('leaves a bad net-journal.jsonl line out of the :net counts, names it, and still writes results', async () => {
    const dir = await folderWithHistoryLines((lines) => lines.join('\n') + '\n');
    const event = (kind: string, src: string, dest: string): string => JSON.stringify({ kind, timeNs: 1, id: 1, src, dest, body: { type: 'x' } });
    writeFileSync(path.join(dir, 'net-journal.jsonl'), [event('send', 'n0', 'n1'), '{"kind":"se', 'null', event('recv', 'n0', 'n1')].join('\n') + '\n');
    const { code, stderr } = await analyzeQuietly(dir, BROADCAST_FLAGS);
    expect(code).toBe(0);
    expect(stderr).toMatch(/2 damaged line\(s\) left out of the counts \(line 2, 3\)/);
    const net = readResults(dir).net as { [key: string]: { [key: string]: Json } };
    expect(net.all?.['send-count']).toBe(1);
    expect(net['glomers-note']).toMatch(/line 2, 3/);
  });

  it('refuses damage inside history.edn at its line, and drops a torn last op', async () => {
    const fixture = readFileSync('test/fixtures/maelstrom-store/broadcast-gossip-partition/history.edn', 'utf8').split('\n');
    const damaged = tempDir();
    writeFileSync(path.join(damaged, 'history.edn'), [...fixture.slice(0, 4), '{:f :read, :index 4 :type]', ...fixture.slice(4)].join('\n'));
    const refused = await analyzeQuietly(damaged, BROADCAST_FLAGS);
    expect(refused.code).toBe(254);
    expect(refused.stderr).toMatch(/line 5: unexpected "\]"/);
    const torn = tempDir();
    writeFileSync(path.join(torn, 'history.edn'), fixture.join('\n').trimEnd() + '\n{:f :read, :index 9999, :value [1 2');
    const dropped = await analyzeQuietly(torn, BROADCAST_FLAGS);
    expect(dropped.stderr).toMatch(/torn last line, dropped/);
    expect(dropped.code).toBe(2);
  });

  it('refuses hostile EDN within its bounds: 200k #_ and a 50 MB string', async () => {
    const discards = tempDir();
    writeFileSync(path.join(discards, 'history.edn'), '#_ '.repeat(200_000) + '\n');
    const many = await analyzeQuietly(discards, ['-w', 'echo']);
    expect(many.code).toBe(254);
    expect(many.stderr).not.toMatch(/stack|internal/i);
    // the same chain with something to discard: read without recursion, leaving the one op after it
    const op = '{:f :echo, :index 0, :process 0, :time 1, :type :invoke, :value "x"}';
    expect(parseHistoryEdn('#_ '.repeat(200_000) + '1 '.repeat(200_000) + '\n' + op + '\n').ops).toHaveLength(1);
    const long = tempDir();
    writeFileSync(path.join(long, 'history.edn'), `{:f :echo, :index 0, :process 0, :time 1, :type :invoke, :value "${'x'.repeat(50_000_000)}"}\n`);
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const huge = await analyzeQuietly(long, ['-w', 'echo']);
    expect(huge.code).toBe(254);
    expect(huge.stderr).toMatch(/line 1: a string longer than 1048576 characters/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024);
  });
});

// ---- the run's own record (issue 18) ------------------------------------------------------------

describe("glomers analyze and a run's own record", () => {
  it('a run writes run.json; analyze DIR needs no flags, and given flags override it', async () => {
    const store = tempDir();
    const bin = path.resolve('test/fixtures/fixture-node.js');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['test', '-w', 'broadcast', '--bin', bin, '--node-count', '3', '--time-limit', '1', '--rate', '20', '--final-wait', '0.3', '--store', store]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const dir = path.join(store, 'latest');
    const record = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as { [key: string]: Json };
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(record).toMatchObject({ format: 1, glomers: version, workload: 'broadcast', bin: { path: bin, sha256: createHash('sha256').update(readFileSync(bin)).digest('hex') } });
    expect(record.options).toMatchObject({ nodes: ['n0', 'n1', 'n2'], rate: 20, timeLimitS: 1, seed: record.seed });
    expect(Date.parse(String(record.startedAt))).toBeGreaterThan(Date.now() - 60_000);
    const original = readResults(dir);

    const again = await analyzeQuietly(dir, []);
    expect(again.code).toBe(code);
    expect(readResults(dir).workload).toEqual(original.workload);
    expect((readResults(dir).glomers as { [key: string]: Json }).seed).toBe(record.seed);

    // flags given now win over the record's; the node list is replaced, not added to
    const opts = analyzeOptions(dir, ['--rate', '7', '--node-count', '2'], knownWorkloads());
    expect(typeof opts === 'number' ? opts : [opts.workload, opts.rate, opts.nodes, opts.seed]).toEqual(['broadcast', 7, ['n0', 'n1'], record.seed]);
  }, 30_000);

  it('refuses a folder with neither run.json nor -w, and leaves its results alone', async () => {
    const dir = tempDir();
    copyFileSync('test/fixtures/maelstrom-store/broadcast-gossip-partition/history.edn', path.join(dir, 'history.edn'));
    writeFileSync(path.join(dir, 'results.edn'), 'stored');
    const { code, stderr } = await analyzeQuietly(dir, ['--node-count', '5']);
    expect(code).toBe(254);
    expect(stderr).toMatch(/no run.json saying which workload it holds.*give -w WORKLOAD/);
    expect(readFileSync(path.join(dir, 'results.edn'), 'utf8')).toBe('stored');
  });

  it('refuses a run.json it cannot read', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'run.json'), '{"format": 1, "workl');
    const { code, stderr } = await analyzeQuietly(dir, []);
    expect(code).toBe(254);
    expect(stderr).toMatch(/run.json is not JSON/);
  });
});
