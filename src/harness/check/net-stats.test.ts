import { describe, expect, it } from 'vitest';
import type { JournalEvent, Op } from '../types.js';
import { float32AsPrinted as toFloat32 } from '../util/float32.js';
import { netStats } from './net-stats.js';
import { exchange } from '../../../test/support/report-fixtures.js';

function op(index: number, process: number | 'nemesis', type: Op['type'], f = 'broadcast'): Op {
  return { index, time: index * 1000, type, process, f, value: null };
}

describe('netStats', () => {
  // Hand-made journal, counted by hand:
  //   clients (either end starts with "c"): ids 0, 1, 2, 7          -> 4 sends, 4 recvs, 4 messages
  //   servers (node<->node and node<->service): ids 3, 4, 5, 6      -> 4 sends, 3 recvs (4 dropped), 4 messages
  //   all                                                           -> 8 sends, 7 recvs, 8 messages
  const journal: JournalEvent[] = [
    ...exchange('c0', 'n0', 'init', 0, { id: 0 }),
    ...exchange('n0', 'c0', 'init_ok', 1, { id: 1 }),
    ...exchange('c1', 'n1', 'broadcast', 2, { id: 2 }),
    ...exchange('n1', 'n2', 'gossip', 3, { id: 3, latencyMs: 5 }),
    ...exchange('n1', 'n3', 'gossip', 3, { id: 4, dropped: true }),
    ...exchange('n1', 'lin-kv', 'read', 4, { id: 5, latencyMs: 1 }),
    ...exchange('lin-kv', 'n1', 'read_ok', 6, { id: 6, latencyMs: 1 }),
    ...exchange('n1', 'c1', 'broadcast_ok', 8, { id: 7 }),
  ];
  // three client invokes; the nemesis's ops are not client operations
  const history: Op[] = [
    op(0, 0, 'invoke'),
    op(1, 'nemesis', 'invoke', 'start-partition'),
    op(2, 0, 'ok'),
    op(3, 1, 'invoke', 'read'),
    op(4, 1, 'ok', 'read'),
    op(5, 'nemesis', 'info', 'start-partition'),
    op(6, 2, 'invoke'),
    op(7, 2, 'info'),
  ];

  it('counts sends, recvs and distinct messages per scope', () => {
    const result = netStats(journal, history);
    expect(result['valid?']).toBe(true);
    expect(result['clients']).toEqual({ 'send-count': 4, 'recv-count': 4, 'msg-count': 4 });
    expect(result['servers']).toMatchObject({ 'send-count': 4, 'recv-count': 3, 'msg-count': 4 });
    expect(result['all']).toMatchObject({ 'send-count': 8, 'recv-count': 7, 'msg-count': 8 });
  });

  it('divides messages by client invokes as a 32-bit float, for all and servers only', () => {
    const result = netStats(journal, history);
    expect(result['all']).toMatchObject({ 'msgs-per-op': 2.6666667 }); // Java: (float) 8/3
    expect(result['servers']).toMatchObject({ 'msgs-per-op': 1.3333334 }); // Java: (float) 4/3
    expect(result['clients']).not.toHaveProperty('msgs-per-op');
  });

  it('leaves msgs-per-op out when there were no client operations', () => {
    const result = netStats(journal, [op(0, 'nemesis', 'info', 'start-partition')]);
    expect(result['all']).not.toHaveProperty('msgs-per-op');
    expect(result['servers']).not.toHaveProperty('msgs-per-op');
    expect(result['all']).toMatchObject({ 'msg-count': 8 });
  });

  it('reports zero traffic as 0 messages per op', () => {
    const result = netStats([], [op(0, 0, 'invoke'), op(1, 0, 'ok')]);
    expect(result['servers']).toEqual({ 'send-count': 0, 'recv-count': 0, 'msg-count': 0, 'msgs-per-op': 0 });
  });
});

describe('toFloat32', () => {
  it('prints ratios the way Maelstrom does (reference runs)', () => {
    expect(String(toFloat32(108 / 53))).toBe('2.037736'); // echo-demo
    expect(String(toFloat32(101136 / 1817))).toBe('55.66098'); // broadcast-3d-grid-gossip
    expect(String(toFloat32(36 / 1946))).toBe('0.018499486'); // g-counter-crdt
    expect(String(toFloat32(1760 / 200))).toBe('8.8');
  });
});
