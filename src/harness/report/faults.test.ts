import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../types.js';
import { faultIntervals } from './html.js';
import { nemesisCounts } from '../check/faults.js';

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
});
