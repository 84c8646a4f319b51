// Partition shapes and schedule of Maelstrom's `--nemesis partition` (docs/protocol.md §5), after
// Jepsen's combined partition package: start/stop alternate with gaps uniform in [0, 2·interval).
import { EMPTY, any, nemesis, once, seq, type Gen, type OpSpec } from './generator.js';
import { shuffled } from '../util/rng.js';
import type { Completion, Json, NemesisFault, Rng } from '../types.js';

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
  /** SIGKILLs a node's processes; a no-op for a node that is already dead. Returns what happened. */
  kill(node: string): Promise<string>;
  /** Starts a dead node again (same id, same working directory) and sends it a fresh init. */
  start(node: string): Promise<string>;
  /** SIGSTOP / SIGCONT; no-ops when already paused / running. */
  pause(node: string): Promise<string>;
  resume(node: string): Promise<string>;
  /** A kill that is a power cut: what the node wrote and did not fsync is lost (--sim; else a kill). */
  powerCut?(node: string): Promise<string>;
  /** The node's disk fills up (its writes fail with ENOSPC) / has room again (--sim only). */
  diskFull?(node: string): Promise<string>;
  diskOk?(node: string): Promise<string>;
}

export interface NemesisPackage {
  /** nemesis operations during load */
  generator: Gen;
  /** what ends every fault before the final phase: heal, resume all, start all */
  finalGenerator: Gen;
  /**
   * what a test without a final phase runs after load: the final generator when any fault of ours
   * (kill, pause, power, disk) is on, so that no node stays down unseen and a node that cannot restart is reported; nothing for
   * partitions alone, as Maelstrom's core composes such a test (docs/nemesis.md §4)
   */
  closingGenerator: Gen;
  /** Performs one nemesis operation; the completion is recorded as an :info, as Maelstrom does. */
  invoke(op: OpSpec): Completion | Promise<Completion>;
}

type Entry = { offsetNs: number; spec: OpSpec };

/**
 * A fixed timeline of operations, offsets counted from the first time it is asked. Drawn up
 * front because the schedule does not depend on what clients do, and so asking again never
 * consumes random numbers.
 */
export function timeline(entries: readonly Entry[], startNs?: number, index = 0): Gen {
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

/**
 * Offsets of a staggered schedule within limitNs: the first at once, then gaps uniform in
 * [0, 2·interval) (Jepsen's stagger), each entry made by next().
 */
function staggered(intervalS: number, limitNs: number, rng: Rng, next: () => OpSpec): Entry[] {
  const entries: Entry[] = [];
  // Bounded by the time limit; a zero interval is refused by the CLI.
  for (let offsetNs = 0; offsetNs < limitNs && entries.length < 1_000_000; offsetNs += nemesisGapMs(intervalS, rng) * 1e6) {
    entries.push({ offsetNs, spec: next() });
  }
  return entries;
}

/** Start/stop alternating from the beginning, gaps uniform in [0, 2·interval), within limitNs. */
export function partitionTimeline(intervalS: number, limitNs: number, rng: Rng): Entry[] {
  let starting = false;
  return staggered(intervalS, limitNs, rng, () => {
    starting = !starting;
    return starting ? { f: 'start-partition', value: pickShape(rng) } : { f: 'stop-partition', value: null };
  });
}

/**
 * Jepsen's db-package target specs for kill and pause, drawn uniformly; null is a random non-empty
 * subset. Maelstrom passes no targets, so these defaults apply.
 */
export const DB_TARGET_SPECS: readonly (string | null)[] = [null, 'one', 'minority-third', 'minority', 'majority', 'all'];

/**
 * Kills and pauses on one staggered schedule, as Jepsen's db package: each operation comes from a
 * random one of the enabled modes (kill/start, pause/resume), and each mode alternates strictly.
 */
export function processTimeline(faults: readonly NemesisFault[], intervalS: number, limitNs: number, rng: Rng): Entry[] {
  const modes: { on: string; off: string; down: boolean; attrs?: { [key: string]: Json } }[] = [];
  if (faults.includes('pause')) modes.push({ on: 'pause', off: 'resume', down: false });
  if (faults.includes('kill')) modes.push({ on: 'kill', off: 'start', down: false });
  // A power cut is a kill (so reports count it as one) marked power: true in the history.
  if (faults.includes('power')) modes.push({ on: 'kill', off: 'start', down: false, attrs: { power: true } });
  if (faults.includes('disk')) modes.push({ on: 'disk-full', off: 'disk-ok', down: false });
  if (modes.length === 0) return [];
  return staggered(intervalS, limitNs, rng, () => {
    const mode = modes[rng.int(modes.length)] as (typeof modes)[number];
    mode.down = !mode.down;
    if (!mode.down) return { f: mode.off, value: 'all' };
    const value = DB_TARGET_SPECS[rng.int(DB_TARGET_SPECS.length)] ?? null;
    return mode.attrs === undefined ? { f: mode.on, value } : { f: mode.on, value, attrs: mode.attrs };
  });
}

/** The nodes a kill or pause spec picks (Jepsen's db-nodes). */
export function targetNodes(spec: Json, nodes: readonly string[], rng: Rng): string[] {
  const n = nodes.length;
  const order = shuffled([...nodes], rng);
  switch (spec) {
    case null:
      return order.slice(0, 1 + rng.int(n));
    case 'one':
      return order.slice(0, 1);
    case 'minority':
      return order.slice(0, majority(n) - 1);
    case 'majority':
      return order.slice(0, majority(n));
    case 'minority-third':
      return order.slice(0, Math.floor((n - 1) / 3));
    case 'all':
      return [...nodes];
    default:
      return Array.isArray(spec) ? nodes.filter((node) => spec.includes(node)) : [];
  }
}

export interface NemesisOptions {
  faults: readonly NemesisFault[];
  intervalS: number;
  /** the load phase's length: nothing is scheduled past it */
  limitNs: number;
}

const notSimulated = async (): Promise<string> => 'not-simulated';

/** Runs action on each node, one after another; the completion maps node -> what happened. */
async function onNodes(nodes: readonly string[], action: (node: string) => Promise<string>): Promise<Json> {
  const out: { [node: string]: Json } = {};
  for (const node of nodes) out[node] = await action(node);
  return out;
}

export function createNemesis(options: NemesisOptions, target: NemesisTarget, rng: Rng): NemesisPackage {
  const { faults, intervalS, limitNs } = options;
  const partitions = faults.includes('partition');
  const schedules = [
    partitions ? timeline(partitionTimeline(intervalS, limitNs, rng)) : EMPTY,
    timeline(processTimeline(faults, intervalS, limitNs, rng)),
  ];
  // Partitions heal first, then paused nodes resume, then dead nodes start: Jepsen's order.
  const final: OpSpec[] = [
    ...(partitions ? [{ f: 'stop-partition', value: null }] : []),
    ...(faults.includes('pause') ? [{ f: 'resume', value: 'all' }] : []),
    ...(faults.includes('disk') ? [{ f: 'disk-ok', value: 'all' }] : []),
    ...(faults.includes('kill') || faults.includes('power') ? [{ f: 'start', value: 'all' }] : []),
  ];
  const all = target.nodes;
  const finalGenerator = final.length === 0 ? EMPTY : nemesis(seq(final.map((spec) => once(spec))));
  const processFaults = faults.some((fault) => fault !== 'partition');
  return {
    generator: any(...schedules),
    finalGenerator,
    closingGenerator: processFaults ? finalGenerator : EMPTY,
    async invoke(op) {
      switch (op.f) {
        case 'start-partition': {
          const grudge = partitionGrudge(op.value as PartitionShape, [...all], rng);
          target.setGrudge(grudge);
          return { type: 'info', value: ['isolated', grudge as unknown as Json] };
        }
        case 'stop-partition':
          target.heal();
          return { type: 'info', value: 'network-healed' };
        case 'kill':
          return { type: 'info', value: await onNodes(targetNodes(op.value, all, rng), op.attrs?.['power'] === true ? (target.powerCut ?? target.kill) : target.kill) };
        case 'disk-full':
          return { type: 'info', value: await onNodes(targetNodes(op.value, all, rng), target.diskFull ?? notSimulated) };
        case 'disk-ok':
          return { type: 'info', value: await onNodes(all, target.diskOk ?? notSimulated) };
        case 'pause':
          return { type: 'info', value: await onNodes(targetNodes(op.value, all, rng), target.pause) };
        case 'start':
          return { type: 'info', value: await onNodes(all, target.start) };
        case 'resume':
          return { type: 'info', value: await onNodes(all, target.resume) };
        default:
          return { type: 'info', value: op.value, error: `unknown nemesis operation ${op.f}` };
      }
    },
  };
}
