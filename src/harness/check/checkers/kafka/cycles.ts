// The kafka checker's graph for its Elle part: a compact graph over vertex numbers with a flat
// edge list (3 int32 per edge while building, which suits kafka's many realtime edges), Elle's
// realtime edges (docs/checkers.md §3.3) and a shortest-cycle search. Edge bits and the strongly
// connected components are Elle's own (elle/graph.ts); Elle's typed search is not needed here,
// since kafka's graph only has wr and realtime edges.

import type { Op } from '../../../types.js';
import { PROCESS, REALTIME, RW, tarjan, WR, WW } from '../elle/graph.js';

/** Edge kinds, as bits, so one pair can carry several relationships: Elle's bits (elle/graph.ts). */
export const EDGE_WW = WW;
export const EDGE_WR = WR;
export const EDGE_RW = RW;
export const EDGE_PROCESS = PROCESS;
export const EDGE_REALTIME = REALTIME;

/** Thrown by long loops when the caller's wall-clock deadline has passed. */
export class DeadlineError extends Error {
  constructor(phase: string) {
    super(`analysis deadline passed during ${phase}`);
    this.name = 'DeadlineError';
  }
}

/** Calls `check` every 4096 ticks; cheap enough for inner loops. */
export class DeadlineTicker {
  private ticks = 0;
  constructor(
    private readonly deadlineMs: number | undefined,
    private readonly phase: string,
  ) {}
  tick(): void {
    if (this.deadlineMs === undefined || (++this.ticks & 4095) !== 0) return;
    if (Date.now() > this.deadlineMs) throw new DeadlineError(this.phase);
  }
}

class GrowableInt32 {
  data = new Int32Array(1024);
  length = 0;
  release(): void {
    this.data = new Int32Array(0);
    this.length = 0;
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
}

/**
 * A directed graph over vertices 0..vertexCount-1. Edges are collected first (addEdge), then
 * frozen into compressed adjacency arrays; duplicate pairs are kept and their kinds OR-ed on
 * lookup. Memory: three int32 per edge.
 */
export class EdgeGraph {
  private readonly from = new GrowableInt32();
  private readonly to = new GrowableInt32();
  private readonly kind = new GrowableInt32();
  private start: Int32Array | undefined;
  private targets: Int32Array | undefined;
  private kinds: Int32Array | undefined;

  constructor(readonly vertexCount: number) {}

  private edgeTotal = -1;

  get edgeCount(): number {
    return this.edgeTotal >= 0 ? this.edgeTotal : this.from.length;
  }

  addEdge(a: number, b: number, kind: number): void {
    if (this.start) throw new Error('graph is frozen');
    this.from.push(a);
    this.to.push(b);
    this.kind.push(kind);
  }

  /** Builds the adjacency arrays (counting sort by source). Idempotent. */
  freeze(): void {
    if (this.start) return;
    const n = this.vertexCount;
    const m = this.from.length;
    const start = new Int32Array(n + 1);
    for (let e = 0; e < m; e++) start[this.from.data[e]! + 1]!++;
    for (let v = 0; v < n; v++) start[v + 1]! += start[v]!;
    const fill = start.slice(0, n);
    const targets = new Int32Array(m);
    const kinds = new Int32Array(m);
    for (let e = 0; e < m; e++) {
      const slot = fill[this.from.data[e]!]!++;
      targets[slot] = this.to.data[e]!;
      kinds[slot] = this.kind.data[e]!;
    }
    this.start = start;
    this.targets = targets;
    this.kinds = kinds;
    this.edgeTotal = m;
    // the adjacency arrays hold everything now; drop the collection buffers
    this.from.release();
    this.to.release();
    this.kind.release();
  }

  /** Calls visit(target, kind) for each out-edge of v. */
  forEachOut(v: number, visit: (target: number, kind: number) => void): void {
    this.freeze();
    const start = this.start!;
    for (let i = start[v]!; i < start[v + 1]!; i++) visit(this.targets![i]!, this.kinds![i]!);
  }

  /** The out-edge range of v in targetAt/kindAt, for allocation-free loops. */
  outRange(v: number): [number, number] {
    this.freeze();
    return [this.start![v]!, this.start![v + 1]!];
  }

  /** v's out-edge targets, as a view (no copy). */
  targetsOf(v: number): Int32Array {
    this.freeze();
    return this.targets!.subarray(this.start![v]!, this.start![v + 1]!);
  }

  targetAt(i: number): number {
    return this.targets![i]!;
  }

  kindAt(i: number): number {
    return this.kinds![i]!;
  }

  /** OR of the kinds of every a→b edge (0 when there is none). */
  kindsBetween(a: number, b: number): number {
    const [lo, hi] = this.outRange(a);
    let bits = 0;
    for (let i = lo; i < hi; i++) if (this.targets![i] === b) bits |= this.kinds![i]!;
    return bits;
  }

  hasVertexWithEdges(): boolean {
    return this.edgeCount > 0;
  }
}

/**
 * Elle's realtime edges (docs/checkers.md §3.3), a transitive reduction of "a completed before b was
 * invoked". `ops` are the analysed ops in history order; `vertexOf` maps an op's position in
 * `ops` to its graph vertex, and `completionOf` maps an invocation's position to its completion's
 * position (-1 when it never completed). At each invocation, every op in the buffer gets an edge to
 * that invocation's completion; when an ok op completes, the ops with an edge into it leave the
 * buffer and it enters. Info and fail completions never enter the buffer.
 */
export function addRealtimeEdges(
  graph: EdgeGraph,
  ops: readonly Op[],
  vertexOf: (position: number) => number,
  completionOf: (position: number) => number,
  ticker?: DeadlineTicker,
): void {
  const buffer = new Set<number>();
  /** per completion vertex: the buffer members linked to it at its invocation */
  const linkedInto = new Map<number, number[]>();
  for (let position = 0; position < ops.length; position++) {
    ticker?.tick();
    const op = ops[position]!;
    if (op.type === 'invoke') {
      const completion = completionOf(position);
      if (completion < 0) continue;
      const target = vertexOf(completion);
      const sources = [...buffer];
      for (const source of sources) graph.addEdge(source, target, EDGE_REALTIME);
      if (sources.length > 0) linkedInto.set(target, sources);
    } else if (op.type === 'ok') {
      const vertex = vertexOf(position);
      const implied = linkedInto.get(vertex);
      if (implied) {
        for (const source of implied) buffer.delete(source);
        linkedInto.delete(vertex);
      }
      buffer.add(vertex);
    } else {
      linkedInto.delete(vertexOf(position));
    }
  }
}

/**
 * Strongly connected components with more than one vertex (Tarjan, iterative), each sorted
 * ascending, in order of their smallest vertex.
 */
export function stronglyConnectedComponents(graph: EdgeGraph, ticker?: DeadlineTicker): number[][] {
  graph.freeze();
  const components = tarjan(graph.vertexCount, (v) => graph.targetsOf(v), false, ticker === undefined ? undefined : () => ticker.tick());
  for (const component of components) component.sort((a, b) => a - b);
  return components.sort((a, b) => (a[0] as number) - (b[0] as number));
}

export type CycleSearchOutcome = { cycle: number[] } | { timedOut: true };

/**
 * A shortest cycle through `startVertex` inside `component` (breadth-first over vertices, so
 * O(V + E) of the component), as [start, …, start]. With `requiredKinds`, only cycles using at
 * least one edge of each listed kind count; in the kafka graph every cycle qualifies (wr edges
 * alone are acyclic, realtime edges alone are acyclic), so the plain search suffices and the check
 * is an assertion. Gives up with timedOut once `budgetEndMs` (Date.now()) passes.
 */
export function shortestCycleThrough(
  graph: EdgeGraph,
  component: readonly number[],
  startVertex: number,
  budgetEndMs: number,
): CycleSearchOutcome {
  const members = new Set(component);
  const parent = new Map<number, number>([[startVertex, -1]]);
  let frontier = [startVertex];
  let steps = 0;
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const v of frontier) {
      const [lo, hi] = graph.outRange(v);
      for (let i = lo; i < hi; i++) {
        if ((steps++ & 1023) === 0 && Date.now() > budgetEndMs) return { timedOut: true };
        const w = graph.targetAt(i);
        if (!members.has(w)) continue;
        if (w === startVertex) return { cycle: pathTo(parent, v, startVertex) };
        if (parent.has(w)) continue;
        parent.set(w, v);
        next.push(w);
      }
    }
    frontier = next;
  }
  return { timedOut: true };
}

function pathTo(parent: ReadonlyMap<number, number>, last: number, start: number): number[] {
  const reversed = [start, last];
  let v = parent.get(last)!;
  while (v !== -1) {
    reversed.push(v);
    v = parent.get(v)!;
  }
  return reversed.reverse();
}

/** Some cycle inside a strongly connected component (depth-first), Elle's timeout fallback. */
export function fallbackCycle(graph: EdgeGraph, component: readonly number[]): number[] {
  const members = new Set(component);
  const start = component[0]!;
  const position = new Map<number, number>();
  const path: number[] = [];
  let v = start;
  // In a strongly connected component every vertex has an out-edge inside it, so walking any
  // in-component edge must revisit a vertex within |component| steps.
  for (;;) {
    const seenAt = position.get(v);
    if (seenAt !== undefined) return [...path.slice(seenAt), v];
    position.set(v, path.length);
    path.push(v);
    const [lo, hi] = graph.outRange(v);
    let nextVertex = -1;
    for (let i = lo; i < hi && nextVertex < 0; i++) if (members.has(graph.targetAt(i))) nextVertex = graph.targetAt(i);
    v = nextVertex;
  }
}
