// Neighbour maps over a list of node ids: the shapes Maelstrom's broadcast workload sends as
// `--topology` (grid, line, total, b-ary trees), plus a star. Any gossiping node can use them to
// build its own overlay from `node.nodeIds`; each map is symmetric.

export type Topology = Record<string, string[]>;

/**
 * A roughly square grid, side ceil(sqrt(n)), node i at row floor(i/side), column i mod side.
 * Neighbours in the order below, above, right, left, skipping cells outside the grid or past the
 * last node.
 */
export function gridTopology(nodes: readonly string[]): Topology {
  const n = nodes.length;
  const side = Math.ceil(Math.sqrt(n));
  const at = (row: number, col: number): string | undefined => {
    if (row < 0 || col < 0 || col >= side) return undefined;
    const index = row * side + col;
    return index < n ? nodes[index] : undefined;
  };
  const topology: Topology = {};
  nodes.forEach((node, i) => {
    const row = Math.floor(i / side);
    const col = i % side;
    topology[node] = [at(row + 1, col), at(row - 1, col), at(row, col + 1), at(row, col - 1)].filter(
      (x): x is string => x !== undefined,
    );
  });
  return topology;
}

/** A chain: each node's left then right neighbour. Fewer than two nodes give an empty map. */
export function lineTopology(nodes: readonly string[]): Topology {
  const n = nodes.length;
  const topology: Topology = {};
  if (n < 2) return topology;
  nodes.forEach((node, i) => {
    if (i === 0) topology[node] = [nodes[1] as string];
    else if (i === n - 1) topology[node] = [nodes[n - 2] as string];
    else topology[node] = [nodes[i - 1] as string, nodes[i + 1] as string];
  });
  return topology;
}

/** Everyone neighbours everyone else, in node-list order. */
export function totalTopology(nodes: readonly string[]): Topology {
  const topology: Topology = {};
  for (const node of nodes) topology[node] = nodes.filter((other) => other !== node);
  return topology;
}

/**
 * A tree with branching factor `branching` in heap layout: node i's parent is
 * floor((i-1)/branching), its children branching*i+1 .. branching*i+branching. Neighbours are
 * the parent (if any) then the children in order.
 */
export function treeTopology(branching: number, nodes: readonly string[]): Topology {
  const n = nodes.length;
  const topology: Topology = {};
  nodes.forEach((node, i) => {
    const neighbours: string[] = [];
    if (i > 0) neighbours.push(nodes[Math.floor((i - 1) / branching)] as string);
    for (let child = branching * i + 1; child <= branching * i + branching && child < n; child++) {
      neighbours.push(nodes[child] as string);
    }
    topology[node] = neighbours;
  });
  return topology;
}

/** Every node talks only to the hub, and the hub to everyone (nodes[0] when hub is not listed). */
export function starTopology(nodes: readonly string[], hub?: string): Topology {
  const centre = hub !== undefined && nodes.includes(hub) ? hub : nodes[0];
  const topology: Topology = {};
  for (const node of nodes) topology[node] = node === centre ? nodes.filter((other) => other !== centre) : [centre as string];
  return topology;
}
