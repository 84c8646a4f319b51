import { describe, expect, it } from 'vitest';
import type { CheckResult, NodeProblem } from '../types.js';
import { assembleResults } from '../check/results.js';
import { formatSummary, VERDICT_INVALID, VERDICT_UNKNOWN, VERDICT_VALID } from './summary.js';
import { exchange, runOutput, testOptions } from '../../../test/support/report-fixtures.js';

const crash: NodeProblem = {
  node: 'n1',
  kind: 'exit',
  detail: 'node crashed',
  exitCode: 255,
  signal: null,
  stderrTail: ['handling broadcast', 'TypeError: cannot read properties of undefined'],
};

const broadcastResult: CheckResult = {
  'valid?': true,
  'lost-count': 0,
  'stable-latencies': { '0': 0, '0.5': 120, '0.95': 300, '0.99': 410, '1': 450 },
};

describe('formatSummary', () => {
  it('says everything looks good for a valid run, with net stats and stable latencies', () => {
    const run = runOutput(
      {
        journal: [...exchange('c1', 'n0', 'broadcast', 1), ...exchange('n0', 'n1', 'gossip', 2, { latencyMs: 1 })],
        history: [
          { index: 0, time: 1, type: 'invoke', process: 0, f: 'broadcast', value: 1 },
          { index: 1, time: 2, type: 'ok', process: 0, f: 'broadcast', value: 1 },
        ],
        storeDir: '/somewhere/store/broadcast/20240101T000000.000Z',
      },
      broadcastResult,
    );
    const text = formatSummary(assembleResults(run), run);
    expect(text.trimEnd().endsWith(VERDICT_VALID)).toBe(true);
    expect(text).toContain(':servers {:send-count 1, :recv-count 1, :msg-count 1, :msgs-per-op 1.0}');
    expect(text).toContain(':stable-latencies {0 0, 0.5 120, 0.95 300, 0.99 410, 1 450}');
    expect(text).toContain('Results in /somewhere/store/broadcast/20240101T000000.000Z');
    expect(text).toContain('p99 0.9 ms');
    expect(text).not.toContain('Analysis invalid');
  });

  it('says analysis invalid for a crashed node and shows its stderr tail', () => {
    const run = runOutput({ problems: [crash] }, broadcastResult);
    const text = formatSummary(assembleResults(run), run);
    expect(text).toContain(VERDICT_INVALID);
    expect(text).not.toContain(VERDICT_VALID);
    expect(text).toContain('n1: exit (exit status 255): node crashed');
    expect(text).toContain('      handling broadcast\n      TypeError: cannot read properties of undefined');
    expect(text).toMatch(/glomers: valid\? false \(n1 exit\)/);
  });

  it('names the failing checker and why', () => {
    const run = runOutput({}, { 'valid?': false, 'lost-count': 3, 'attempt-count': 90, lost: [4, 8, 15] });
    const text = formatSummary(assembleResults(run), run);
    expect(text).toContain(VERDICT_INVALID);
    expect(text).toContain('workload: valid? false (lost-count 3; lost [4 8 15])');
    expect(text).not.toContain('attempt-count');
    expect(text).not.toMatch(/^ {2}stats:/m);
  });

  it("uses Jepsen's unknown line when a checker could not decide", () => {
    const run = runOutput({}, { 'valid?': 'unknown', error: 'timed out' });
    const text = formatSummary(assembleResults(run), run);
    expect(text).toContain(VERDICT_UNKNOWN);
    expect(text).toContain('workload: valid? unknown (error "timed out")');
  });

  it('gives operations, availability, latency by f, the nemesis per node and the commonest errors for any workload', () => {
    const history = [
      { index: 0, time: 1e9, type: 'info' as const, process: 'nemesis' as const, f: 'kill', value: 'one' },
      { index: 1, time: 1e9 + 1, type: 'info' as const, process: 'nemesis' as const, f: 'kill', value: { n1: 'killed' } },
      { index: 2, time: 2e9, type: 'invoke' as const, process: 0, f: 'read', value: null },
      { index: 3, time: 2e9 + 4e6, type: 'ok' as const, process: 0, f: 'read', value: 3 },
      { index: 4, time: 3e9, type: 'invoke' as const, process: 1, f: 'add', value: 1 },
      { index: 5, time: 3e9 + 5e6, type: 'fail' as const, process: 1, f: 'add', value: 1, error: ['temporarily-unavailable', 'no leader'] },
      { index: 6, time: 4e9, type: 'info' as const, process: 'nemesis' as const, f: 'start', value: 'all' },
      { index: 7, time: 4e9 + 1, type: 'info' as const, process: 'nemesis' as const, f: 'start', value: { n1: 'started' } },
    ];
    const run = runOutput({ history, opts: testOptions({ nemesis: ['kill'], workload: 'g-counter' }) }, { 'valid?': true });
    const text = formatSummary(assembleResults(run), run);
    expect(text).toContain('Operations: 2 completed: 1 ok, 1 fail, 0 info; availability (ok-fraction) 0.5');
    expect(text).toContain('Latency: read p50 4.00 p95 4.00 p99 4.00 max 4.00 ms (1 ok)');
    expect(text).toContain('Nemesis (kill): 0 partitions (0.0 s partitioned), 1 kills (1 node processes killed, 1 restarted)');
    expect(text).toContain('  down (killed): n1 3.0 s');
    expect(text).toContain('  1× temporarily-unavailable "no leader" (add on n1; 1 fail, 0 info, 3.0–3.0 s)');
    expect(text).toContain('    e.g. add 1 by process 1 via n1: fail at 3.005 s (op 5)');
    expect(text).toContain('  No add ever succeeded (1 completed: 1 fail, 0 info); commonest error: temporarily-unavailable "no leader"');
  });

  it('warns when the harness fell behind', () => {
    const run = runOutput({ lateness: { deliveries: 5, p50Ms: 3, p99Ms: 40, maxMs: 90, behind: true } });
    expect(formatSummary(assembleResults(run), run)).toContain('WARNING: the harness fell behind');
  });
});
