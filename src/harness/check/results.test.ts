import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckResult, Validity } from '../types.js';
import { assembleResults, mergeValidity } from './results.js';
import { exchange, runOutput, testOptions } from '../../../test/support/report-fixtures.js';

// The shared checkers are stubbed so each test decides their verdicts.
const verdicts: { stats: () => CheckResult; availability: () => CheckResult } = {
  stats: () => ({ 'valid?': true }),
  availability: () => ({ 'valid?': true, 'ok-fraction': 1 }),
};
vi.mock('./checkers/stats.js', () => ({ checkStats: () => verdicts.stats() }));
vi.mock('./checkers/availability.js', () => ({ checkAvailability: () => verdicts.availability() }));

beforeEach(() => {
  verdicts.stats = () => ({ 'valid?': true });
  verdicts.availability = () => ({ 'valid?': true, 'ok-fraction': 1 });
});

describe('mergeValidity', () => {
  it('takes the worst: false beats unknown beats true', () => {
    const cases: Array<[Validity[], Validity]> = [
      [[], true],
      [[true, true], true],
      [[true, 'unknown', true], 'unknown'],
      [['unknown', false], false],
      [[false, 'unknown'], false],
      [[true, false, true], false],
    ];
    for (const [values, expected] of cases) expect(mergeValidity(values)).toBe(expected);
  });
});

describe('assembleResults', () => {
  it("names the node behind a failed operation by the workload's client nodes (sched: schedulers only)", () => {
    const opts = testOptions({ workload: 'sched', nodes: ['n0', 'n1', 'n2', 'n3', 'n4'], concurrency: 6, workloadOptions: { schedulers: 2 } });
    const history = [
      { type: 'invoke' as const, f: 'submit', value: null, process: 4, time: 1e9, index: 0 },
      { type: 'info' as const, f: 'submit', value: null, process: 4, time: 2e9, index: 1, error: 'net-timeout' },
    ];
    const results = assembleResults(runOutput({ opts, history }));
    // thread 4 of the two schedulers n0, n1 is n0 (every node would have said n4)
    expect(results.glomers.failures.groups[0]?.nodes).toEqual(['n0']);
  });

  it("has Maelstrom's sections in Maelstrom's order, then ours", () => {
    const results = assembleResults(runOutput());
    expect(Object.keys(results)).toEqual([
      'perf', 'timeline', 'exceptions', 'stats', 'availability', 'net', 'workload', 'glomers', 'valid?',
    ]);
    expect(results.perf).toEqual({ 'latency-graph': { 'valid?': true }, 'rate-graph': { 'valid?': true }, 'valid?': true });
    expect(results.timeline).toEqual({ 'valid?': true });
    expect(results.exceptions).toEqual({ 'valid?': true });
    expect(results['valid?']).toBe(true);
  });

  it('passes the workload result through and lets unknown win over true', () => {
    const workload = { 'valid?': 'unknown' as const, 'lost-count': 0 };
    const results = assembleResults(runOutput({}, workload));
    expect(results.workload).toBe(workload);
    expect(results['valid?']).toBe('unknown');
  });

  it('lets false win over unknown', () => {
    verdicts.stats = () => ({ 'valid?': false });
    const results = assembleResults(runOutput({}, { 'valid?': 'unknown' }));
    expect(results['valid?']).toBe(false);
  });

  it('turns a throwing checker into unknown with its error', () => {
    verdicts.availability = () => {
      throw new Error('boom');
    };
    const results = assembleResults(runOutput());
    expect(results.availability).toEqual({ 'valid?': 'unknown', error: 'Error: boom' });
    expect(results['valid?']).toBe('unknown');
  });

  it('is invalid when a node crashed, even if every checker passed', () => {
    const results = assembleResults(
      runOutput({
        problems: [{ node: 'n2', kind: 'exit', detail: 'node crashed', exitCode: 255, signal: null, stderrTail: ['panic: oh no'] }],
      }),
    );
    expect(results['valid?']).toBe(false);
    expect(results.glomers['valid?']).toBe(false);
    expect(results.glomers.problems).toEqual([
      { node: 'n2', kind: 'exit', detail: 'node crashed', 'exit-code': 255, signal: null, 'stderr-tail': ['panic: oh no'] },
    ]);
  });

  it('records seed and lateness in its own section', () => {
    const results = assembleResults(runOutput());
    expect(results.glomers).toMatchObject({
      'valid?': true,
      seed: 42,
      lateness: { deliveries: 10, 'p50-ms': 0.2, 'p99-ms': 0.9, 'max-ms': 1.4, 'behind?': false },
      problems: [],
    });
  });

  it('computes net stats from the journal and groups exceptions', () => {
    const results = assembleResults(
      runOutput({
        journal: [...exchange('c1', 'n0', 'echo', 1), ...exchange('n0', 'c1', 'echo_ok', 2)],
        history: [
          { index: 0, time: 1, type: 'invoke', process: 0, f: 'echo', value: 'x' },
          { index: 1, time: 2, type: 'info', process: 0, f: 'echo', value: 'x', exception: { via: [{ type: 'SchemaError' }] } },
        ],
      }),
    );
    expect(results.net['all']).toMatchObject({ 'msg-count': 2, 'msgs-per-op': 2 });
    expect(results.exceptions['valid?']).toBe(true);
    expect(results.exceptions['exceptions']).toMatchObject([{ count: 1, class: 'SchemaError' }]);
  });
});
