// Findings beyond Maelstrom's checker: G0 that rw-register's weak version inference misses
// (maelstrom#56), completions whose micro-ops differ from the request (#57, #14).

import type { Json } from '../../../types.js';
import { type PairKey, pairKey, type ValueKey, valueKey } from '../json-values.js';
import { type Mop, ScratchTable, type Txn } from './common.js';
import { tarjan } from './graph.js';
import { minOf } from '../../../util/extent.js';

export interface GlomersEdge {
  from: number;
  to: number;
  kind: string;
  key: Json;
  value: Json;
  why: string;
}

export interface GlomersFinding {
  type: string;
  ops: Txn[];
  text: string;
  edges: GlomersEdge[];
}

const describe = (t: Txn): string => `T${t.completion.index} (index ${t.completion.index}, process ${String(t.completion.process)})`;

/**
 * A ww edge findWriteCycles found: what it needs to say why, worded only for the edges of a
 * cycle (most edges are in none, and wording each one cost more than finding them all).
 */
interface WriteOrder {
  from: number;
  to: number;
  key: Json;
  /** the later write, or the read of it */
  value: Json;
  /** the value before it in this transaction: a foreign write read (readFirst), or its own write */
  earlier: Json;
  /** case (2) of findWriteCycles: `to` read `from`'s write, then wrote; else case (1): `from` wrote, then read `to`'s write */
  readFirst: boolean;
}

function explainWriteOrder(e: WriteOrder, txns: readonly Txn[]): GlomersEdge {
  const [from, to] = [txns[e.from] as Txn, txns[e.to] as Txn];
  const k = JSON.stringify(e.key);
  const why = e.readFirst
    ? `${describe(to)} read ${k}=${JSON.stringify(e.earlier)} written by ${describe(from)} and then wrote ${k}=${JSON.stringify(e.value)}, so its write came later`
    : `${describe(from)} wrote ${k}=${JSON.stringify(e.earlier)} and later read ${k}=${JSON.stringify(e.value)} written by ${describe(to)}, so that write came later`;
  return { from: e.from, to: e.to, kind: 'ww', key: e.key, value: e.value, why };
}

/**
 * ww edges that hold whenever each read returns the key's state at the moment it runs (as a
 * read-uncommitted store does): inside one committed transaction, (1) after writing x=a it reads
 * x=b written by another transaction, so b overwrote a; (2) after reading x=b from another
 * transaction it writes x=c, so c overwrote b. Only ok transactions take part, so every write
 * involved certainly committed; values are unique per key, so b names its writer.
 */
export function findWriteCycles(txns: readonly Txn[], write: (f: string) => boolean): GlomersFinding[] {
  const writerOf = new Map<PairKey, Txn>();
  const ok = txns.filter((t) => t.completion.type === 'ok');
  // index loops, not for-of (see Mop in common.ts)
  for (let ti = 0; ti < ok.length; ti++) {
    const t = ok[ti] as Txn;
    for (let m = 0; m < t.mops.length; m++) {
      const mop = t.mops[m] as Mop;
      if (write(mop[0])) writerOf.set(pairKey(mop[1], mop[2]), t);
    }
  }
  const edges = new Map<number, Map<number, WriteOrder>>();
  const link = (e: WriteOrder): void => {
    if (e.from === e.to) return;
    let m = edges.get(e.from);
    if (m === undefined) {
      m = new Map();
      edges.set(e.from, m);
    }
    if (!m.has(e.to)) m.set(e.to, e);
  };
  // per key: the last thing a transaction did: its own write, or a read of another's write
  const lastOwn = new ScratchTable<ValueKey, Json>();
  const lastForeign = new ScratchTable<ValueKey, { writer: Txn; value: Json }>();
  for (let ti = 0; ti < ok.length; ti++) {
    const t = ok[ti] as Txn;
    lastOwn.reset();
    lastForeign.reset();
    for (let m = 0; m < t.mops.length; m++) {
      const mop = t.mops[m] as Mop;
      const f = mop[0];
      const k = mop[1];
      const v = mop[2];
      const kk = valueKey(k);
      if (write(f)) {
        const foreign = lastForeign.get(kk);
        if (foreign !== undefined) link({ from: foreign.writer.id, to: t.id, key: k, value: v, earlier: foreign.value, readFirst: true });
        lastOwn.set(kk, v);
        lastForeign.delete(kk);
        continue;
      }
      if (f !== 'r' || v === null || Array.isArray(v)) continue;
      const w = writerOf.get(pairKey(k, v));
      if (w === undefined || w === t) continue;
      const own = lastOwn.get(kk);
      if (own !== undefined) link({ from: t.id, to: w.id, key: k, value: v, earlier: own, readFirst: false });
      lastOwn.delete(kk);
      lastForeign.set(kk, { writer: w, value: v });
    }
  }
  const n = txns.length;
  const adj = (v: number): number[] => [...(edges.get(v)?.keys() ?? [])];
  const findings: GlomersFinding[] = [];
  for (const scc of tarjan(n, adj, false)) {
    const inScc = new Set(scc);
    const start = minOf(scc);
    // shortest loop through `start` inside the SCC
    const parent = new Map<number, number>([[start, -1]]);
    const queue = [start];
    let closing = -1;
    for (let qi = 0; qi < queue.length && closing < 0; qi++) {
      const here = queue[qi] as number;
      for (const w of adj(here)) {
        if (!inScc.has(w)) continue;
        if (w === start) {
          closing = here;
          break;
        }
        if (!parent.has(w)) {
          parent.set(w, here);
          queue.push(w);
        }
      }
    }
    const path: number[] = [];
    for (let x = closing; x !== -1; x = parent.get(x) as number) path.push(x);
    path.reverse();
    const cycleEdges = path.map((v, i) => explainWriteOrder((edges.get(v) as Map<number, WriteOrder>).get(path[(i + 1) % path.length] as number) as WriteOrder, txns));
    const ops = path.map((v) => txns[v] as Txn);
    findings.push({
      type: 'G0',
      ops,
      text: `Write cycle (G0) that Maelstrom's version inference cannot see: ${cycleEdges.map((e) => e.why).join('; ')}. Each transaction's writes are ordered after the other's, which no order of installs allows.`,
      edges: cycleEdges,
    });
  }
  return findings;
}

function mopText(m: Json | undefined): string {
  return JSON.stringify(m);
}

/** Longest common subsequence of two signature lists: which positions of each are matched. */
function align(a: readonly string[], b: readonly string[]): { aMatched: boolean[]; bMatched: boolean[] } {
  const n = a.length;
  const m = b.length;
  const table: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    const row = table[i] as number[];
    const below = table[i + 1] as number[];
    for (let j = m - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (below[j + 1] as number) + 1 : Math.max(below[j] as number, row[j + 1] as number);
  }
  const aMatched = new Array<boolean>(n).fill(false);
  const bMatched = new Array<boolean>(m).fill(false);
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (a[i] === b[j]) {
      aMatched[i++] = true;
      bMatched[j++] = true;
    } else if (((table[i + 1] as number[])[j] as number) >= ((table[i] as number[])[j + 1] as number)) i++;
    else j++;
  }
  return { aMatched, bMatched };
}

/** what identifies a micro-op regardless of what a read returned */
function signature(m: Json | undefined, writeF: string): string {
  if (!Array.isArray(m) || m.length !== 3 || typeof m[0] !== 'string') return `bad:${JSON.stringify(m ?? null)}`;
  return JSON.stringify([m[0], m[1], m[0] === writeF ? m[2] : null]);
}

/** the common case, checked without building signatures: the answer is the request with reads filled in */
function sameMops(requested: readonly Json[], answered: readonly Json[], writeF: string, workload: 'rw-register' | 'list-append'): boolean {
  if (requested.length !== answered.length) return false;
  for (let i = 0; i < requested.length; i++) {
    const q = requested[i];
    const a = answered[i];
    if (!Array.isArray(q) || !Array.isArray(a) || q.length !== 3 || a.length !== 3) return false;
    if (q[0] !== a[0] || valueKey(q[1]) !== valueKey(a[1])) return false;
    if (q[0] === writeF && valueKey(q[2]) !== valueKey(a[2])) return false;
    if (q[0] === 'r' && workload === 'list-append' && a[2] !== null && !Array.isArray(a[2])) return false;
  }
  return true;
}

/** ok completions whose micro-ops are not the request's (reads filled in, nothing else changed) */
export function findMopMismatches(txns: readonly Txn[], workload: 'rw-register' | 'list-append'): GlomersFinding[] {
  const findings: GlomersFinding[] = [];
  const writeF = workload === 'rw-register' ? 'w' : 'append';
  for (const t of txns) {
    if (t.completion.type !== 'ok') continue;
    const requested: Json[] = Array.isArray(t.invoke.value) ? t.invoke.value : [];
    const answered: Json[] = Array.isArray(t.completion.value) ? t.completion.value : [];
    if (sameMops(requested, answered, writeF, workload)) continue;
    const problems: string[] = [];
    let typeMismatch = false;
    const reqSigs = requested.map((m) => signature(m, writeF));
    const ansSigs = answered.map((m) => signature(m, writeF));
    const sameMultiset = [...reqSigs].sort().join('|') === [...ansSigs].sort().join('|');
    if (sameMultiset) {
      if (reqSigs.join('|') !== ansSigs.join('|')) problems.push(`its micro-ops come back reordered: asked ${JSON.stringify(requested)}, answered ${JSON.stringify(answered)}`);
    } else if (requested.length === answered.length) {
      // same shape: compare position by position
      requested.forEach((q, i) => {
        const a = answered[i];
        if (reqSigs[i] === ansSigs[i]) return;
        if (!Array.isArray(q) || !Array.isArray(a) || a.length !== 3) {
          problems.push(`micro-op ${i} ${mopText(q)} was answered as ${mopText(a)}`);
        } else if (a[0] !== q[0]) {
          typeMismatch = true;
          problems.push(`micro-op ${i} ${mopText(q)} (a ${JSON.stringify(q[0])}) was answered as a ${JSON.stringify(a[0])}: ${mopText(a)}`);
        } else if (valueKey(a[1]) !== valueKey(q[1])) {
          problems.push(`micro-op ${i} asked for key ${JSON.stringify(q[1])} but the answer names key ${JSON.stringify(a[1])}`);
        } else {
          problems.push(`micro-op ${i} wrote ${JSON.stringify(q[2])} but the answer says ${JSON.stringify(a[2])}`);
        }
      });
    } else {
      const { aMatched, bMatched } = align(reqSigs, ansSigs);
      requested.forEach((q, i) => {
        if (!aMatched[i]) problems.push(`requested micro-op ${i} ${mopText(q)} was dropped`);
      });
      answered.forEach((a, i) => {
        if (!bMatched[i]) problems.push(`micro-op ${i} of the answer, ${mopText(a)}, was never requested`);
      });
    }
    if (workload === 'list-append') {
      answered.forEach((a, i) => {
        if (Array.isArray(a) && a[0] === 'r' && a[2] !== null && !Array.isArray(a[2])) {
          typeMismatch = true;
          problems.push(`micro-op ${i}, a read of ${JSON.stringify(a[1])}, returned ${JSON.stringify(a[2])}, not a list`);
        }
      });
    }
    if (problems.length === 0) continue;
    findings.push({
      type: typeMismatch ? 'mop-type-mismatch' : 'mop-mismatch',
      ops: [t],
      text: `${describe(t)}: the txn_ok does not answer the request: ${problems.join('; ')}.`,
      edges: [],
    });
  }
  return findings;
}
