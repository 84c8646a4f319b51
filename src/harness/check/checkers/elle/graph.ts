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

/**
 * Collects edges as a flat list of (from, to*32 + rels) pairs in growable typed arrays (a few
 * bytes per edge, no per-vertex objects), then merges duplicates when frozen.
 */
export class GraphBuilder {
  private from = new Int32Array(1024);
  private packed = new Int32Array(1024);
  private size = 0;

  constructor(readonly vertexCount: number) {
    if (vertexCount >= 1 << 26) throw new Error('too many transactions for a packed edge list');
  }

  link(from: number, to: number, rel: number): void {
    if (from === to) return;
    if (this.size === this.from.length) {
      const grownFrom = new Int32Array(this.size * 2);
      grownFrom.set(this.from);
      this.from = grownFrom;
      const grownPacked = new Int32Array(this.size * 2);
      grownPacked.set(this.packed);
      this.packed = grownPacked;
    }
    this.from[this.size] = from;
    this.packed[this.size] = to * 32 + rel;
    this.size++;
  }

  freeze(): Graph {
    const n = this.vertexCount;
    const counts = new Int32Array(n + 1);
    for (let i = 0; i < this.size; i++) {
      const slot = at(this.from, i) + 1;
      counts[slot] = at(counts, slot) + 1;
    }
    for (let v = 0; v < n; v++) counts[v + 1] = at(counts, v + 1) + at(counts, v);
    const fill = counts.slice(0, n);
    const byVertex = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const v = at(this.from, i);
      byVertex[at(fill, v)] = at(this.packed, i);
      fill[v] = at(fill, v) + 1;
    }
    // sort each vertex's edges by target (a deterministic search order), merging duplicates
    const offsets = new Int32Array(n + 1);
    const targets = new Int32Array(this.size);
    const rels = new Uint8Array(this.size);
    let out = 0;
    for (let v = 0; v < n; v++) {
      offsets[v] = out;
      const segment = byVertex.subarray(at(counts, v), at(counts, v + 1)).sort();
      let last = -1;
      for (let i = 0; i < segment.length; i++) {
        const to = at(segment, i) >> 5;
        const rel = at(segment, i) & 31;
        if (to === last) {
          rels[out - 1] = at(rels, out - 1) | rel;
        } else {
          targets[out] = to;
          rels[out] = rel;
          out++;
          last = to;
        }
      }
    }
    offsets[n] = out;
    this.from = new Int32Array(0);
    this.packed = new Int32Array(0);
    return new Graph(n, offsets, targets.slice(0, out), rels.slice(0, out));
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

/**
 * The graph restricted to `vertices` and to edges whose rels intersect `mask`, in local ids:
 * `localOf[v]` is v's position in `vertices`, and -1 for a vertex outside them.
 */
export function project(g: Graph, vertices: readonly number[], localOf: Int32Array, mask: number): Adjacency {
  return vertices.map((v) => {
    const from = at(g.offsets, v);
    const to = at(g.offsets, v + 1);
    let count = 0;
    for (let i = from; i < to; i++) if ((at(g.rels, i) & mask) !== 0 && at(localOf, at(g.targets, i)) !== -1) count++;
    const out = new Int32Array(count);
    let k = 0;
    for (let i = from; i < to; i++) {
      const local = at(localOf, at(g.targets, i));
      if ((at(g.rels, i) & mask) !== 0 && local !== -1) out[k++] = local;
    }
    return out;
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
  // The vertex stack and the call stack hold at most n entries each: typed arrays of that size,
  // filled and emptied by hand, where growing lists was most of this function's garbage.
  const stack = new Int32Array(n);
  let stackSize = 0;
  const callV = new Int32Array(n);
  const callI = new Int32Array(n);
  // each frame keeps its neighbour list, fetched once per vertex
  const callN: Array<ArrayLike<number>> = [];
  let depth = 0;
  const result: number[][] = [];
  let counter = 0;
  const enter = (v: number): void => {
    index[v] = low[v] = counter++;
    stack[stackSize++] = v;
    onStack[v] = 1;
    callV[depth] = v;
    callI[depth] = 0;
    callN[depth] = neighbours(v);
    depth++;
  };
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    enter(root);
    while (depth > 0) {
      const top = depth - 1;
      const v = at(callV, top);
      const ns = callN[top] as ArrayLike<number>;
      const i = at(callI, top);
      if (i < ns.length) {
        callI[top] = i + 1;
        const w = at(ns, i);
        if (index[w] === -1) enter(w);
        else if (onStack[w] === 1 && at(index, w) < at(low, v)) low[v] = at(index, w);
        continue;
      }
      depth = top;
      if (depth > 0) {
        const parent = at(callV, depth - 1);
        if (at(low, v) < at(low, parent)) low[parent] = at(low, v);
      }
      if (at(low, v) !== at(index, v)) continue;
      if (!keepTrivial && at(stack, stackSize - 1) === v) {
        // a lone vertex, left out with no list made: most vertices are alone
        stackSize--;
        onStack[v] = 0;
      } else {
        const comp: number[] = [];
        let w: number;
        do {
          w = at(stack, --stackSize);
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        if (keepTrivial || comp.length > 1) result.push(comp);
      }
      tick?.();
    }
  }
  return result;
}
