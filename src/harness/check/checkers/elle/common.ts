// What both transaction checkers share: pairing invocations with completions, realtime and
// process edges, the SCC-by-SCC cycle search, and Elle's result-map.

import type { Json, Op } from '../../../types.js';
import { completedCalls } from '../../explain.js';
import { DeadlineError, type EdgeKind, type Graph, GraphBuilder, PROCESS, REALTIME, tarjan } from './graph.js';
import { anomaliesProhibitedBy, friendlyBoundary, impossibleModels } from './models.js';
import { type ExplainOrder, type FoundCycle, existsModelTypes, searchScc } from './search.js';
import { minOf } from '../../../util/extent.js';

/**
 * A micro-op [f, key, value]. The checkers' loops read one by index (mop[0]) rather than
 * destructuring it, and their hottest loops walk transactions and micro-ops by index rather than
 * by for-of: they run once per history, mostly before the engine optimises them, and unoptimised
 * destructuring or for-of walks an iterator, an allocation per element.
 */
export type Mop = [string, Json, Json];

/** Keys a ScratchTable scans before it moves them into a Map. */
const SCRATCH_SCAN_MAX = 16;

/**
 * What a loop over one transaction's micro-ops remembers per key, one table reused for every
 * transaction (reset between them): a Map made per transaction was the checkers' commonest
 * garbage. A few keys are found by a scan; past SCRATCH_SCAN_MAX they move into a Map, so a
 * transaction of many keys stays linear. Keys compare as a Map's do (SameValueZero).
 */
export class ScratchTable<K, V> {
  private readonly keys: K[] = [];
  private readonly values: V[] = [];
  private size = 0;
  private map: Map<K, V> | undefined;

  reset(): void {
    this.size = 0;
    this.map = undefined;
  }

  get(key: K): V | undefined {
    if (this.map !== undefined) return this.map.get(key);
    const i = this.find(key);
    return i === -1 ? undefined : this.values[i];
  }

  has(key: K): boolean {
    return this.map !== undefined ? this.map.has(key) : this.find(key) !== -1;
  }

  set(key: K, value: V): void {
    if (this.map !== undefined) {
      this.map.set(key, value);
      return;
    }
    const i = this.find(key);
    if (i !== -1) this.values[i] = value;
    else if (this.size < SCRATCH_SCAN_MAX) {
      this.keys[this.size] = key;
      this.values[this.size++] = value;
    } else {
      this.map = new Map();
      for (let k = 0; k < this.size; k++) this.map.set(this.keys[k] as K, this.values[k] as V);
      this.map.set(key, value);
    }
  }

  delete(key: K): void {
    if (this.map !== undefined) {
      this.map.delete(key);
      return;
    }
    const i = this.find(key);
    if (i === -1) return;
    // nothing iterates a scratch table, so the last entry may take the deleted one's place
    this.size--;
    this.keys[i] = this.keys[this.size] as K;
    this.values[i] = this.values[this.size] as V;
  }

  private find(key: K): number {
    for (let i = 0; i < this.size; i++) {
      const k = this.keys[i];
      if (k === key || (k !== k && key !== key)) return i;
    }
    return -1;
  }
}

/** One client transaction: its invocation and completion (a vertex of the graph). */
export interface Txn {
  id: number;
  invoke: Op;
  completion: Op;
  mops: Mop[];
}

export function isMop(x: Json | undefined): x is Mop {
  return Array.isArray(x) && x.length === 3 && typeof x[0] === 'string';
}

export function mopsOf(op: Op): Mop[] {
  return Array.isArray(op.value) ? op.value.filter(isMop) : [];
}

/** Client transactions in completion order (completions without an invocation are ignored). */
export function pairTxns(history: readonly Op[]): Txn[] {
  return completedCalls(history).map(({ invoke, completion }, id) => ({ id, invoke, completion, mops: mopsOf(completion) }));
}

/** Elle's realtime edges, transitively reduced; info and fail ops never precede anything. */
export function addRealtimeEdges(history: readonly Op[], txns: readonly Txn[], g: GraphBuilder): void {
  // ops are identified by their history index (unique in a history)
  const invokeOf = new Map<number, Txn>();
  const completionOf = new Map<number, Txn>();
  for (const t of txns) {
    invokeOf.set(t.invoke.index, t);
    completionOf.set(t.completion.index, t);
  }
  let buffer: number[] = [];
  // the buffer as it stood at each pending transaction's invocation (bounded by concurrency)
  const predecessors = new Map<number, number[]>();
  for (const op of history) {
    if (typeof op.process !== 'number') continue;
    if (op.type === 'invoke') {
      const t = invokeOf.get(op.index);
      if (t === undefined) continue;
      for (const b of buffer) g.link(b, t.id, REALTIME);
      predecessors.set(t.id, buffer);
      continue;
    }
    const t = completionOf.get(op.index);
    if (t === undefined) continue;
    const preds = predecessors.get(t.id) ?? [];
    predecessors.delete(t.id);
    if (op.type !== 'ok') continue;
    // a new array each time: snapshots held in `predecessors` stay as they were
    buffer = buffer.filter((b) => !preds.includes(b));
    buffer.push(t.id);
  }
}

export function addProcessEdges(txns: readonly Txn[], g: GraphBuilder): void {
  const last = new Map<number, Txn>();
  for (const t of txns) {
    if (t.completion.type !== 'ok') continue;
    const p = t.completion.process as number;
    const prev = last.get(p);
    if (prev !== undefined) g.link(prev.id, t.id, PROCESS);
    last.set(p, t);
  }
}

export interface CycleOptions {
  consistencyModels: string[];
  cycleSearchTimeoutMs: number;
  deadlineMs?: number;
}

export type Anomalies = Map<string, Json[]>;

export function addAnomaly(anomalies: Anomalies, type: string, entry: Json): void {
  const list = anomalies.get(type);
  if (list === undefined) anomalies.set(type, [entry]);
  else list.push(entry);
}

export interface StepExplainer {
  /** Elle's step map for a pair and the kind of edge its explainer names */
  step(a: Txn, b: Txn, kind: EdgeKind): { [key: string]: Json };
}

export interface CycleRecord {
  type: string;
  txns: Txn[];
  steps: Array<{ [key: string]: Json }>;
}

/** Which relationships beyond data edges the models need (Elle's additional-graphs). */
export function extraEdges(models: readonly string[]): 'realtime' | 'process' | 'none' {
  const reportable = anomaliesProhibitedBy(models);
  for (const a of reportable) if (a.endsWith('-realtime')) return 'realtime';
  for (const a of reportable) if (a.endsWith('-process')) return 'process';
  return 'none';
}

/** Runs Elle's cycle search over every SCC of the graph and adds the anomalies it finds. */
export function findCycles(
  g: Graph,
  txns: readonly Txn[],
  order: ExplainOrder,
  explainer: StepExplainer,
  options: CycleOptions,
  anomalies: Anomalies,
  cycleRecords: CycleRecord[],
): void {
  if (g.edgeCount === 0) anomalies.set('empty-transaction-graph', [true]);
  const sccs = tarjan(g.vertexCount, (v) => g.targets.subarray(g.offsets[v], g.offsets[v + 1]), false, () => {
    if (options.deadlineMs !== undefined && Date.now() > options.deadlineMs) throw new DeadlineError('deadline passed while finding SCCs');
  });
  const firstOf = new Map(sccs.map((scc) => [scc, minOf(scc)]));
  sccs.sort((a, b) => (firstOf.get(a) as number) - (firstOf.get(b) as number));
  const localOf = new Int32Array(g.vertexCount).fill(-1);
  for (const scc of sccs) {
    const r = searchScc(g, scc, order, { cycleSearchTimeoutMs: options.cycleSearchTimeoutMs, deadlineMs: options.deadlineMs, maxFrontier: 200_000 }, localOf);
    if (r.timeout !== undefined) {
      addAnomaly(anomalies, 'cycle-search-timeout', {
        type: 'cycle-search-timeout',
        'anomaly-spec-type': r.timeout.anomalySpecType,
        'does-not-contain': r.timeout.doesNotContain,
        'scc-size': r.timeout.sccSize,
      });
    }
    for (const c of r.cycleExists) {
      addAnomaly(anomalies, c.type, {
        type: c.type,
        not: c.not,
        subgraph: c.subgraph as Json,
        'scc-size': c.sccSize,
        scc: c.scc.map((v) => (txns[v] as Txn).completion.index).sort((a, b) => a - b),
      });
    }
    for (const c of r.cycles) {
      const record = cycleRecord(c, txns, explainer);
      cycleRecords.push(record);
      addAnomaly(anomalies, c.type, {
        cycle: record.txns.map((t) => t.completion as unknown as Json),
        steps: record.steps,
        type: c.type,
      });
    }
  }
}

function cycleRecord(c: FoundCycle, txns: readonly Txn[], explainer: StepExplainer): CycleRecord {
  const cycleTxns = c.vertices.map((v) => txns[v] as Txn);
  const steps = c.kinds.map((kind, i) => explainer.step(cycleTxns[i] as Txn, cycleTxns[i + 1] as Txn, kind));
  return { type: c.type, txns: cycleTxns, steps };
}

/** Elle's result-map: reportable anomalies, validity, and the ruled-out models. */
export function resultMap(models: readonly string[], anomalies: Anomalies): { [key: string]: Json } {
  const prohibited = anomaliesProhibitedBy(models);
  const reportableTypes = new Set([...prohibited, 'empty-transaction-graph', 'cycle-search-timeout']);
  const otherTypes = [...anomalies.keys()].filter((t) => !t.endsWith('-cycle-exists'));
  const ruledOut = impossibleModels(otherTypes);
  const reportable = [...anomalies.keys()]
    .filter((t) => reportableTypes.has(t))
    .filter((t) => {
      const model = existsModelTypes.get(t);
      return model === undefined || !ruledOut.has(model);
    })
    .sort();
  if (reportable.length === 0) return { 'valid?': true };
  const bad = reportable.some((t) => prohibited.has(t));
  const boundary = friendlyBoundary(anomalies.keys());
  const out: { [key: string]: Json } = {};
  for (const t of reportable) out[t] = t === 'empty-transaction-graph' ? true : (anomalies.get(t) as Json[]);
  return {
    'valid?': bad ? false : 'unknown',
    'anomaly-types': reportable,
    anomalies: out,
    not: boundary.not,
    'also-not': boundary.alsoNot,
  };
}
