// Which peers a node gossips with. Every overlay here is symmetric (b is a's neighbour iff a
// is b's), which the acknowledgement scheme relies on: acks ride on traffic going back the
// other way.

import { previewJson } from '../lib/protocol.js';
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

/** Longest list of offending entries quoted in a topology complaint. */
const maxNamedProblems = 3;

/**
 * Why a topology body cannot be Maelstrom's {node: [node, …]} for these nodes, or undefined when it
 * can. Checked before the 'maelstrom' overlay trusts it: a value that is not a list, a neighbour that
 * is not a string or not a node, or no entry for this node would otherwise leave it never gossiping.
 */
export function topologyProblem(topology: unknown, self: string, nodeIds: readonly string[]): string | undefined {
  if (typeof topology !== 'object' || topology === null || Array.isArray(topology)) {
    return `topology must be an object mapping node ids to lists of node ids, got ${previewJson(topology)}`;
  }
  const known = new Set(nodeIds);
  const problems: string[] = [];
  for (const [id, neighbours] of Object.entries(topology as Record<string, unknown>)) {
    if (problems.length >= maxNamedProblems) break;
    if (!known.has(id)) problems.push(`key ${previewJson(id)} is not a node`);
    else if (!Array.isArray(neighbours)) problems.push(`${previewJson(id)} maps to ${previewJson(neighbours)}, not a list`);
    else {
      const bad = neighbours.find((n) => typeof n !== 'string' || !known.has(n));
      if (bad !== undefined) problems.push(`${previewJson(id)} lists ${previewJson(bad)}, which is not a node id`);
    }
  }
  if (problems.length === 0 && !Object.prototype.hasOwnProperty.call(topology, self)) {
    problems.push(`no entry for this node (${self})`);
  }
  return problems.length === 0 ? undefined : `malformed topology: ${problems.join('; ')}`;
}
