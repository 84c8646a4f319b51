// Elle's list-append analysis (txn-list-append): version orders from the longest read of each
// key, wr/ww/rw edges over ok and info transactions, and the non-cycle anomalies.

import type { Json } from '../../../types.js';
import { type PairKey, type ValueKey, pairKey, valueKey } from '../json-values.js';
import { GraphBuilder, RW, WR, WW, type EdgeKind, at } from './graph.js';
import { type Anomalies, type Mop, mopsOf, ScratchTable, type StepExplainer, type Txn, addAnomaly } from './common.js';
import { CheckerThrew, g1aCases, lostUpdateCases } from './rw-register.js';

const isAppend = (f: string): boolean => f === 'append';
const INIT = '\u0000init';

function listOf(v: Json): Json[] {
  return Array.isArray(v) ? v : [];
}

function sameList(a: readonly Json[], b: readonly Json[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (valueKey(a[i]) !== valueKey(b[i])) return false;
  return true;
}

function isPrefix(a: readonly Json[], b: readonly Json[]): boolean {
  return a.length <= b.length && sameList(a, b.slice(0, a.length));
}

interface Order {
  values: Json[];
  indices: Map<ValueKey, number>;
}

/**
 * key -> distinct non-empty read values sorted by length; single appends fill in unread keys.
 * With `invoked` (each transaction's invocation micro-ops, by id), every op counts, invocations
 * included; without, only ok and info completions.
 */
function sortedValues(txns: readonly Txn[], invoked?: readonly Mop[][]): Map<ValueKey, { key: Json; values: Json[][] }> {
  const reads = new Map<ValueKey, { key: Json; values: Map<string, Json[]> }>();
  const appends = new Map<ValueKey, { key: Json; value: Json; count: number }>();
  const visit = (mops: readonly Mop[]): void => {
    for (const mop of mops) {
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      const kk = valueKey(k);
      if (f === 'append') {
        const a = appends.get(kk);
        if (a === undefined) appends.set(kk, { key: k, value: v, count: 1 });
        else a.count++;
      } else if (f === 'r' && Array.isArray(v) && v.length > 0) {
        let e = reads.get(kk);
        if (e === undefined) {
          e = { key: k, values: new Map() };
          reads.set(kk, e);
        }
        e.values.set(JSON.stringify(v), v);
      }
    }
  };
  for (const t of txns) {
    if (invoked !== undefined) {
      visit(at(invoked, t.id));
      visit(t.mops);
    } else if (t.completion.type === 'ok' || t.completion.type === 'info') {
      visit(t.mops);
    }
  }
  const out = new Map<ValueKey, { key: Json; values: Json[][] }>();
  for (const [kk, a] of appends) if (a.count === 1) out.set(kk, { key: a.key, values: [[a.value]] });
  for (const [kk, e] of reads) out.set(kk, { key: e.key, values: [...e.values.values()].sort((x, y) => x.length - y.length) });
  return out;
}

function orders(sorted: Map<ValueKey, { key: Json; values: Json[][] }>): Map<ValueKey, Order> {
  const out = new Map<ValueKey, Order>();
  for (const [kk, { values }] of sorted) {
    const seen = new Set<ValueKey>();
    const vs: Json[] = [];
    for (const v of at(values, values.length - 1)) {
      const vk = valueKey(v);
      if (!seen.has(vk)) {
        seen.add(vk);
        vs.push(v);
      }
    }
    out.set(kk, { values: vs, indices: new Map(vs.map((v, i) => [valueKey(v), i])) });
  }
  return out;
}

/** The read index's key for reads of an empty list: a string, so no pairKey of a value is equal to it. */
const initKey = (k: Json): PairKey => `${String(valueKey(k))}\u0000${INIT}`;

export interface ListAnalysis {
  graph: GraphBuilder;
  explainer: StepExplainer;
}

export function analyzeListAppend(txns: readonly Txn[], anomalies: Anomalies): ListAnalysis {
  // preconditions Elle enforces by throwing
  for (const t of txns) {
    for (const mop of t.mops) if (mop[0] !== 'r' && mop[0] !== 'append') throw new CheckerThrew('history contained operations other than appends or reads');
  }
  // each invocation's micro-ops, by transaction id: three passes read them
  const invoked = txns.map((t) => mopsOf(t.invoke));
  const appended = new Map<PairKey, true>();
  for (const t of txns) {
    for (const mop of at(invoked, t.id)) {
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      if (f !== 'append') continue;
      const id = pairKey(k, v);
      if (appended.has(id)) throw new CheckerThrew(`value ${JSON.stringify(v)} appended to key ${JSON.stringify(k)} multiple times!`);
      appended.set(id, true);
    }
  }
  // write index over completions (ok, info, fail): (k, v) -> txn
  const writer = new Map<PairKey, Txn>();
  for (const t of txns) for (const mop of t.mops) if (mop[0] === 'append') writer.set(pairKey(mop[1], mop[2]), t);

  nonCycle(txns, anomalies, writer, invoked);

  const possible = txns.filter((t) => t.completion.type === 'ok' || t.completion.type === 'info');
  const sorted = sortedValues(txns);
  for (const [, { key, values }] of sorted) {
    for (let i = 0; i + 1 < values.length; i++) {
      if (!isPrefix(at(values, i), at(values, i + 1))) {
        addAnomaly(anomalies, 'incompatible-order', { key, values: [at(values, i), at(values, i + 1)] });
        break;
      }
    }
  }
  const order = orders(sorted);
  const possibleWriter = new Map<PairKey, Txn>();
  for (const t of possible) for (const mop of t.mops) if (mop[0] === 'append') possibleWriter.set(pairKey(mop[1], mop[2]), t);
  // read index: (k, last element or INIT) -> readers
  const readIndex = new Map<PairKey, Txn[]>();
  for (const t of possible) {
    for (const mop of t.mops) {
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      if (f !== 'r') continue;
      if (t.completion.type === 'info' && v === null) continue;
      const l = listOf(v);
      const id = l.length === 0 ? initKey(k) : pairKey(k, at(l, l.length - 1));
      const list = readIndex.get(id);
      if (list === undefined) readIndex.set(id, [t]);
      else list.push(t);
    }
  }
  const previous = (k: Json, v: Json): { init: true } | { init: false; value: Json } => {
    const o = order.get(valueKey(k));
    if (o === undefined) return { init: true };
    const i = o.indices.get(valueKey(v));
    if (i === undefined) return o.values.length === 0 ? { init: true } : { init: false, value: at(o.values, o.values.length - 1) };
    return i > 0 ? { init: false, value: at(o.values, i - 1) } : { init: true };
  };
  const graph = new GraphBuilder(txns.length);
  for (const t of possible) {
    for (const mop of t.mops) {
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      if (f === 'r') {
        const l = listOf(v);
        if (l.length === 0) continue;
        const w = possibleWriter.get(pairKey(k, at(l, l.length - 1)));
        if (w !== undefined && w !== t) graph.link(w.id, t.id, WR);
        continue;
      }
      const prev = previous(k, v);
      if (!prev.init) {
        const w = possibleWriter.get(pairKey(k, prev.value));
        if (w !== undefined && w !== t) graph.link(w.id, t.id, WW);
      }
      const readers = readIndex.get(prev.init ? initKey(k) : pairKey(k, prev.value)) ?? [];
      // an index loop: most edges are made here, mostly before the engine optimises it, and an
      // unoptimised for-of allocates per element
      for (let i = 0; i < readers.length; i++) if (at(readers, i) !== t) graph.link(at(readers, i).id, t.id, RW);
    }
  }
  return { graph, explainer: listExplainer(previous, possibleWriter) };
}

function nonCycle(txns: readonly Txn[], anomalies: Anomalies, writer: Map<PairKey, Txn>, invoked: readonly Mop[][]): void {
  const failed = g1aCases(txns, anomalies, isAppend);
  // intermediate appends over every op (invocations included): (k, v) -> op index
  const intermediate = new Map<PairKey, Txn['completion']>();
  const last = new ScratchTable<ValueKey, Json>();
  const recordIntermediate = (op: Txn['completion'], mops: readonly Mop[]): void => {
    last.reset();
    for (const mop of mops) {
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      if (f !== 'append') continue;
      const kk = valueKey(k);
      if (last.has(kk)) intermediate.set(pairKey(k, last.get(kk) as Json), op);
      last.set(kk, v);
    }
  };
  for (const t of txns) {
    recordIntermediate(t.invoke, at(invoked, t.id));
    recordIntermediate(t.completion, t.mops);
  }
  const internalState: InternalState = new ScratchTable();
  for (const t of txns) {
    if (t.completion.type !== 'ok') continue;
    const op = t.completion as unknown as Json;
    for (const mop of t.mops) {
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      if (f !== 'r') continue;
      const l = listOf(v);
      for (const e of l) {
        const w = failed.get(pairKey(k, e));
        if (w !== undefined) addAnomaly(anomalies, 'G1a', { op, mop, writer: w.completion as unknown as Json, element: e });
      }
      if (l.length > 0) {
        const w = intermediate.get(pairKey(k, at(l, l.length - 1)));
        if (w !== undefined && w.index !== t.completion.index) addAnomaly(anomalies, 'G1b', { op, mop, writer: w as unknown as Json, element: at(l, l.length - 1) });
      }
    }
    internalCase(t, anomalies, internalState);
    futureReadCase(t, anomalies);
  }
  // dirty update: along each key's order (from every client op), a failed append followed by an ok one
  const sortedAll = sortedValues(txns, invoked);
  for (const [, { key, values }] of sortedAll) {
    let prevType = 'ok';
    let prevTxn: Txn | undefined;
    let vs: Json[] = [];
    const seen = new Set<ValueKey>();
    for (const v of at(values, values.length - 1)) {
      if (seen.has(valueKey(v))) continue;
      seen.add(valueKey(v));
      const t2 = writer.get(pairKey(key, v));
      if (t2 === undefined) throw new CheckerThrew(`No transaction wrote ${JSON.stringify(key)} ${JSON.stringify(v)}`);
      const type2 = t2.completion.type;
      if (prevType === 'fail' && type2 === 'ok') {
        addAnomaly(anomalies, 'dirty-update', { key, values: [...vs, v], txns: [prevTxn?.completion as unknown as Json, '...', t2.completion as unknown as Json] });
      }
      if (type2 === 'info' || (prevType === 'fail' && type2 === 'fail')) {
        vs = [...vs, v];
      } else {
        prevType = type2;
        prevTxn = t2;
        vs = [v];
      }
    }
  }
  // duplicates (ok and info reads)
  for (const t of txns) {
    if (t.completion.type !== 'ok' && t.completion.type !== 'info') continue;
    for (const mop of t.mops) {
      if (mop[0] !== 'r') continue;
      const counts = new Map<ValueKey, { v: Json; n: number }>();
      for (const e of listOf(mop[2])) {
        const c = counts.get(valueKey(e));
        if (c === undefined) counts.set(valueKey(e), { v: e, n: 1 });
        else c.n++;
      }
      const dups: { [key: string]: Json } = {};
      let any = false;
      for (const { v, n } of counts.values()) {
        if (n > 1) {
          dups[JSON.stringify(v)] = n;
          any = true;
        }
      }
      if (any) addAnomaly(anomalies, 'duplicate-elements', { op: t.completion as unknown as Json, mop, duplicates: dups });
    }
  }
  lostUpdateCases(
    txns.filter((t) => t.completion.type === 'ok' || t.completion.type === 'info'),
    isAppend,
    anomalies,
  );
}

/** Expected state per key: a full list, or (unknownPrefix) a known suffix. */
type InternalState = ScratchTable<ValueKey, { unknownPrefix: boolean; elems: Json[] }>;

/** a read that disagrees with the transaction's own earlier reads and appends; `state` is scratch */
function internalCase(t: Txn, anomalies: Anomalies, state: InternalState): void {
  state.reset();
  for (const mop of t.mops) {
    const f = mop[0];
    const k = mop[1];
    const v = mop[2];
    const kk = valueKey(k);
    const s = state.get(kk);
    if (f === 'append') {
      state.set(kk, s === undefined ? { unknownPrefix: true, elems: [v] } : { unknownPrefix: s.unknownPrefix, elems: [...s.elems, v] });
      continue;
    }
    const l = listOf(v);
    if (s !== undefined) {
      let bad: boolean;
      if (s.unknownPrefix) {
        const i = l.length - s.elems.length;
        bad = i >= 0 && !sameList(s.elems, l.slice(i));
        if (i < 0) bad = false;
      } else {
        bad = !sameList(s.elems, l);
      }
      if (bad) {
        const expected: Json = s.unknownPrefix ? ['...', ...s.elems] : s.elems;
        addAnomaly(anomalies, 'internal', { op: t.completion as unknown as Json, mop, expected });
        return;
      }
    }
    state.set(kk, { unknownPrefix: false, elems: l });
  }
}

function futureReadCase(t: Txn, anomalies: Anomalies): void {
  const reads = new Map<PairKey, Mop>();
  for (const mop of t.mops) {
    const f = mop[0];
    const k = mop[1];
    const v = mop[2];
    if (f === 'append') {
      const r = reads.get(pairKey(k, v));
      if (r !== undefined) {
        addAnomaly(anomalies, 'future-read', { op: t.completion as unknown as Json, mop: r, element: v });
        return;
      }
      continue;
    }
    for (const e of listOf(v)) if (!reads.has(pairKey(k, e))) reads.set(pairKey(k, e), mop);
  }
}

function listExplainer(
  previous: (k: Json, v: Json) => { init: true } | { init: false; value: Json },
  writerOf: Map<PairKey, Txn>,
): StepExplainer {
  return {
    step(a: Txn, b: Txn, kind: EdgeKind): { [key: string]: Json } {
      if (kind === 'realtime') return { type: 'realtime', "a'": a.completion as unknown as Json, b: b.invoke as unknown as Json };
      if (kind === 'process') return { type: 'process', process: b.completion.process };
      const idxOf = (t: Txn, pred: (m: Mop) => boolean): Json => {
        const i = t.mops.findIndex(pred);
        return i < 0 ? null : i;
      };
      for (let bi = 0; bi < b.mops.length; bi++) {
        const mop = at(b.mops, bi);
        const f = mop[0];
        const k = mop[1];
        const v = mop[2];
        if (kind === 'wr' && f === 'r') {
          const l = listOf(v);
          if (l.length === 0) continue;
          const last = at(l, l.length - 1);
          if (writerOf.get(pairKey(k, last)) === a) {
            return { type: 'wr', key: k, value: last, 'a-mop-index': idxOf(a, (m) => m[0] === 'append' && valueKey(m[1]) === valueKey(k) && valueKey(m[2]) === valueKey(last)), 'b-mop-index': bi };
          }
        }
        if (f !== 'append' || kind === 'wr') continue;
        const prev = previous(k, v);
        if (kind === 'ww' && !prev.init && writerOf.get(pairKey(k, prev.value)) === a) {
          return { type: 'ww', key: k, value: prev.value, "value'": v, 'a-mop-index': idxOf(a, (m) => m[0] === 'append' && valueKey(m[1]) === valueKey(k) && valueKey(m[2]) === valueKey(prev.value)), 'b-mop-index': bi };
        }
        if (kind === 'rw') {
          const ai = a.mops.findIndex(([af, ak, av]) => {
            if (af !== 'r' || valueKey(ak) !== valueKey(k)) return false;
            const l = listOf(av);
            return prev.init ? l.length === 0 : l.length > 0 && valueKey(l[l.length - 1]) === valueKey(prev.value);
          });
          if (ai >= 0) return { type: 'rw', key: k, value: prev.init ? null : prev.value, "value'": v, 'a-mop-index': ai, 'b-mop-index': bi };
        }
      }
      return { type: kind };
    },
  };
}
