import { describe, expect, it } from 'vitest';
import type { CheckResult, NodeProblem } from '../types.js';
import { assembleResults } from '../check/results.js';
import { formatSummary, VERDICT_INVALID, VERDICT_UNKNOWN, VERDICT_VALID } from './summary.js';
import { exchange, runOutput } from '../../../test/support/report-fixtures.js';

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

  it('warns when the harness fell behind', () => {
    const run = runOutput({ lateness: { deliveries: 5, p50Ms: 3, p99Ms: 40, maxMs: 90, behind: true } });
    expect(formatSummary(assembleResults(run), run)).toContain('WARNING: the harness fell behind');
  });
});
