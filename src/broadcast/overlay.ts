// Which peers a node gossips with. Every overlay here is symmetric (b is a's neighbour iff a
// is b's), which the acknowledgement scheme relies on: acks ride on traffic going back the
// other way.

import { gridTopology, lineTopology, starTopology, totalTopology, treeTopology } from '../lib/topology.js';

export type OverlayKind = 'tree' | 'star' | 'grid' | 'line' | 'total' | 'maelstrom';
export const overlayKinds: readonly OverlayKind[] = ['tree', 'star', 'grid', 'line', 'total', 'maelstrom'];

export interface OverlaySpec {
  kind: OverlayKind;
  /** Children per node for 'tree'; a fan-out of at least n-1 makes a star around nodeIds[0]. */
  fanout: number;
  /** Hub for 'star'; defaults to the first node id. */
  hub?: string;
}

export interface Overlay {
  neighbours: string[];
  /**
   * Whether values learned from one neighbour are passed on to the others. False only when
   * every node is every other node's neighbour: the origin then reaches everyone directly and
   * relaying would multiply traffic by n.
   */
  relay: boolean;
}

/** Overlay built from node ids alone; undefined for 'maelstrom' (wait for the topology message). */
export function buildOverlay(spec: OverlaySpec, self: string, nodeIds: readonly string[]): Overlay | undefined {
  const index = nodeIds.indexOf(self);
  if (index < 0) return { neighbours: [], relay: true };
  switch (spec.kind) {
    case 'maelstrom':
      return undefined;
    case 'total':
      return { neighbours: totalTopology(nodeIds)[self] ?? [], relay: false };
    case 'line':
      return { neighbours: lineTopology(nodeIds)[self] ?? [], relay: true };
    case 'star':
      return { neighbours: starTopology(nodeIds, spec.hub)[self] ?? [], relay: true };
    case 'tree':
      return { neighbours: treeTopology(Math.max(1, spec.fanout), nodeIds)[self] ?? [], relay: true };
    case 'grid':
      // Same layout as Maelstrom's grid topology, so comparisons line up.
      return { neighbours: gridTopology(nodeIds)[self] ?? [], relay: true };
  }
}

/**
 * Reads Maelstrom's topology body ({node: [node, …]}) for one node. Unknown or ill-typed
 * entries are dropped rather than trusted. Relaying is switched off when the map is a
 * complete graph (Maelstrom's 'total').
 */
export function overlayFromTopology(topology: unknown, self: string): Overlay {
  if (typeof topology !== 'object' || topology === null || Array.isArray(topology)) {
    return { neighbours: [], relay: true };
  }
  const map = topology as Record<string, unknown>;
  const listOf = (id: string): string[] => {
    const raw = map[id];
    if (!Array.isArray(raw)) return [];
    return [...new Set(raw.filter((x): x is string => typeof x === 'string' && x !== id))];
  };
  const nodes = new Set(Object.keys(map));
  for (const id of [...nodes]) for (const other of listOf(id)) nodes.add(other);
  const complete =
    nodes.size > 1 && [...nodes].every((id) => listOf(id).length === nodes.size - 1);
  return { neighbours: listOf(self), relay: !complete };
}
