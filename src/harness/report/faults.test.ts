import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../types.js';
import { faultIntervals } from './html.js';
import { nemesisHtml, nemesisLanesSvg } from './explain-html.js';
import type { Results } from '../check/results-types.js';
import { faultSpans, nemesisCounts, nemesisSummary } from '../check/faults.js';

let index = 0;
const nemesisPair = (f: string, atS: number, plan: Json, outcome: Json): Op[] => [
  { index: index++, time: atS * 1e9, type: 'info', process: 'nemesis', f, value: plan },
  { index: index++, time: atS * 1e9 + 1e6, type: 'info', process: 'nemesis', f, value: outcome },
];

const history: Op[] = [
  ...nemesisPair('start-partition', 1, 'one', ['isolated', { n0: ['n1'], n1: ['n0'] }]),
  ...nemesisPair('kill', 2, 'minority', { n1: 'killed' }),
  ...nemesisPair('stop-partition', 3, null, 'network-healed'),
  ...nemesisPair('kill', 3.5, 'minority-third', {}),
  ...nemesisPair('start', 4, 'all', { n0: 'already-running', n1: 'started' }),
  ...nemesisPair('pause', 5, 'all', { n0: 'paused', n1: 'paused' }),
  ...nemesisPair('kill', 6, 'one', { n0: 'killed' }),
];

describe('nemesis in the report', () => {
  it('shades a span per fault, from the invocation that starts it to the one that ends it', () => {
    expect(faultIntervals(history, 10)).toEqual([
      { from: 1, to: 3, kind: 'partition' },
      { from: 2, to: 4, kind: 'kill' },
      { from: 5, to: 10, kind: 'pause' },
      { from: 6, to: 10, kind: 'kill' },
    ]);
  });

  it('counts only faults that hit a node', () => {
    expect(nemesisCounts(history)).toEqual({ partitions: 1, kills: 2, 'nodes-killed': 2, pauses: 1, 'nodes-paused': 2, restarts: 1 });
  });

  it('neither shades nor draws a partition that cuts no link', () => {
    const empty: Op[] = [
      ...nemesisPair('start-partition', 1, 'minority-third', ['isolated', { n0: [], n1: [], n2: [] }]),
      ...nemesisPair('stop-partition', 3, null, 'network-healed'),
    ];
    expect(faultIntervals(empty, 10, 3)).toEqual([]);
    const three = ['n0', 'n1', 'n2'];
    const section = nemesisHtml({ glomers: { nemesis: nemesisSummary(empty, { nodes: three }) } } as unknown as Results, faultSpans(empty, 10e9, 3), three, 10);
    expect(section).toContain('(minority-third ×1; 1 cut no link)');
    expect(section).toContain('No node was cut off from the majority, down or paused.');
    expect(section).not.toContain('<svg');
    expect(nemesisLanesSvg(faultSpans(empty, 10e9, 3), ['n0', 'n1', 'n2'], 10)).not.toContain('<title>n0: partition');
    const ring: Op[] = [
      ...nemesisPair('start-partition', 1, 'majorities-ring', ['isolated', { n0: ['n1'], n1: ['n2'], n2: ['n0'] }]),
      ...nemesisPair('stop-partition', 3, null, 'network-healed'),
    ];
    expect(faultIntervals(ring, 10, 3)).toEqual([{ from: 1, to: 3, kind: 'partition' }]);
    expect(nemesisLanesSvg(faultSpans(ring, 10e9, 3), ['n0', 'n1', 'n2'], 10)).toContain('<title>n0: partition');
  });
});
