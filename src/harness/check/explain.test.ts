import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../test/support/history-builder.js';
import { explanation, nodeOfProcess, SERIES_POINT_LIMIT } from './explain.js';
import { setFullVerdict } from './explain/set-full.js';
import { counterVerdict } from './explain/counter.js';
import { neverOkSentences, summarizeFailures } from './exceptions.js';
import { checkStats } from './checkers/stats.js';
import { uniqueIdsVerdict } from '../workloads/unique-ids.js';

const opts = { nodes: ['n0', 'n1', 'n2'], concurrency: 3 };
const s = (seconds: number): number => seconds * 1e9;

describe('explanations', () => {
  it('name the node of a process as the runner opens clients: thread p mod concurrency, node thread mod n', () => {
    expect([0, 1, 2, 3, 4, 5].map((p) => nodeOfProcess(p, opts))).toEqual(['n0', 'n1', 'n2', 'n0', 'n1', 'n2']);
    expect(nodeOfProcess(5, { nodes: ['n0', 'n1'], concurrency: 4 })).toBe('n1');
  });

  it('set-full: a lost value, the node it went through, the partition around it, the final reads lacking it', () => {
    const h = historyBuilder();
    h.nemesis('start-partition', 'one', s(0.5));
    h.nemesis('start-partition', ['isolated', { n1: ['n0', 'n2'], n0: ['n1'], n2: ['n1'] }], s(0.5) + 1);
    h.invoke(1, 'broadcast', 7, s(1));
    h.complete(1, 'ok', 'broadcast', 7, s(1.01));
    h.invoke(1, 'read', null, s(2));
    h.complete(1, 'ok', 'read', [7], s(2.01));
    h.nemesis('stop-partition', null, s(3));
    h.nemesis('stop-partition', 'network-healed', s(3) + 1);
    for (const p of [0, 2]) {
      h.invoke(p, 'read', null, s(4));
      h.complete(p, 'ok', 'read', [], s(4.01), { 'final?': true });
    }
    const verdict = setFullVerdict(h.ops, opts, { addF: 'broadcast' }, { verb: 'broadcast' });
    expect(verdict.workload['lost']).toEqual([7]);
    expect(verdict.explanation?.headline).toMatch(/^1 of 1 values were lost/);
    expect(verdict.explanation?.facts[0]).toEqual({
      text: 'Lost 7: broadcast via n1 (process 1) at 1.000 s, acknowledged at 1.010 s, during partition "one" (n1 | n0 n2); read on n1, last at 2.010 s; the final reads on n0 and n2 lack it.',
      atNs: s(1),
      nodes: ['n1'],
      value: 7,
    });
    expect(verdict.explanation?.plots[0]?.series.map((series) => series.label)).toEqual(['stable value', 'lost (at the top)']);
  });

  it('unique-ids: each duplicated id with the ops and nodes that returned it', () => {
    const h = historyBuilder();
    for (const p of [0, 1]) {
      h.invoke(p, 'generate', null, s(1 + p));
      h.complete(p, 'ok', 'generate', 1, s(1.5 + p));
    }
    const verdict = uniqueIdsVerdict(h.ops, opts);
    expect(verdict.workload['valid?']).toBe(false);
    expect(verdict.explanation?.facts[0]?.text).toBe('Id 1 was handed out 2 times: process 0 via n0 at 1.500 s (op 1) and process 1 via n1 at 2.500 s (op 3).');
  });

  it('counter: a final read short of the acceptable sum, and the other nodes\' adds that make up the gap', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 2, s(1));
    h.complete(0, 'ok', 'add', 2, s(1.1));
    h.invoke(1, 'add', 3, s(2));
    h.complete(1, 'ok', 'add', 3, s(2.1));
    h.invoke(0, 'read', null, s(5));
    h.complete(0, 'ok', 'read', 2, s(5.1), { 'final?': true });
    const verdict = counterVerdict(h.ops, opts);
    expect(verdict.workload['valid?']).toBe(false);
    expect(verdict.explanation?.facts[0]?.text).toBe(
      "Final read on n0 (process 0) at 5.100 s returned 2: 3 short of the least acceptable sum 5. Acknowledged adds it may be missing (other nodes' first, latest first): 3 via n1 at 2.100 s.",
    );
  });

  it('keep at most SERIES_POINT_LIMIT points a series, dots keeping the highest of each run', () => {
    const points = Array.from({ length: SERIES_POINT_LIMIT * 2 }, (_, k): [number, number] => [k, k % 2 === 0 ? 1 : 9]);
    const plot = explanation('h', [], [{ id: 'p', title: 't', yLabel: 'y', caption: 'c', series: [{ label: 'x', points, style: 'dots' }] }]).plots[0];
    expect(plot?.series[0]?.points).toHaveLength(SERIES_POINT_LIMIT);
    expect(plot?.series[0]?.points.every(([, y]) => y === 9)).toBe(true);
  });
});

describe('failures', () => {
  it('group by error name and wording, count fail and info, name fs, nodes and an example', () => {
    const h = historyBuilder();
    h.invoke(0, 'cas', [0, [1, 2]], s(1));
    h.complete(0, 'fail', 'cas', [0, [1, 2]], s(1.1), { error: ['precondition-failed', 'expected 1, had 0'] });
    h.invoke(1, 'cas', [0, [3, 4]], s(2));
    h.complete(1, 'fail', 'cas', [0, [3, 4]], s(2.1), { error: ['precondition-failed', 'expected 3, had 2'] });
    h.invoke(2, 'read', [0, null], s(3));
    h.complete(2, 'info', 'read', [0, null], s(3.1), { error: 'net-timeout' });
    const failures = summarizeFailures(h.ops, (p) => nodeOfProcess(p, opts));
    expect(failures['fail-count']).toBe(2);
    expect(failures['info-count']).toBe(1);
    expect(failures.groups.map((g) => [g.error, g.text, g.count, g.fs, g.nodes])).toEqual([
      ['precondition-failed', 'expected 1, had 0', 2, ['cas'], ['n0', 'n1']],
      ['net-timeout', null, 1, ['read'], ['n2']],
    ]);
    expect(failures.groups[0]?.example).toBe('cas [0,[1,2]] by process 0 via n0: fail at 1.100 s (op 1)');
    expect(neverOkSentences(checkStats(h.ops), failures)).toEqual([
      'No cas ever succeeded (2 completed: 2 fail, 0 info); commonest error: precondition-failed "expected 1, had 0" (2×), e.g. cas [0,[1,2]] by process 0 via n0: fail at 1.100 s (op 1).',
      'No read ever succeeded (1 completed: 0 fail, 1 info); commonest error: net-timeout (1×), e.g. read [0,null] by process 2 via n2: info at 3.100 s (op 5).',
    ]);
  });
});
