// Elle's rw-register analysis (txn-rw-register): version inference from the initial state and
// writes-follow-reads, wr/ww/rw edges between ok transactions, and the non-cycle anomalies.

import type { Json } from '../../../types.js';
import { type PairKey, type ValueKey, pairKey, pairKeyOf, valueKey } from '../json-values.js';
import { type Graph, GraphBuilder, RW, tarjan, WR, WW, at } from './graph.js';
import { type Anomalies, type Txn, addAnomaly, type Mop, ScratchTable, type StepExplainer } from './common.js';
import type { EdgeKind } from './graph.js';

export class CheckerThrew extends Error {}

/** per key: the versions and who ext-wrote / ext-read each (ok transactions only) */
interface KeyIndex {
  writers: Map<ValueKey, number[]>;
  readers: Map<ValueKey, number[]>;
  /** version edges v1 -> v2 */
  versions: Map<ValueKey, Set<ValueKey>>;
  values: Map<ValueKey, Json>;
}

export interface RwAnalysis {
  graph: GraphBuilder;
  explainer: StepExplainer;
  keys: Map<ValueKey, KeyIndex>;
}

const isWrite = (f: string): boolean => f === 'w';

/**
 * A transaction's external micro-ops in Elle's sense, by key: its external write to a key is the
 * last write to it; its external read, the key's first micro-op when that is a read. Keys come in
 * the order of their first write (writes) or first micro-op (reads). One instance is reloaded for
 * each transaction: analyzeRwRegister reads them all, and a Map or two per transaction was a
 * large part of the checker's garbage.
 */
class ExternalMops {
  mops: readonly Mop[] = [];
  writeCount = 0;
  readonly writeKeys: ValueKey[] = [];
  /** index in `mops` of the external write to writeKeys[i] */
  readonly writeIndexes: number[] = [];
  readCount = 0;
  readonly readKeys: ValueKey[] = [];
  /** index in `mops` of the external read of readKeys[i] */
  readonly readIndexes: number[] = [];
  private readonly writeAt = new ScratchTable<ValueKey, number>();
  private readonly readAt = new ScratchTable<ValueKey, number>();
  private readonly touched = new ScratchTable<ValueKey, true>();

  load(mops: readonly Mop[]): this {
    this.mops = mops;
    this.writeCount = this.readCount = 0;
    this.writeAt.reset();
    this.readAt.reset();
    this.touched.reset();
    for (let i = 0; i < mops.length; i++) {
      const mop = mops[i] as Mop;
      const kk = valueKey(mop[1]);
      if (!this.touched.has(kk)) {
        this.touched.set(kk, true);
        if (mop[0] === 'r') {
          this.readAt.set(kk, this.readCount);
          this.readKeys[this.readCount] = kk;
          this.readIndexes[this.readCount++] = i;
        }
      }
      if (!isWrite(mop[0])) continue;
      const slot = this.writeAt.get(kk);
      if (slot !== undefined) this.writeIndexes[slot] = i;
      else {
        this.writeAt.set(kk, this.writeCount);
        this.writeKeys[this.writeCount] = kk;
        this.writeIndexes[this.writeCount++] = i;
      }
    }
    return this;
  }

  /** the index in `mops` of the external write to a key, or -1 */
  writeOf(kk: ValueKey): number {
    const slot = this.writeAt.get(kk);
    return slot === undefined ? -1 : at(this.writeIndexes, slot);
  }

  /** the index in `mops` of the external read of a key, or -1 */
  readOf(kk: ValueKey): number {
    const slot = this.readAt.get(kk);
    return slot === undefined ? -1 : at(this.readIndexes, slot);
  }
}

function keyIndex(keys: Map<ValueKey, KeyIndex>, k: ValueKey): KeyIndex {
  let idx = keys.get(k);
  if (idx === undefined) {
    idx = { writers: new Map(), readers: new Map(), versions: new Map(), values: new Map() };
    keys.set(k, idx);
  }
  return idx;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [v]);
  else l.push(v);
}

function addVersion(versions: Map<ValueKey, Set<ValueKey>>, a: ValueKey, b: ValueKey): void {
  let s = versions.get(a);
  if (s === undefined) {
    s = new Set();
    versions.set(a, s);
  }
  s.add(b);
}

// ---- non-cycle anomalies --------------------------------------------------------------------
// (index loops over transactions and micro-ops: see Mop in common.ts)

export function internalCases(txns: readonly Txn[], anomalies: Anomalies): void {
  const expected = new ScratchTable<ValueKey, Json>();
  for (let n = 0; n < txns.length; n++) {
    const t = txns[n] as Txn;
    if (t.completion.type !== 'ok') continue;
    expected.reset();
    for (let m = 0; m < t.mops.length; m++) {
      const mop = t.mops[m] as Mop;
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      const kk = valueKey(k);
      if (isWrite(f)) {
        expected.set(kk, v);
        continue;
      }
      if (f !== 'r') continue;
      const e = expected.get(kk);
      if (e !== undefined && e !== null && valueKey(e) !== valueKey(v)) {
        addAnomaly(anomalies, 'internal', { op: t.completion as unknown as Json, mop, expected: e });
        break;
      }
      expected.set(kk, v);
    }
  }
}

export function g1aCases(txns: readonly Txn[], anomalies: Anomalies, write: (f: string) => boolean): Map<PairKey, Txn> {
  const failed = new Map<PairKey, Txn>();
  for (let n = 0; n < txns.length; n++) {
    const t = txns[n] as Txn;
    if (t.completion.type !== 'fail') continue;
    for (let m = 0; m < t.mops.length; m++) {
      const mop = t.mops[m] as Mop;
      if (write(mop[0])) failed.set(pairKey(mop[1], mop[2]), t);
    }
  }
  return failed;
}

export function lostUpdateCases(txns: readonly Txn[], write: (f: string) => boolean, anomalies: Anomalies): void {
  const groups = new Map<PairKey, { key: Json; value: Json; txns: Json[] }>();
  const reads = new ScratchTable<ValueKey, Json>();
  const writes = new ScratchTable<ValueKey, true>();
  for (let n = 0; n < txns.length; n++) {
    const t = txns[n] as Txn;
    if (t.completion.type !== 'ok') continue;
    reads.reset();
    writes.reset();
    for (let m = 0; m < t.mops.length; m++) {
      const mop = t.mops[m] as Mop;
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      const kk = valueKey(k);
      if (write(f) && !writes.has(kk)) {
        if (!reads.has(kk)) continue;
        writes.set(kk, true);
        const readValue = reads.get(kk) as Json;
        const id = pairKeyOf(kk, valueKey(readValue));
        const g = groups.get(id) ?? { key: k, value: readValue, txns: [] };
        g.txns.push(t.completion as unknown as Json);
        groups.set(id, g);
      } else if (!write(f) && !reads.has(kk)) {
        reads.set(kk, v);
      }
    }
  }
  for (const g of groups.values()) if (g.txns.length >= 2) addAnomaly(anomalies, 'lost-update', g);
}

function rwNonCycle(txns: readonly Txn[], anomalies: Anomalies): void {
  internalCases(txns, anomalies);
  const failed = g1aCases(txns, anomalies, isWrite);
  // intermediate writes over every op, invocations included: (k, v) -> the op that wrote it
  const intermediate = new Map<PairKey, Txn['completion']>();
  const last = new ScratchTable<ValueKey, Json>();
  // an op's value as it is (an invocation's is not filtered into micro-ops): what is not a
  // write micro-op is passed over here, which saves a filtered copy per invocation
  const recordIntermediate = (op: Txn['completion'], items: readonly Json[]): void => {
    last.reset();
    for (let i = 0; i < items.length; i++) {
      const mop = items[i];
      if (!Array.isArray(mop) || mop.length !== 3 || !isWrite(mop[0] as string)) continue;
      const kk = valueKey(mop[1]);
      if (last.has(kk)) intermediate.set(pairKeyOf(kk, valueKey(last.get(kk) as Json)), op);
      last.set(kk, mop[2] as Json);
    }
  };
  for (let n = 0; n < txns.length; n++) {
    const t = txns[n] as Txn;
    recordIntermediate(t.invoke, Array.isArray(t.invoke.value) ? t.invoke.value : []);
    recordIntermediate(t.completion, t.mops);
  }
  for (let n = 0; n < txns.length; n++) {
    const t = txns[n] as Txn;
    if (t.completion.type !== 'ok') continue;
    for (let m = 0; m < t.mops.length; m++) {
      const mop = t.mops[m] as Mop;
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      if (f !== 'r') continue;
      const w = failed.get(pairKey(k, v));
      if (w !== undefined && v !== null) addAnomaly(anomalies, 'G1a', { op: t.completion as unknown as Json, mop, writer: w.completion as unknown as Json });
    }
  }
  for (let n = 0; n < txns.length; n++) {
    const t = txns[n] as Txn;
    if (t.completion.type !== 'ok') continue;
    for (let m = 0; m < t.mops.length; m++) {
      const mop = t.mops[m] as Mop;
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      if (f !== 'r' || v === null) continue;
      const w = intermediate.get(pairKey(k, v));
      if (w !== undefined && w.index !== t.completion.index) addAnomaly(anomalies, 'G1b', { op: t.completion as unknown as Json, mop, writer: w as unknown as Json });
    }
  }
  lostUpdateCases(txns, isWrite, anomalies);
}

// ---- version inference and edges ------------------------------------------------------------

export function analyzeRwRegister(txns: readonly Txn[], anomalies: Anomalies): RwAnalysis {
  rwNonCycle(txns, anomalies);
  const keys = new Map<ValueKey, KeyIndex>();
  const finalWriters = new Map<PairKey, number>();
  const wfr = new Map<ValueKey, Map<ValueKey, Set<ValueKey>>>();
  const ext = new ExternalMops();
  for (let n = 0; n < txns.length; n++) {
    const t = txns[n] as Txn;
    const type = t.completion.type;
    if (type !== 'ok' && type !== 'info') continue;
    ext.load(t.mops);
    for (let i = 0; i < ext.writeCount; i++) {
      const kk = at(ext.writeKeys, i);
      const w = at(t.mops, at(ext.writeIndexes, i));
      if (w[2] === null) continue;
      const idx = keyIndex(keys, kk);
      const vk = valueKey(w[2]);
      idx.values.set(vk, w[2]);
      addVersion(idx.versions, null, vk);
      if (type === 'ok') {
        const id = pairKeyOf(kk, vk);
        if (finalWriters.has(id)) throw new CheckerThrew(`key ${JSON.stringify(w[1])} value ${JSON.stringify(w[2])} was written by more than one ok transaction`);
        finalWriters.set(id, t.id);
        push(idx.writers, vk, t.id);
      }
    }
    if (type !== 'ok') continue;
    for (let i = 0; i < ext.readCount; i++) {
      const kk = at(ext.readKeys, i);
      const r = at(t.mops, at(ext.readIndexes, i));
      const idx = keyIndex(keys, kk);
      const vk = valueKey(r[2]);
      push(idx.readers, vk, t.id);
      if (r[2] === null) continue;
      idx.values.set(vk, r[2]);
      addVersion(idx.versions, null, vk);
      const wi = ext.writeOf(kk);
      const written = wi === -1 ? null : at(t.mops, wi)[2];
      if (written !== null) {
        let m = wfr.get(kk);
        if (m === undefined) {
          m = new Map();
          wfr.set(kk, m);
        }
        addVersion(m, vk, valueKey(written));
      }
    }
  }
  // merge writes-follow-reads; any cyclic key throws it away for every key
  let cyclic = false;
  for (const [kk, m] of wfr) {
    const idx = keys.get(kk) as KeyIndex;
    const merged = new Map<ValueKey, Set<ValueKey>>();
    for (const [a, bs] of idx.versions) merged.set(a, new Set(bs));
    for (const [a, bs] of m) for (const b of bs) addVersion(merged, a, b);
    const vertices = new Set<ValueKey>();
    for (const [a, bs] of merged) {
      vertices.add(a);
      for (const b of bs) vertices.add(b);
    }
    const list = [...vertices];
    const local = new Map(list.map((v, i) => [v, i]));
    const comps = tarjan(list.length, (i) => [...(merged.get(at(list, i)) ?? [])].map((b) => local.get(b) as number), false);
    for (const c of comps) {
      cyclic = true;
      const values = c.map((i) => idx.values.get(at(list, i)) ?? null).sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
      addAnomaly(anomalies, 'cyclic-versions', { key: keyJson(kk), scc: values, sources: ['initial-state', 'wfr-keys'] });
    }
  }
  if (!cyclic) {
    for (const [kk, m] of wfr) {
      const idx = keys.get(kk) as KeyIndex;
      for (const [a, bs] of m) for (const b of bs) addVersion(idx.versions, a, b);
    }
  }
  const graph = new GraphBuilder(txns.length);
  // forEach and index loops, not for-of: these loops make every edge, mostly before the engine
  // optimises them, and unoptimised for-of allocates an iterator result per element
  keys.forEach((idx) => {
    idx.readers.forEach((readers, vk) => {
      const ws = idx.writers.get(vk);
      if (ws !== undefined && ws.length === 1) linkAll(graph, ws, readers, WR);
    });
    idx.versions.forEach((nexts, v1) => {
      nexts.forEach((v2) => {
        const w2 = idx.writers.get(v2);
        if (w2 === undefined) return;
        linkAll(graph, idx.writers.get(v1) ?? [], w2, WW);
        linkAll(graph, idx.readers.get(v1) ?? [], w2, RW);
      });
    });
  });
  return { graph, keys, explainer: rwExplainer(keys) };
}

/** An edge from each of `froms` to each of `tos`. */
function linkAll(graph: GraphBuilder, froms: readonly number[], tos: readonly number[], rel: number): void {
  for (let i = 0; i < froms.length; i++) for (let j = 0; j < tos.length; j++) graph.link(at(froms, i), at(tos, j), rel);
}

/** keys are stored by valueKey; turn one back into the JSON key it came from */
function keyJson(kk: ValueKey): Json {
  if (typeof kk === 'string' && kk.startsWith('"')) return kk.slice(1);
  if (typeof kk === 'string') return JSON.parse(kk) as Json;
  return kk;
}

function rwExplainer(keys: Map<ValueKey, KeyIndex>): StepExplainer {
  return {
    step(a: Txn, b: Txn, kind: EdgeKind): { [key: string]: Json } {
      if (kind === 'realtime') return { type: 'realtime', "a'": a.completion as unknown as Json, b: b.invoke as unknown as Json };
      if (kind === 'process') return { type: 'process', process: b.completion.process };
      const aExt = new ExternalMops().load(a.mops);
      const bExt = new ExternalMops().load(b.mops);
      if (kind === 'wr') {
        for (let i = 0; i < bExt.readCount; i++) {
          const ri = at(bExt.readIndexes, i);
          const r = at(b.mops, ri);
          const wi = aExt.writeOf(at(bExt.readKeys, i));
          if (wi !== -1 && valueKey(at(a.mops, wi)[2]) === valueKey(r[2])) return { type: 'wr', key: r[1], value: r[2], 'a-mop-index': wi, 'b-mop-index': ri };
        }
      }
      for (let i = 0; i < bExt.writeCount; i++) {
        const kk = at(bExt.writeKeys, i);
        const idx = keys.get(kk);
        if (idx === undefined) continue;
        const fi = kind === 'ww' ? aExt.writeOf(kk) : aExt.readOf(kk);
        if (fi === -1) continue;
        const first = at(a.mops, fi);
        const w2i = at(bExt.writeIndexes, i);
        const w2 = at(b.mops, w2i);
        if (idx.versions.get(valueKey(first[2]))?.has(valueKey(w2[2])) === true) {
          return { type: kind, key: w2[1], value: first[2], "value'": w2[2], 'a-mop-index': fi, 'b-mop-index': w2i };
        }
      }
      return { type: kind };
    },
  };
}

export type { Graph };
