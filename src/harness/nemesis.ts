// Partition shapes and schedule of Maelstrom's `--nemesis partition` (spec section 5), after
// Jepsen's combined partition package: start/stop alternate with gaps uniform in [0, 2·interval).
import { EMPTY, nemesis, once, type Gen, type OpSpec } from './generator.js';
import { shuffled } from './rng.js';
import type { Completion, Json, NemesisFault, Rng } from './types.js';

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

// ---------------------------------------------------------------------------------------------
// The nemesis as the runner sees it: operations on the nemesis thread, on the run's clock.

/** What the nemesis acts on; the runner provides it. */
export interface NemesisTarget {
  readonly nodes: readonly string[];
  setGrudge(grudge: Grudge): void;
  heal(): void;
}

export interface NemesisPackage {
  /** nemesis operations during load */
  generator: Gen;
  /** what ends every fault before the final phase (heal) */
  finalGenerator: Gen;
  /** Performs one nemesis operation; the completion is recorded as an :info, as Maelstrom does. */
  invoke(op: OpSpec): Completion;
}

/**
 * A fixed timeline of operations, offsets counted from the first time it is asked. Drawn up
 * front because the schedule does not depend on what clients do, and so asking again never
 * consumes random numbers.
 */
export function timeline(entries: readonly { offsetNs: number; spec: OpSpec }[], startNs?: number, index = 0): Gen {
  return {
    op(ctx) {
      const entry = entries[index];
      if (entry === undefined) return { kind: 'done' };
      const start = startNs ?? ctx.timeNs;
      const at = start + entry.offsetNs;
      if (!ctx.freeThreads.includes('nemesis')) return { kind: 'pending', next: timeline(entries, start, index) };
      return { kind: 'op', op: { ...entry.spec, thread: 'nemesis', timeNs: at }, next: timeline(entries, start, index + 1) };
    },
    update() {
      return this;
    },
  };
}

/** Start/stop alternating from the beginning, gaps uniform in [0, 2·interval), within limitNs. */
export function partitionTimeline(intervalS: number, limitNs: number, rng: Rng): { offsetNs: number; spec: OpSpec }[] {
  const entries: { offsetNs: number; spec: OpSpec }[] = [];
  let offsetNs = 0;
  let starting = true;
  // Bounded by the time limit; a zero interval is refused by the CLI.
  while (offsetNs < limitNs && entries.length < 1_000_000) {
    entries.push({
      offsetNs,
      spec: starting ? { f: 'start-partition', value: pickShape(rng) } : { f: 'stop-partition', value: null },
    });
    starting = !starting;
    offsetNs += nemesisGapMs(intervalS, rng) * 1e6;
  }
  return entries;
}

export interface NemesisOptions {
  faults: readonly NemesisFault[];
  intervalS: number;
  /** the load phase's length: nothing is scheduled past it */
  limitNs: number;
}

export function createNemesis(options: NemesisOptions, target: NemesisTarget, rng: Rng): NemesisPackage {
  const partitions = options.faults.includes('partition');
  return {
    generator: partitions ? timeline(partitionTimeline(options.intervalS, options.limitNs, rng)) : EMPTY,
    finalGenerator: partitions ? nemesis(once({ f: 'stop-partition', value: null })) : EMPTY,
    invoke(op) {
      switch (op.f) {
        case 'start-partition': {
          const grudge = partitionGrudge(op.value as PartitionShape, [...target.nodes], rng);
          target.setGrudge(grudge);
          return { type: 'info', value: ['isolated', grudge as unknown as Json] };
        }
        case 'stop-partition':
          target.heal();
          return { type: 'info', value: 'network-healed' };
        default:
          return { type: 'info', value: op.value, error: `unknown nemesis operation ${op.f}` };
      }
    },
  };
}

