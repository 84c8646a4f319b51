import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../test/support/history-builder.js';
import { SchemaError, type Body, type Json, type Rng, type TestOptions } from '../types.js';
import type { Gen } from '../run/generator.js';
import { runClientOp, specs, takeOps } from '../../../test/support/workload-testing.js';
import { broadcastWorkload, buildTopology, TOPOLOGY_NAMES } from './broadcast.js';

const nodeIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i}`);

describe('buildTopology', () => {
  it('builds the grid of the spec example (n=5)', () => {
    expect(buildTopology('grid', nodeIds(5))).toEqual({
      n0: ['n3', 'n1'],
      n1: ['n4', 'n2', 'n0'],
      n2: ['n1'],
      n3: ['n0', 'n4'],
      n4: ['n1', 'n3'],
    });
  });

  it('builds grids that are symmetric with at most 4 neighbours', () => {
    for (const n of [1, 2, 3, 7, 10, 16, 25, 26]) {
      const topo = buildTopology('grid', nodeIds(n));
      expect(Object.keys(topo)).toEqual(nodeIds(n));
      for (const [node, neighbours] of Object.entries(topo)) {
        expect(neighbours.length).toBeLessThanOrEqual(4);
        for (const other of neighbours) expect(topo[other]).toContain(node);
      }
    }
    expect(buildTopology('grid', nodeIds(1))).toEqual({ n0: [] });
    // 25 nodes: a 5x5 grid, n12 in the middle
    expect(buildTopology('grid', nodeIds(25)).n12).toEqual(['n17', 'n7', 'n13', 'n11']);
  });

  it('builds a line: ends have one neighbour, the rest left then right; n < 2 is empty', () => {
    expect(buildTopology('line', nodeIds(4))).toEqual({
      n0: ['n1'],
      n1: ['n0', 'n2'],
      n2: ['n1', 'n3'],
      n3: ['n2'],
    });
    expect(buildTopology('line', nodeIds(2))).toEqual({ n0: ['n1'], n1: ['n0'] });
    expect(buildTopology('line', nodeIds(1))).toEqual({});
  });

  it('builds a total topology in node-list order', () => {
    expect(buildTopology('total', ['a', 'b', 'c'])).toEqual({ a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] });
  });

  it('builds heap-layout trees: parent first, then children', () => {
    const tree2 = {
      n0: ['n1', 'n2'],
      n1: ['n0', 'n3', 'n4'],
      n2: ['n0'],
      n3: ['n1'],
      n4: ['n1'],
    };
    expect(buildTopology('tree2', nodeIds(5))).toEqual(tree2);
    expect(buildTopology('tree', nodeIds(5))).toEqual(tree2);
    expect(buildTopology('tree3', nodeIds(5))).toEqual({
      n0: ['n1', 'n2', 'n3'],
      n1: ['n0', 'n4'],
      n2: ['n0'],
      n3: ['n0'],
      n4: ['n1'],
    });
    const tree4 = buildTopology('tree4', nodeIds(7));
    expect(tree4.n0).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(tree4.n1).toEqual(['n0', 'n5', 'n6']);
    expect(tree4.n6).toEqual(['n1']);
    expect(buildTopology('tree2', nodeIds(1))).toEqual({ n0: [] });
  });

  it('keeps the nodes\' own ids, in the order given', () => {
    expect(buildTopology('tree2', ['z', 'y', 'x'])).toEqual({ z: ['y', 'x'], y: ['z'], x: ['z'] });
  });

  it('throws a clear error for an unknown name', () => {
    expect(() => buildTopology('star', nodeIds(3))).toThrow(/Unknown broadcast topology "star".*grid/);
    expect(() => buildTopology('toString', nodeIds(3))).toThrow(/Unknown broadcast topology/);
    expect(TOPOLOGY_NAMES).toEqual(['grid', 'line', 'total', 'tree', 'tree2', 'tree3', 'tree4']);
  });
});

describe('broadcast workload', () => {
  const opts = { nodes: nodeIds(3), workloadOptions: { topology: 'line' } } as unknown as TestOptions;

  it('sends one topology message per node with the full map', () => {
    const topology = { n0: ['n1'], n1: ['n0', 'n2'], n2: ['n1'] };
    expect(broadcastWorkload.setup?.(opts)).toEqual([
      { dest: 'n0', body: { type: 'topology', topology }, replyType: 'topology_ok' },
      { dest: 'n1', body: { type: 'topology', topology }, replyType: 'topology_ok' },
      { dest: 'n2', body: { type: 'topology', topology }, replyType: 'topology_ok' },
    ]);
  });

  it('mixes broadcasts of 0, 1, 2, ... with reads, by the rng', () => {
    const script = [0, 1, 0, 0, 1, 1, 0];
    let i = 0;
    const rng: Rng = { next: () => 0, int: (n) => (n === 2 ? (script[i++] as number) : 0) };
    expect(specs(takeOps(broadcastWorkload.generator(opts), script.length, { rng }))).toEqual([
      { f: 'broadcast', value: 0 },
      { f: 'read', value: null },
      { f: 'broadcast', value: 1 },
      { f: 'broadcast', value: 2 },
      { f: 'read', value: null },
      { f: 'read', value: null },
      { f: 'broadcast', value: 3 },
    ]);
  });

  it('ends with one final read per worker', () => {
    const final = broadcastWorkload.finalGenerator?.(opts);
    expect(final).toBeDefined();
    const ops = takeOps(final as Gen, 10, { concurrency: 3 });
    expect(ops.map((op) => op.thread).sort()).toEqual([0, 1, 2]);
    expect(specs(ops)).toEqual(Array(3).fill({ f: 'read', value: null, final: true }));
  });

  const answer = async (op: { f: string; value: Json; final?: boolean }, reply: Body | 'timeout') =>
    runClientOp(broadcastWorkload, opts, op, () => reply);

  it('builds requests and records the message (broadcast) or the messages list (read)', async () => {
    const bcast = { f: 'broadcast', value: 7 };
    const read = { f: 'read', value: null };
    const sent = await answer(bcast, { type: 'broadcast_ok', in_reply_to: 4 });
    expect(sent.requests).toEqual([{ type: 'broadcast', message: 7 }]);
    expect(sent.completion).toEqual({ type: 'ok', value: 7 });
    const got = await answer(read, { type: 'read_ok', messages: [1, 7], in_reply_to: 5, msg_id: 2 });
    expect(got.requests).toEqual([{ type: 'read' }]);
    expect(got.completion).toEqual({ type: 'ok', value: [1, 7] });
  });

  it('rejects replies outside the closed schemas', async () => {
    const bcast = { f: 'broadcast', value: 7 };
    const read = { f: 'read', value: null };
    await expect(answer(bcast, { type: 'broadcast_ok', in_reply_to: 4, ok: true })).rejects.toThrow(SchemaError);
    await expect(answer(bcast, { type: 'read_ok', messages: [], in_reply_to: 4 })).rejects.toThrow(SchemaError);
    await expect(answer(read, { type: 'read_ok', in_reply_to: 5 })).rejects.toThrow(SchemaError);
    await expect(answer(read, { type: 'read_ok', messages: { a: 1 }, in_reply_to: 5 })).rejects.toThrow(SchemaError);
    await expect(answer(read, { type: 'read_ok', messages: [], value: [], in_reply_to: 5 })).rejects.toThrow(/value: disallowed key/);
  });

  it('fails reads on any error, and makes broadcast timeouts indeterminate', async () => {
    const bcast = { f: 'broadcast', value: 7 };
    const read = { f: 'read', value: null, final: true };
    expect((await answer(read, 'timeout')).completion).toEqual({ type: 'fail', value: null, error: 'net-timeout' });
    expect((await answer(read, { type: 'error', code: 13, text: 'oops' })).completion).toEqual({ type: 'fail', value: null, error: ['crash', 'oops'] });
    expect((await answer(bcast, 'timeout')).completion).toEqual({ type: 'info', value: 7, error: 'net-timeout' });
    expect((await answer(bcast, { type: 'error', code: 11 })).completion).toEqual({
      type: 'fail',
      value: 7,
      error: ['temporarily-unavailable', null],
    });
  });

  it('checks with set-full, reporting broadcasts as adds', async () => {
    const h = historyBuilder();
    h.invoke(0, 'broadcast', 0, 0);
    h.complete(0, 'ok', 'broadcast', 0, 1);
    h.invoke(1, 'read', null, 2, { 'final?': true });
    h.complete(1, 'ok', 'read', [], 3, { 'final?': true });
    const { workload: r } = await broadcastWorkload.check(h.ops, { opts, deadlineMs: Date.now() + 10_000 });
    expect(r['valid?']).toBe(false);
    expect(r.lost).toEqual([0]);
  });
});
