// Cycle search inside one strongly connected component, the way Elle's elle.txn does it:
// a cycle-exists pass over projections of the graph, then typed searches in Elle's order,
// skipping types already ruled out or implied, under a per-SCC time limit.

import { DeadlineError, type EdgeKind, type Graph, PROCESS, REALTIME, RW, WR, WW, at, project, tarjan } from './graph.js';
import { allImpliedAnomalies, anomaliesProhibitedBy, friendlyModel, modelsImplying } from './models.js';
import { minOf } from '../../../util/extent.js';

/** Edge kinds in the order an explainer tries them; the first one a pair carries names the step. */
export type ExplainOrder = readonly number[];
export const rwRegisterExplainOrder: ExplainOrder = [WR, WW, RW, REALTIME, PROCESS];
export const listAppendExplainOrder: ExplainOrder = [WW, WR, RW, REALTIME, PROCESS];

const kindName: Record<number, EdgeKind> = { [WW]: 'ww', [WR]: 'wr', [RW]: 'rw', [PROCESS]: 'process', [REALTIME]: 'realtime' };

export function effectiveBit(rels: number, order: ExplainOrder): number {
  for (const bit of order) if ((rels & bit) !== 0) return bit;
  return 0;
}

export interface FoundCycle {
  type: string;
  /** global vertex ids, first repeated at the end */
  vertices: number[];
  kinds: EdgeKind[];
}

export interface CycleExistsCase {
  type: string;
  not: string;
  subgraph: unknown[];
  sccSize: number;
  /** global vertex ids */
  scc: number[];
}

export interface TimeoutCase {
  anomalySpecType: string;
  doesNotContain: string[];
  sccSize: number;
}

export interface SccResult {
  cycleExists: CycleExistsCase[];
  cycles: FoundCycle[];
  timeout?: TimeoutCase;
}

// ---- classification ------------------------------------------------------------------------

export function classify(kinds: readonly EdgeKind[]): string {
  let rw = 0;
  let wr = 0;
  let ww = 0;
  let realtime = 0;
  let process = 0;
  for (const k of kinds) {
    if (k === 'rw') rw++;
    else if (k === 'wr') wr++;
    else if (k === 'ww') ww++;
    else if (k === 'realtime') realtime++;
    else process++;
  }
  let adjacent = false;
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === 'rw' && kinds[(i + 1) % kinds.length] === 'rw') adjacent = true;
  }
  let base: string;
  if (rw === 1) base = 'G-single-item';
  else if (rw > 1) base = adjacent ? 'G2-item' : 'G-nonadjacent-item';
  else if (wr > 0) base = 'G1c';
  else if (ww > 0) base = 'G0';
  else throw new Error(`cannot classify a cycle of ${kinds.join(',')}`);
  return base + (realtime > 0 ? '-realtime' : process > 0 ? '-process' : '');
}

// ---- cycle-exists pass ---------------------------------------------------------------------

interface ExistsSpec {
  model: string;
  /** a plain union of rels, or A ∪ (A;B) */
  union?: number;
  extension?: [number, number];
  subgraph: unknown[];
}

const dataA = ['union', 'ww', 'wwp', 'wr', 'wrp'];
const existsSpecs: ExistsSpec[] = [
  { model: 'PL-1', union: WW, subgraph: ['union', 'ww', 'wwp'] },
  { model: 'PL-2', union: WW | WR, subgraph: dataA },
  { model: 'PL-SI', extension: [WW | WR, RW], subgraph: ['extension', dataA, ['union', 'rw', 'rwp']] },
  { model: 'PL-2.99', union: WW | WR | RW, subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'rw'] },
  { model: 'PL-3', union: WW | WR | RW, subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'rw', 'rwp'] },
  { model: 'strong-session-PL-1', union: WW | PROCESS, subgraph: ['union', 'ww', 'wwp', 'process'] },
  { model: 'strong-session-PL-2', union: WW | WR | PROCESS, subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'process'] },
  {
    model: 'strong-session-snapshot-isolation',
    extension: [WW | WR | PROCESS, RW],
    subgraph: ['extension', ['union', 'ww', 'wwp', 'wr', 'wrp', 'process'], ['union', 'rw', 'rwp']],
  },
  { model: 'strong-session-serializable', union: WW | WR | RW | PROCESS, subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'rw', 'rwp', 'process'] },
  { model: 'strong-PL-1', union: WW | REALTIME, subgraph: ['union', 'ww', 'wwp', 'realtime'] },
  { model: 'strong-PL-2', union: WW | WR | REALTIME, subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'realtime'] },
  {
    model: 'strong-snapshot-isolation',
    extension: [WW | WR | REALTIME, RW],
    subgraph: ['extension', ['union', 'ww', 'wwp', 'wr', 'wrp', 'realtime'], ['union', 'rw', 'rwp']],
  },
  { model: 'PL-SS', union: WW | WR | RW | REALTIME, subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'rw', 'rwp', 'realtime'] },
];

export const existsModelTypes = new Map(existsSpecs.map((s) => [`${s.model}-cycle-exists`, s.model]));

/** local adjacency of the spec's subgraph over the SCC's vertices */
function existsAdjacency(g: Graph, scc: readonly number[], localOf: Int32Array, spec: ExistsSpec): Int32Array[] {
  if (spec.union !== undefined) return project(g, scc, localOf, spec.union);
  const [a, b] = spec.extension as [number, number];
  const aAdj = project(g, scc, localOf, a);
  const bAdj = project(g, scc, localOf, b);
  // each vertex's targets, A's and A;B's, once each in ascending order: a stamp per target says
  // which vertex last took it (a Set per vertex cost more than the rest of the pass)
  const takenBy = new Int32Array(scc.length).fill(-1);
  return aAdj.map((ns, v) => {
    const out: number[] = [];
    const take = (c: number): void => {
      if (at(takenBy, c) === v) return;
      takenBy[c] = v;
      out.push(c);
    };
    for (let i = 0; i < ns.length; i++) take(at(ns, i));
    for (let i = 0; i < ns.length; i++) {
      const next = at(bAdj, at(ns, i));
      for (let j = 0; j < next.length; j++) take(at(next, j));
    }
    return Int32Array.from(out).sort();
  });
}

/** The rels on edges out of the SCC's vertices: a kind absent here cannot change a projection of it. */
function relsOutOf(g: Graph, scc: readonly number[]): number {
  let rels = 0;
  for (const v of scc) for (let i = at(g.offsets, v); i < at(g.offsets, v + 1); i++) rels |= at(g.rels, i);
  return rels;
}

/** One SCC as its searches see it. */
interface SccView {
  g: Graph;
  scc: readonly number[];
  /** each SCC vertex's position in `scc`, -1 for every other vertex (see searchScc) */
  localOf: Int32Array;
  /** relsOutOf the SCC */
  present: number;
}

/** The spec without the kinds of edge the SCC lacks, which leaves its subgraph as it was. */
function withKindsPresent(spec: ExistsSpec, present: number): ExistsSpec {
  if (spec.union !== undefined) return { ...spec, union: spec.union & present };
  const [a, b] = spec.extension as [number, number];
  return { ...spec, extension: [a & present, b & present] };
}

/** The smallest component of the spec's subgraph that holds a cycle (local ids), or undefined. */
function smallestCyclicComponent(g: Graph, scc: readonly number[], localOf: Int32Array, spec: ExistsSpec, tick: () => void): number[] | undefined {
  const adj = existsAdjacency(g, scc, localOf, spec);
  const comps = tarjan(adj.length, (v) => at(adj, v), true, tick).filter((c) => c.length > 1 || at(adj, at(c, 0)).includes(at(c, 0)));
  if (comps.length === 0) return undefined;
  comps.sort((x, y) => x.length - y.length);
  return at(comps, 0);
}

function cycleExistsCases(view: SccView, tick: () => void): CycleExistsCase[] {
  const { g, scc, localOf, present } = view;
  const cases: CycleExistsCase[] = [];
  const redundant = new Set<string>();
  // Specs that differ only in kinds of edge the SCC lacks (process, realtime when the models need
  // neither) project the same subgraph: each distinct one is searched once.
  const searched = new Map<string, number[] | undefined>();
  for (const spec of existsSpecs) {
    if (redundant.has(spec.model)) continue;
    const effective = withKindsPresent(spec, present);
    const key = `${String(effective.union)}/${String(effective.extension)}`;
    if (!searched.has(key)) searched.set(key, smallestCyclicComponent(g, scc, localOf, effective, tick));
    const smallest = searched.get(key);
    if (smallest === undefined) continue;
    cases.push({
      type: `${spec.model}-cycle-exists`,
      not: friendlyModel(spec.model),
      subgraph: spec.subgraph,
      sccSize: smallest.length,
      scc: smallest.map((i) => at(scc, i)),
    });
    for (const m of modelsImplying(spec.model)) redundant.add(m);
  }
  return cases;
}

// ---- typed search --------------------------------------------------------------------------

interface TypedSpec {
  name: string;
  /** edge kinds usable freely (besides rw handling) */
  legal: number;
  /** rw handling: none, exactly one, >=2 non-adjacent, >=2 (legal) */
  rwMode: 'none' | 'single' | 'nonadjacent' | 'multiple';
  /** a kind that must appear at least once (bit), besides the variant */
  required: number;
  variant: number;
  /** classification the found loop must have, when set */
  expectType?: string;
}

function baseSpecs(): Array<Omit<TypedSpec, 'variant'>> {
  return [
    { name: 'G-single-item', legal: WW | WR, rwMode: 'single', required: 0, expectType: 'G-single-item' },
    { name: 'G0', legal: WW, rwMode: 'none', required: 0 },
    { name: 'G-nonadjacent-item', legal: WW | WR, rwMode: 'nonadjacent', required: 0, expectType: 'G-nonadjacent-item' },
    { name: 'G1c', legal: WW | WR, rwMode: 'none', required: WR },
    // G-single, G-nonadjacent and G2 need predicate edges, which these workloads never produce
    { name: 'G-single', legal: 0, rwMode: 'none', required: 0, expectType: 'never' },
    { name: 'G2-item', legal: WW | WR | RW, rwMode: 'multiple', required: 0, expectType: 'G2-item' },
    { name: 'G-nonadjacent', legal: 0, rwMode: 'none', required: 0, expectType: 'never' },
    { name: 'G2', legal: 0, rwMode: 'none', required: 0, expectType: 'never' },
  ];
}

/** Elle's search order (anomaly depth order) */
const typedOrder = [
  'G-single-item', 'G0', 'G-nonadjacent-item', 'G-single-item-process', 'G1c', 'G-nonadjacent-item-process',
  'G-single', 'G-single-item-realtime', 'G2-item', 'G-nonadjacent', 'G-nonadjacent-item-realtime', 'G2',
  'G0-process', 'G1c-process', 'G-single-process', 'G2-item-process', 'G-nonadjacent-process', 'G2-process',
  'G0-realtime', 'G1c-realtime', 'G-single-realtime', 'G2-item-realtime', 'G-nonadjacent-realtime', 'G2-realtime',
];

const typedSpecs: Map<string, TypedSpec> = (() => {
  const m = new Map<string, TypedSpec>();
  for (const base of baseSpecs()) {
    m.set(base.name, { ...base, variant: 0 });
    for (const [suffix, bit] of [['process', PROCESS], ['realtime', REALTIME]] as const) {
      m.set(`${base.name}-${suffix}`, {
        ...base,
        name: `${base.name}-${suffix}`,
        legal: base.legal === 0 ? 0 : base.legal | bit,
        variant: bit,
        expectType: base.expectType === undefined ? undefined : base.expectType === 'never' ? 'never' : `${base.expectType}-${suffix}`,
      });
    }
  }
  return m;
})();

export const cycleTypes: ReadonlySet<string> = new Set(typedOrder);

export interface SearchLimits {
  /** per-SCC typed-search limit */
  cycleSearchTimeoutMs: number;
  deadlineMs?: number;
  /** bound on live BFS paths per start vertex; beyond it the search counts as timed out */
  maxFrontier: number;
}

class SccTimeout extends Error {}

interface PathNode {
  v: number;
  parent: PathNode | undefined;
  kind: number;
  rwLeft: number;
  /** after an rw step in nonadjacent mode */
  rwTaken: boolean;
  usedRwSingle: boolean;
  wantMask: number;
  depth: number;
}

function onPath(node: PathNode, v: number): boolean {
  for (let n: PathNode | undefined = node; n !== undefined; n = n.parent) if (n.v === v) return true;
  return false;
}

function pathOf(node: PathNode, start: number): { vertices: number[]; kinds: EdgeKind[] } {
  const vertices: number[] = [];
  const kinds: EdgeKind[] = [];
  for (let n: PathNode | undefined = node; n !== undefined; n = n.parent) {
    vertices.push(n.v);
    if (n.parent !== undefined) kinds.push(kindName[n.kind] as EdgeKind);
  }
  vertices.reverse();
  kinds.reverse();
  vertices[vertices.length - 1] = start;
  return { vertices, kinds };
}

/** Step along an edge of effective kind `bit`; undefined when the spec forbids it. */
function step(spec: TypedSpec, node: PathNode, to: number, bit: number): PathNode | undefined {
  const first = node.parent === undefined;
  let { rwLeft, rwTaken, usedRwSingle, wantMask } = node;
  if (bit === RW) {
    if (spec.rwMode === 'none') return undefined;
    if (spec.rwMode === 'single') {
      if (usedRwSingle) return undefined;
      usedRwSingle = true;
      rwLeft = 0;
    } else if (spec.rwMode === 'nonadjacent') {
      if (rwTaken) return undefined;
      rwTaken = true;
      rwLeft = Math.max(0, rwLeft - 1);
    } else {
      rwLeft = Math.max(0, rwLeft - 1);
    }
  } else {
    // specs with an rw requirement start with an rw edge
    if (first && spec.rwMode !== 'none') return undefined;
    if ((spec.legal & bit) === 0) return undefined;
    rwTaken = false;
    // the first edge of a spec with wanted rels must be a wanted one
    if (first && wantMask !== 0 && (wantMask & bit) === 0) return undefined;
  }
  wantMask &= ~bit;
  return { v: to, parent: node, kind: bit, rwLeft, rwTaken, usedRwSingle, wantMask, depth: node.depth + 1 };
}

function isValid(node: PathNode): boolean {
  return node.wantMask === 0 && node.rwLeft === 0 && !node.rwTaken;
}

function initialNode(spec: TypedSpec, start: number): PathNode {
  const rwLeft = spec.rwMode === 'single' ? 1 : spec.rwMode === 'none' ? 0 : 2;
  return { v: start, parent: undefined, kind: 0, rwLeft, rwTaken: false, usedRwSingle: false, wantMask: spec.required | spec.variant, depth: 0 };
}

type Checker = () => void;

const allBits = [WW, WR, RW, PROCESS, REALTIME];

/** Elle's choice of rels to branch on: every rw, every wanted rel, then one merely legal rel. */
function candidateBits(spec: TypedSpec, node: PathNode, rels: number): number[] {
  const rwUseful = node.rwLeft > 0 || spec.rwMode === 'single' ? !node.usedRwSingle : spec.rwMode === 'nonadjacent' ? !node.rwTaken : false;
  const out: number[] = [];
  if ((rels & RW) !== 0 && (rwUseful || (spec.legal & RW) !== 0)) out.push(RW);
  if (node.rwLeft > 0 && node.parent === undefined) return out;
  const wanted = rels & node.wantMask & ~RW;
  for (const bit of allBits) if ((wanted & bit) !== 0) out.push(bit);
  if (node.wantMask !== 0 && node.parent === undefined) return out;
  const legal = rels & spec.legal & ~RW & ~node.wantMask;
  for (const bit of allBits) {
    if ((legal & bit) !== 0) {
      out.push(bit);
      break;
    }
  }
  return out;
}

/** BFS over simple paths from `start` in `edges` (local ids); the first loop back to start that satisfies the spec. */
function searchFrom(
  edges: LocalEdges,
  spec: TypedSpec,
  start: number,
  check: Checker,
  maxFrontier: number,
): PathNode | undefined {
  let frontier: PathNode[] = [initialNode(spec, start)];
  // Paths reaching the same vertex in the same search state have the same futures except for
  // the vertices they already used; keeping only the first (shortest) one makes the search
  // polynomial. It can miss a loop that only a longer path could close; Elle's exhaustive
  // version is exponential and stops at its time limit instead.
  const seen = new Set<number>();
  while (frontier.length > 0) {
    const next: PathNode[] = [];
    for (const node of frontier) {
      check();
      for (let e = at(edges.offsets, node.v); e < at(edges.offsets, node.v + 1); e++) {
        const to = at(edges.targets, e);
        const rels = at(edges.rels, e);
        if (to !== start && onPath(node, to)) continue;
        for (const bit of candidateBits(spec, node, rels)) {
          const stepped = step(spec, node, to, bit);
          if (stepped === undefined) continue;
          if (to === start) {
            if (isValid(stepped)) return stepped;
            continue;
          }
          const state = stepped.v * 64 + stepped.rwLeft * 16 + (stepped.rwTaken ? 8 : 0) + (stepped.usedRwSingle ? 4 : 0) + (stepped.wantMask === 0 ? 0 : stepped.wantMask === spec.required + spec.variant ? 1 : (stepped.wantMask & spec.variant) !== 0 ? 2 : 3);
          if (seen.has(state)) continue;
          seen.add(state);
          next.push(stepped);
          if (next.length > maxFrontier) throw new SccTimeout();
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

/**
 * A subgraph of one SCC in local ids (positions in the SCC) as compressed rows: local vertex v's
 * edges are targets[k] with rels[k] for k in offsets[v] .. offsets[v + 1] - 1, in the graph's order.
 */
interface LocalEdges {
  offsets: Int32Array;
  targets: Int32Array;
  rels: Uint8Array;
}

/** The SCC's edges whose rels, cut to `usable`, are not empty, and that `keep` keeps (local ids). */
function localEdges(view: SccView, usable: number, keep: (from: number, to: number) => boolean): LocalEdges {
  const { g, scc, localOf } = view;
  // two passes, counting then filling, so the rows are typed arrays of their exact size
  const kept = (i: number, e: number): boolean => {
    const to = at(localOf, at(g.targets, e));
    return to !== -1 && (at(g.rels, e) & usable) !== 0 && keep(i, to);
  };
  const offsets = new Int32Array(scc.length + 1);
  for (let i = 0; i < scc.length; i++) {
    let count = 0;
    for (let e = at(g.offsets, at(scc, i)); e < at(g.offsets, at(scc, i) + 1); e++) if (kept(i, e)) count++;
    offsets[i + 1] = at(offsets, i) + count;
  }
  const targets = new Int32Array(at(offsets, scc.length));
  const rels = new Uint8Array(targets.length);
  for (let i = 0; i < scc.length; i++) {
    let k = at(offsets, i);
    for (let e = at(g.offsets, at(scc, i)); e < at(g.offsets, at(scc, i) + 1); e++) {
      if (!kept(i, e)) continue;
      targets[k] = at(localOf, at(g.targets, e));
      rels[k++] = at(g.rels, e) & usable;
    }
  }
  return { offsets, targets, rels };
}

function typedSearch(view: SccView, spec: TypedSpec, order: ExplainOrder, check: Checker, limits: SearchLimits): FoundCycle | undefined {
  if (spec.expectType === 'never') return undefined;
  const { g, scc } = view;
  // edges by effective kind, limited to kinds this spec can use
  const usable = spec.legal | (spec.rwMode === 'none' ? 0 : RW) | spec.variant;
  const all = localEdges(view, usable, () => true);
  // a cycle through a vertex lies in that vertex's component of this projection
  const comps = tarjan(scc.length, (i) => all.targets.subarray(at(all.offsets, i), at(all.offsets, i + 1)), false, check);
  const starts = comps.flatMap((c) => c.map((i) => at(scc, i))).sort((a, b) => a - b);
  // by local id; -1 for a vertex in no component (on no cycle)
  const compOf = new Int32Array(scc.length).fill(-1);
  comps.forEach((c, ci) => c.forEach((i) => (compOf[i] = ci)));
  const edges = localEdges(view, usable, (from, to) => at(compOf, from) !== -1 && at(compOf, to) === at(compOf, from));
  for (const start of starts) {
    const local = at(view.localOf, start);
    const found = searchFrom(edges, spec, local, check, limits.maxFrontier);
    if (found === undefined) continue;
    const vertices = pathOf(found, local).vertices.map((i) => at(scc, i));
    const kinds = vertices.slice(0, -1).map((a, k) => kindName[effectiveBit(g.relsBetween(a, at(vertices, k + 1)), order)] as EdgeKind);
    const type = classify(kinds);
    // Elle takes the first loop and keeps it only when its classification matches
    if (spec.expectType !== undefined && spec.expectType !== type) return undefined;
    return { type, vertices, kinds };
  }
  return undefined;
}

/** Some cycle of the whole SCC (Elle's DFS fallback after a timeout): the shortest loop through its first vertex. */
function fallbackCycle(g: Graph, scc: readonly number[], order: ExplainOrder): FoundCycle {
  const inScc = new Set(scc);
  const start = minOf(scc);
  const parent = new Map<number, number>([[start, -1]]);
  const queue = [start];
  for (let qi = 0; qi < queue.length; qi++) {
    const v = at(queue, qi);
    for (let i = at(g.offsets, v); i < at(g.offsets, v + 1); i++) {
      const to = at(g.targets, i);
      if (!inScc.has(to)) continue;
      if (to === start) {
        const vertices: number[] = [];
        for (let x = v; x !== -1; x = parent.get(x) as number) vertices.push(x);
        vertices.reverse();
        vertices.push(start);
        const kinds = vertices.slice(0, -1).map((a, k) => kindName[effectiveBit(g.relsBetween(a, at(vertices, k + 1)), order)] as EdgeKind);
        return { type: classify(kinds), vertices, kinds };
      }
      if (!parent.has(to)) {
        parent.set(to, v);
        queue.push(to);
      }
    }
  }
  throw new Error('an SCC without a cycle');
}

function impossibleCycleTypes(cases: readonly CycleExistsCase[]): Set<string> {
  const impossible = new Set<string>();
  for (const c of cases) for (const m of modelsImplying(c.not)) impossible.add(m);
  const possible = existsSpecs.map((s) => s.model).filter((m) => !impossible.has(m));
  const prohibited = anomaliesProhibitedBy(possible);
  return new Set([...cycleTypes].filter((t) => prohibited.has(t)));
}

/**
 * Elle's searches inside one SCC. `localOf` is all -1 on entry and on return: for the search, it
 * holds each SCC vertex's position in `scc` (one array for every SCC of the graph, so membership
 * and local ids are an index, not a Set and a Map made per search).
 */
export function searchScc(g: Graph, scc: readonly number[], order: ExplainOrder, limits: SearchLimits, localOf: Int32Array): SccResult {
  scc.forEach((v, i) => (localOf[v] = i));
  try {
    return searchSccIndexed(g, scc, localOf, order, limits);
  } finally {
    for (const v of scc) localOf[v] = -1;
  }
}

function searchSccIndexed(g: Graph, scc: readonly number[], localOf: Int32Array, order: ExplainOrder, limits: SearchLimits): SccResult {
  const view: SccView = { g, scc, localOf, present: relsOutOf(g, scc) };
  let counter = 0;
  const deadlineCheck = (): void => {
    if (limits.deadlineMs !== undefined && (++counter & 1023) === 0 && Date.now() > limits.deadlineMs) throw new DeadlineError('deadline passed during cycle search');
  };
  const cycleExists = cycleExistsCases(view, deadlineCheck);
  const sccDeadline = Date.now() + limits.cycleSearchTimeoutMs;
  let ticks = 0;
  const check: Checker = () => {
    if ((++ticks & 1023) !== 0) return;
    const now = Date.now();
    if (limits.deadlineMs !== undefined && now > limits.deadlineMs) throw new DeadlineError('deadline passed during cycle search');
    if (now > sccDeadline) throw new SccTimeout();
  };
  const redundant = impossibleCycleTypes(cycleExists);
  const searched: string[] = [];
  const cycles: FoundCycle[] = [];
  try {
    for (const name of typedOrder) {
      if (redundant.has(name)) continue;
      searched.push(name);
      const found = typedSearch(view, typedSpecs.get(name) as TypedSpec, order, check, limits);
      if (found === undefined) continue;
      cycles.push(found);
      for (const implied of allImpliedAnomalies([name])) redundant.add(implied);
    }
  } catch (err) {
    if (!(err instanceof SccTimeout)) throw err;
    const foundTypes = new Set(cycles.map((c) => c.type));
    return {
      cycleExists,
      cycles: [fallbackCycle(g, scc, order), ...cycles],
      timeout: {
        anomalySpecType: at(searched, searched.length - 1),
        doesNotContain: searched.slice(0, -1).filter((t) => !foundTypes.has(t)),
        sccSize: scc.length,
      },
    };
  }
  return { cycleExists, cycles };
}
