import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../types.js';
import { faultSpans, nemesisSummary, partitionAt, partitionShapesText } from './faults.js';

let index = 0;
const pair = (f: string, atS: number, plan: Json, outcome: Json): Op[] => [
  { index: index++, time: atS * 1e9, type: 'info', process: 'nemesis', f, value: plan },
  { index: index++, time: atS * 1e9 + 1e6, type: 'info', process: 'nemesis', f, value: outcome },
];
const nodes = ['n0', 'n1', 'n2', 'n3', 'n4'];

describe('the nemesis, node by node', () => {
  const history: Op[] = [
    ...pair('start-partition', 1, 'one', ['isolated', { n0: ['n1', 'n2', 'n3', 'n4'], n1: ['n0'], n2: ['n0'], n3: ['n0'], n4: ['n0'] }]),
    ...pair('stop-partition', 3, null, 'network-healed'),
    ...pair('start-partition', 4, 'majorities-ring', ['isolated', { n0: ['n2', 'n3'], n1: ['n3', 'n4'], n2: ['n4', 'n0'], n3: ['n0', 'n1'], n4: ['n1', 'n2'] }]),
    ...pair('stop-partition', 5, null, 'network-healed'),
    ...pair('pause', 6, 'one', { n2: 'paused' }),
    ...pair('kill', 7, 'all', { n1: 'killed', n2: 'killed' }),
    ...pair('resume', 8, 'all', { n2: 'not-paused' }),
    ...pair('start', 9, 'all', { n1: 'started', n2: 'started' }),
    { index: index++, time: 10e9, type: 'ok', process: 0, f: 'read', value: null },
  ];

  it('spans: a partition cuts off the minority, a kill ends a pause, a start ends a kill', () => {
    const spans = faultSpans(history, 10e9, nodes.length).map((s) => [s.kind, s.fromNs / 1e9, s.toNs / 1e9, s.nodes.join(' ')]);
    expect(spans).toEqual([
      ['partition', 1, 3, 'n0'],
      ['partition', 4, 5, ''],
      ['pause', 6, 7, 'n2'],
      ['kill', 7, 9, 'n1'],
      ['kill', 7, 9, 'n2'],
    ]);
  });

  it('summary: time partitioned by shape, and per node time isolated, down and paused', () => {
    const summary = nemesisSummary(history, { nodes });
    expect(summary['partitioned-s']).toBe(3);
    expect(summary['partition-shapes']).toEqual({ one: 1, 'majorities-ring': 1 });
    expect(summary['isolated-s']).toEqual({ n0: 2 });
    expect(summary['down-s']).toEqual({ n1: 2, n2: 2 });
    expect(summary['paused-s']).toEqual({ n2: 1 });
    expect(summary.kills).toBe(1);
  });
});

describe('a partition that cuts nothing', () => {
  // Jepsen's minority-third on 3 nodes splits off ⌊(3−1)/3⌋ = 0 nodes: the grudge drops nothing
  const three = ['n0', 'n1', 'n2'];
  const history: Op[] = [
    ...pair('start-partition', 1, 'minority-third', ['isolated', { n0: [], n1: [], n2: [] }]),
    ...pair('stop-partition', 4, null, 'network-healed'),
    ...pair('start-partition', 5, 'one', ['isolated', { n0: ['n1', 'n2'], n1: ['n0'], n2: ['n0'] }]),
    ...pair('stop-partition', 6, null, 'network-healed'),
  ];

  it('is no fault span (so blamed for nothing), and is kept, marked, when asked for', () => {
    const all = faultSpans(history, 10e9, three.length, { emptyPartitions: true });
    expect(all.map((s) => [s.shape, s.cutsNothing === true])).toEqual([['minority-third', true], ['one', false]]);
    const spans = faultSpans(history, 10e9, three.length);
    expect(spans.map((s) => s.shape)).toEqual(['one']);
    expect(partitionAt(spans, 2e9)).toBeUndefined();
    expect(partitionAt(spans, 5.5e9)?.shape).toBe('one');
  });

  it('is counted apart in the summary and its words', () => {
    const summary = nemesisSummary(history, { nodes: three });
    expect(summary['partition-shapes']).toEqual({ 'minority-third': 1, one: 1 });
    expect(summary['partitions-cutting-nothing']).toBe(1);
    expect(summary['isolated-s']).toEqual({ n0: 1 });
    expect(partitionShapesText(summary)).toBe('minority-third ×1, one ×1; 1 cut no link');
  });
});
