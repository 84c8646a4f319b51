import { describe, expect, it } from 'vitest';
import { buildOverlay, overlayFromTopology, topologyProblem, type OverlayKind, type OverlaySpec } from './overlay.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i}`);
const map = (spec: OverlaySpec, nodes: string[]): Record<string, string[]> =>
  Object.fromEntries(nodes.map((id) => [id, buildOverlay(spec, id, nodes)!.neighbours]));

function reachable(graph: Record<string, string[]>, start: string): Set<string> {
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of graph[queue.shift()!] ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

describe('overlays built from node_ids', () => {
  it('grid matches Maelstrom for five nodes', () => {
    expect(map({ kind: 'grid', fanout: 2 }, ids(5))).toEqual({
      n0: ['n3', 'n1'],
      n1: ['n4', 'n2', 'n0'],
      n2: ['n1'],
      n3: ['n0', 'n4'],
      n4: ['n1', 'n3'],
    });
  });

  it('tree uses heap layout: parent first, then children', () => {
    const tree = map({ kind: 'tree', fanout: 3 }, ids(10));
    expect(tree['n0']).toEqual(['n1', 'n2', 'n3']);
    expect(tree['n1']).toEqual(['n0', 'n4', 'n5', 'n6']);
    expect(tree['n3']).toEqual(['n0']);
    expect(tree['n9']).toEqual(['n2']);
  });

  it('a tree with fan-out n-1 is the star around the first node', () => {
    const nodes = ids(25);
    expect(map({ kind: 'tree', fanout: 24 }, nodes)).toEqual(map({ kind: 'star', fanout: 1 }, nodes));
    expect(buildOverlay({ kind: 'star', fanout: 1, hub: 'n7' }, 'n3', nodes)!.neighbours).toEqual(['n7']);
    expect(buildOverlay({ kind: 'star', fanout: 1, hub: 'n7' }, 'n7', nodes)!.neighbours).toHaveLength(24);
  });

  it('line and total', () => {
    expect(map({ kind: 'line', fanout: 1 }, ids(3))).toEqual({ n0: ['n1'], n1: ['n0', 'n2'], n2: ['n1'] });
    const total = buildOverlay({ kind: 'total', fanout: 1 }, 'n1', ids(4))!;
    expect(total).toEqual({ neighbours: ['n0', 'n2', 'n3'], relay: false });
    expect(buildOverlay({ kind: 'line', fanout: 1 }, 'n1', ids(4))!.relay).toBe(true);
  });

  it('every overlay is symmetric and connected for 1..30 nodes', () => {
    const kinds: OverlayKind[] = ['tree', 'star', 'grid', 'line', 'total'];
    for (const kind of kinds) {
      for (const fanout of [1, 2, 4]) {
        for (let n = 1; n <= 30; n += 1) {
          const nodes = ids(n);
          const graph = map({ kind, fanout }, nodes);
          for (const [id, neighbours] of Object.entries(graph)) {
            expect(neighbours).not.toContain(id);
            for (const other of neighbours) expect(graph[other], `${kind}/${fanout}/${n}: ${other}->${id}`).toContain(id);
          }
          expect(reachable(graph, 'n0').size, `${kind}/${fanout}/${n}`).toBe(n);
        }
      }
    }
  });

  it("'maelstrom' waits for the topology message; unknown self has no neighbours", () => {
    expect(buildOverlay({ kind: 'maelstrom', fanout: 2 }, 'n0', ids(3))).toBeUndefined();
    expect(buildOverlay({ kind: 'tree', fanout: 2 }, 'n9', ids(3))!.neighbours).toEqual([]);
  });
});

describe('overlayFromTopology', () => {
  it('reads this node entry and drops junk', () => {
    expect(overlayFromTopology({ n0: ['n1', 'n2', 7, 'n0', 'n1'], n1: ['n0'] }, 'n0')).toEqual({ neighbours: ['n1', 'n2'], relay: true });
    expect(overlayFromTopology({ n1: ['n0'] }, 'n0').neighbours).toEqual([]);
    expect(overlayFromTopology([], 'n0').neighbours).toEqual([]);
    expect(overlayFromTopology(null, 'n0').neighbours).toEqual([]);
  });

  it('turns relaying off for a complete graph only', () => {
    const complete = { n0: ['n1', 'n2'], n1: ['n0', 'n2'], n2: ['n0', 'n1'] };
    expect(overlayFromTopology(complete, 'n1').relay).toBe(false);
    const line = { n0: ['n1'], n1: ['n0', 'n2'], n2: ['n1'] };
    expect(overlayFromTopology(line, 'n1').relay).toBe(true);
  });
});

describe('topologyProblem', () => {
  const nodes = ['n0', 'n1', 'n2'];
  it('accepts a well-formed topology, including an empty neighbour list', () => {
    expect(topologyProblem({ n0: ['n1'], n1: ['n0', 'n2'], n2: [] }, 'n0', nodes)).toBeUndefined();
  });
  it.each([
    [{ n0: 'n1' }, /"n0" maps to "n1", not a list/],
    [{ n0: ['n1', 7] }, /"n0" lists 7, which is not a node id/],
    [{ n0: ['n9'] }, /"n0" lists "n9", which is not a node id/],
    [{ n0: [], x: [] }, /key "x" is not a node/],
    [{ n1: ['n2'] }, /no entry for this node \(n0\)/],
    [[['n1']], /must be an object/],
  ])('names what is wrong with %j', (topology, why) => {
    expect(topologyProblem(topology, 'n0', nodes)).toMatch(why);
  });
  it('stays short for a huge malformed topology', () => {
    const huge = Object.fromEntries(nodes.map((id) => [id, 'x'.repeat(1_000_000)]));
    expect((topologyProblem(huge, 'n0', nodes) ?? '').length).toBeLessThan(1000);
  });
});
