// Partition shapes and schedule of Maelstrom's `--nemesis partition` (spec section 5), after
// Jepsen's combined partition package: start/stop alternate with gaps uniform in [0, 2·interval).
import { shuffled } from './rng.js';
import type { Rng } from './types.js';

export type PartitionShape = 'one' | 'majority' | 'minority-third' | 'majorities-ring';
export const PARTITION_SHAPES: readonly PartitionShape[] = [
  'one',
  'minority-third',
  'majority',
  'majorities-ring',
];

/** receiver -> the senders it drops */
export type Grudge = Record<string, string[]>;

function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Every node in a component drops every node outside its component. */
export function completeGrudge(components: string[][]): Grudge {
  const universe = components.flat();
  const grudge: Grudge = {};
  for (const component of components) {
    const inside = new Set(component);
    for (const node of component) grudge[node] = universe.filter((other) => !inside.has(other));
  }
  return grudge;
}

/** n <= 5: a shuffled ring; each window of majority(n) nodes makes its middle node drop the rest. */
function majoritiesRingPerfect(nodes: string[], rng: Rng): Grudge {
  const n = nodes.length;
  const m = majority(n);
  const ring = shuffled(nodes, rng);
  const grudge: Grudge = {};
  for (let start = 0; start < n; start++) {
    const window = Array.from({ length: m }, (_, k) => ring[(start + k) % n] as string);
    const middle = window[Math.floor(m / 2)] as string;
    const inWindow = new Set(window);
    grudge[middle] = nodes.filter((node) => !inWindow.has(node));
  }
  return grudge;
}

/**
 * n > 5: grow a random symmetric connection graph, always linking a least-connected node to
 * another least-connected node it is not yet linked to, until every node sees a majority
 * (itself included); then every node drops the nodes it is not connected to.
 */
function majoritiesRingStochastic(nodes: string[], rng: Rng): Grudge {
  const m = majority(nodes.length);
  const conns = new Map(nodes.map((node) => [node, new Set([node])]));
  const degree = (node: string): number => conns.get(node)?.size ?? 0;
  // Bounded: each round adds one edge, and there are at most n² edges.
  for (let round = 0; round <= nodes.length * nodes.length; round++) {
    const order = shuffled(nodes, rng).sort((a, b) => degree(a) - degree(b));
    const a = order[0] as string;
    if (degree(a) >= m) break;
    const aConns = conns.get(a) as Set<string>;
    const b = order.find((node) => !aConns.has(node));
    if (b === undefined) break;
    aConns.add(b);
    conns.get(b)?.add(a);
  }
  const grudge: Grudge = {};
  for (const node of [...nodes].sort()) {
    const connected = conns.get(node) as Set<string>;
    grudge[node] = nodes.filter((other) => !connected.has(other));
  }
  return grudge;
}

export function partitionGrudge(shape: PartitionShape, nodes: string[], rng: Rng): Grudge {
  const n = nodes.length;
  switch (shape) {
    case 'one': {
      const loner = nodes[rng.int(n)] as string;
      return completeGrudge([[loner], nodes.filter((node) => node !== loner)]);
    }
    case 'majority': {
      const order = shuffled(nodes, rng);
      const cut = Math.floor(n / 2);
      return completeGrudge([order.slice(0, cut), order.slice(cut)]);
    }
    case 'minority-third': {
      const order = shuffled(nodes, rng);
      const cut = Math.floor((n - 1) / 3);
      return completeGrudge([order.slice(0, cut), order.slice(cut)]);
    }
    case 'majorities-ring':
      return n <= 5 ? majoritiesRingPerfect(nodes, rng) : majoritiesRingStochastic(nodes, rng);
  }
}

export function pickShape(rng: Rng): PartitionShape {
  return PARTITION_SHAPES[rng.int(PARTITION_SHAPES.length)] as PartitionShape;
}

/** Gap before the next nemesis operation: uniform in [0, 2·interval) seconds, in ms. */
export function nemesisGapMs(intervalS: number, rng: Rng): number {
  return rng.next() * 2 * intervalS * 1000;
}
