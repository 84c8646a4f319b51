import { describe, expect, it } from 'vitest';
import type { Op } from '../../../types.js';
import { clojureStringHash, hashSetOrder, murmurHashLong, stringMapOrder } from './clojure-order.js';
import {
  addRealtimeEdges,
  EDGE_REALTIME,
  EDGE_WR,
  EdgeGraph,
  fallbackCycle,
  shortestCycleThrough,
  stronglyConnectedComponents,
} from './cycles.js';

function op(index: number, process: number, type: Op['type']): Op {
  return { index, time: index, type, process, f: 'poll', value: null };
}

describe('Clojure hash order', () => {
  it('hashes longs as Clojure does', () => {
    expect(murmurHashLong(1)).toBe(1392991556);
    expect(murmurHashLong(0)).toBe(0);
  });

  it('iterates a hash set of 1..10 in Clojure order', () => {
    expect(hashSetOrder([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([7, 1, 4, 6, 3, 2, 9, 5, 10, 8]);
  });

  it('keeps insertion order up to 8 keys (array map) and trie order beyond', () => {
    expect(stringMapOrder(['b', 'a'])).toEqual(['b', 'a']);
    const nine = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];
    const ordered = stringMapOrder(nine);
    expect([...ordered].sort()).toEqual(nine);
    const keys = ordered.map((k) => clojureStringHash(k) & 31);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
  });
});

describe('realtime edges', () => {
  it('link each completed op to later invocations, as a transitive reduction', () => {
    // a: [0,1]  b: [2,3]  c: [4,6]  d: [5,7]  (c and d overlap)
    const ops = [op(0, 0, 'invoke'), op(1, 0, 'ok'), op(2, 0, 'invoke'), op(3, 0, 'ok'), op(4, 0, 'invoke'), op(5, 1, 'invoke'), op(6, 0, 'ok'), op(7, 1, 'ok')];
    const completion = [1, -1, 3, -1, 6, 7, -1, -1];
    const graph = new EdgeGraph(ops.length);
    addRealtimeEdges(graph, ops, (i) => i, (i) => completion[i]!);
    expect(graph.kindsBetween(1, 3)).toBe(EDGE_REALTIME);
    expect(graph.kindsBetween(3, 6)).toBe(EDGE_REALTIME);
    expect(graph.kindsBetween(3, 7)).toBe(EDGE_REALTIME);
    expect(graph.kindsBetween(1, 6)).toBe(0);
    expect(graph.kindsBetween(6, 7)).toBe(0);
  });

  it('never let info completions into the buffer', () => {
    const ops = [op(0, 0, 'invoke'), op(1, 0, 'info'), op(2, 1, 'invoke'), op(3, 1, 'ok')];
    const graph = new EdgeGraph(ops.length);
    addRealtimeEdges(graph, ops, (i) => i, (i) => [1, -1, 3, -1][i]!);
    expect(graph.edgeCount).toBe(0);
  });
});

describe('components and cycles', () => {
  it('finds only non-trivial components and a shortest cycle through the start', () => {
    const graph = new EdgeGraph(6);
    graph.addEdge(0, 1, EDGE_WR);
    graph.addEdge(1, 2, EDGE_REALTIME);
    graph.addEdge(2, 0, EDGE_WR);
    graph.addEdge(1, 0, EDGE_REALTIME);
    graph.addEdge(3, 4, EDGE_WR);
    graph.addEdge(4, 5, EDGE_WR);
    expect(stronglyConnectedComponents(graph)).toEqual([[0, 1, 2]]);
    expect(shortestCycleThrough(graph, [0, 1, 2], 0, Date.now() + 1000)).toEqual({ cycle: [0, 1, 0] });
    expect(graph.kindsBetween(1, 0)).toBe(EDGE_REALTIME);
    const cycle = fallbackCycle(graph, [0, 1, 2]);
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
  });

  it('handles a long chain without recursion limits', () => {
    const n = 200_000;
    const graph = new EdgeGraph(n);
    for (let i = 0; i + 1 < n; i++) graph.addEdge(i, i + 1, EDGE_WR);
    graph.addEdge(n - 1, 0, EDGE_REALTIME);
    const [component] = stronglyConnectedComponents(graph);
    expect(component?.length).toBe(n);
  });
});
