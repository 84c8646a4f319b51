// Which peers a node gossips with. Every overlay here is symmetric (b is a's neighbour iff a
// is b's), which the acknowledgement scheme relies on: acks ride on traffic going back the
// other way.

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
  const n = nodeIds.length;
  const at = (i: number): string => nodeIds[i]!;
  switch (spec.kind) {
    case 'maelstrom':
      return undefined;
    case 'total':
      return { neighbours: nodeIds.filter((id) => id !== self), relay: false };
    case 'line': {
      const neighbours: string[] = [];
      if (index > 0) neighbours.push(at(index - 1));
      if (index < n - 1) neighbours.push(at(index + 1));
      return { neighbours, relay: true };
    }
    case 'star': {
      const hub = spec.hub !== undefined && nodeIds.includes(spec.hub) ? spec.hub : at(0);
      const neighbours = self === hub ? nodeIds.filter((id) => id !== hub) : [hub];
      return { neighbours, relay: true };
    }
    case 'tree': {
      const fanout = Math.max(1, spec.fanout);
      const neighbours: string[] = [];
      if (index > 0) neighbours.push(at(Math.floor((index - 1) / fanout)));
      for (let child = fanout * index + 1; child <= fanout * index + fanout && child < n; child += 1) {
        neighbours.push(at(child));
      }
      return { neighbours, relay: true };
    }
    case 'grid': {
      // Same layout as Maelstrom's grid topology, so comparisons line up.
      const side = Math.ceil(Math.sqrt(n));
      const row = Math.floor(index / side);
      const col = index % side;
      const neighbours: string[] = [];
      const add = (r: number, c: number): void => {
        if (r < 0 || c < 0 || c >= side) return;
        const i = r * side + c;
        if (i < n) neighbours.push(at(i));
      };
      add(row + 1, col);
      add(row - 1, col);
      add(row, col + 1);
      add(row, col - 1);
      return { neighbours, relay: true };
    }
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
