// The transaction dependency graph: vertices are integer ids of completion ops, each edge carries
// a bitmask of relationships. Built once from adjacency maps, then frozen into compressed arrays.

export const WW = 1;
export const WR = 2;
export const RW = 4;
export const PROCESS = 8;
export const REALTIME = 16;

export type EdgeKind = 'ww' | 'wr' | 'rw' | 'process' | 'realtime';

/** an element of a typed array or list known to be in range */
export function at<T>(a: ArrayLike<T>, i: number): T {
  return a[i] as T;
}

export const kindOfBit: Readonly<Record<number, EdgeKind>> = { 1: 'ww', 2: 'wr', 4: 'rw', 8: 'process', 16: 'realtime' };

/** Thrown when the caller's deadline passes; the checker answers `unknown`. */
export class DeadlineError extends Error {}

export class GraphBuilder {
  private readonly out: Array<Map<number, number> | undefined>;
  edgeCount = 0;

  constructor(readonly vertexCount: number) {
    this.out = new Array<Map<number, number> | undefined>(vertexCount);
  }

  link(from: number, to: number, rel: number): void {
    if (from === to) return;
    let m = this.out[from];
    if (m === undefined) {
      m = new Map();
      this.out[from] = m;
    }
    const old = m.get(to);
    if (old === undefined) this.edgeCount++;
    m.set(to, (old ?? 0) | rel);
  }

  freeze(): Graph {
    const n = this.vertexCount;
    const offsets = new Int32Array(n + 1);
    for (let v = 0; v < n; v++) offsets[v + 1] = at(offsets, v) + (this.out[v]?.size ?? 0);
    const targets = new Int32Array(at(offsets, n));
    const rels = new Uint8Array(at(offsets, n));
    for (let v = 0; v < n; v++) {
      const m = this.out[v];
      if (m === undefined) continue;
      // sorted targets: a deterministic search order (Elle's is hash order)
      const sorted = [...m.keys()].sort((a, b) => a - b);
      let i = at(offsets, v);
      for (const t of sorted) {
        targets[i] = t;
        rels[i] = m.get(t) as number;
        i++;
      }
    }
    return new Graph(n, offsets, targets, rels);
  }
}

export class Graph {
  constructor(
    readonly vertexCount: number,
    readonly offsets: Int32Array,
    readonly targets: Int32Array,
    readonly rels: Uint8Array,
  ) {}

  get edgeCount(): number {
    return this.targets.length;
  }

  relsBetween(from: number, to: number): number {
    for (let i = at(this.offsets, from); i < at(this.offsets, from + 1); i++) if (this.targets[i] === to) return at(this.rels, i);
    return 0;
  }
}

/** A plain adjacency list over vertex ids (projections and derived graphs). */
export type Adjacency = Int32Array[];

/** The graph restricted to `vertices` and to edges whose rels intersect `mask`. */
export function project(g: Graph, vertices: readonly number[], mask: number): Adjacency {
  const inSet = new Set(vertices);
  return vertices.map((v) => {
    const out: number[] = [];
    for (let i = at(g.offsets, v); i < at(g.offsets, v + 1); i++) {
      const to = at(g.targets, i);
      if ((at(g.rels, i) & mask) !== 0 && inSet.has(to)) out.push(to);
    }
    return Int32Array.from(out);
  });
}

/**
 * Strongly connected components (iterative Tarjan), over a graph given as a neighbour function
 * on local ids 0..n-1. Returns components as lists of local ids; `keepTrivial` keeps singletons.
 */
export function tarjan(n: number, neighbours: (v: number) => ArrayLike<number>, keepTrivial: boolean, tick?: () => void): number[][] {
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const callV: number[] = [];
  const callI: number[] = [];
  const result: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    callV.push(root);
    callI.push(0);
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (callV.length > 0) {
      const top = callV.length - 1;
      const v = at(callV, top);
      const ns = neighbours(v);
      const i = at(callI, top);
      if (i < ns.length) {
        callI[top] = i + 1;
        const w = at(ns, i);
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          callV.push(w);
          callI.push(0);
        } else if (onStack[w] === 1 && at(index, w) < at(low, v)) {
          low[v] = at(index, w);
        }
        continue;
      }
      callV.pop();
      callI.pop();
      if (callV.length > 0) {
        const parent = at(callV, callV.length - 1);
        if (at(low, v) < at(low, parent)) low[parent] = at(low, v);
      }
      if (at(low, v) === at(index, v)) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        if (keepTrivial || comp.length > 1) result.push(comp);
        tick?.();
      }
    }
  }
  return result;
}
