// Findings beyond Maelstrom's checker: G0 that rw-register's weak version inference misses
// (maelstrom#56), completions whose micro-ops differ from the request (#57, #14).

import type { Json } from '../../types.js';
import { valueKey } from '../json-values.js';
import { type Mop, type Txn, mopsOf } from './common.js';
import { tarjan } from './graph.js';

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
 * ww edges that hold whenever each read returns the key's state at the moment it runs (as a
 * read-uncommitted store does): inside one committed transaction, (1) after writing x=a it reads
 * x=b written by another transaction, so b overwrote a; (2) after reading x=b from another
 * transaction it writes x=c, so c overwrote b. Only ok transactions take part, so every write
 * involved certainly committed; values are unique per key, so b names its writer.
 */
export function findWriteCycles(txns: readonly Txn[], write: (f: string) => boolean): GlomersFinding[] {
  const writerOf = new Map<string, Txn>();
  const pk = (k: Json, v: Json): string => `${String(valueKey(k))}\u0000${String(valueKey(v))}`;
  const ok = txns.filter((t) => t.completion.type === 'ok');
  for (const t of ok) for (const [f, k, v] of t.mops) if (write(f)) writerOf.set(pk(k, v), t);
  const edges = new Map<number, Map<number, GlomersEdge>>();
  const link = (e: GlomersEdge): void => {
    if (e.from === e.to) return;
    let m = edges.get(e.from);
    if (m === undefined) {
      m = new Map();
      edges.set(e.from, m);
    }
    if (!m.has(e.to)) m.set(e.to, e);
  };
  for (const t of ok) {
    // per key: the last thing this transaction did: its own write, or a read of another's write
    const lastOwn = new Map<string | number | boolean | null, Json>();
    const lastForeign = new Map<string | number | boolean | null, { writer: Txn; value: Json }>();
    for (const [f, k, v] of t.mops) {
      const kk = valueKey(k);
      if (write(f)) {
        const foreign = lastForeign.get(kk);
        if (foreign !== undefined) {
          link({ from: foreign.writer.id, to: t.id, kind: 'ww', key: k, value: v, why: `${describe(t)} read ${JSON.stringify(k)}=${JSON.stringify(foreign.value)} written by ${describe(foreign.writer)} and then wrote ${JSON.stringify(k)}=${JSON.stringify(v)}, so its write came later` });
        }
        lastOwn.set(kk, v);
        lastForeign.delete(kk);
        continue;
      }
      if (f !== 'r' || v === null || Array.isArray(v)) continue;
      const w = writerOf.get(pk(k, v));
      if (w === undefined || w === t) continue;
      const own = lastOwn.get(kk);
      if (own !== undefined) {
        link({ from: t.id, to: w.id, kind: 'ww', key: k, value: v, why: `${describe(t)} wrote ${JSON.stringify(k)}=${JSON.stringify(own)} and later read ${JSON.stringify(k)}=${JSON.stringify(v)} written by ${describe(w)}, so that write came later` });
      }
      lastOwn.delete(kk);
      lastForeign.set(kk, { writer: w, value: v });
    }
  }
  const n = txns.length;
  const adj = (v: number): number[] => [...(edges.get(v)?.keys() ?? [])];
  const findings: GlomersFinding[] = [];
  for (const scc of tarjan(n, adj, false)) {
    const inScc = new Set(scc);
    const start = Math.min(...scc);
    // shortest loop through `start` inside the SCC
    const parent = new Map<number, number>([[start, -1]]);
    const queue = [start];
    let closing = -1;
    for (let qi = 0; qi < queue.length && closing < 0; qi++) {
      for (const w of adj(queue[qi])) {
        if (!inScc.has(w)) continue;
        if (w === start) {
          closing = queue[qi];
          break;
        }
        if (!parent.has(w)) {
          parent.set(w, queue[qi]);
          queue.push(w);
        }
      }
    }
    const path: number[] = [];
    for (let x = closing; x !== -1; x = parent.get(x) as number) path.push(x);
    path.reverse();
    const cycleEdges = path.map((v, i) => (edges.get(v) as Map<number, GlomersEdge>).get(path[(i + 1) % path.length]) as GlomersEdge);
    const ops = path.map((v) => txns[v]);
    findings.push({
      type: 'G0',
      ops,
      text: `Write cycle (G0) that Maelstrom's version inference cannot see: ${cycleEdges.map((e) => e.why).join('; ')}. Each transaction's writes are ordered after the other's, which no order of installs allows.`,
      edges: cycleEdges,
    });
  }
  return findings;
}

function mopText(m: Json): string {
  return JSON.stringify(m);
}

/** ok completions whose micro-ops are not the request's (reads filled in, nothing else changed) */
export function findMopMismatches(txns: readonly Txn[], workload: 'rw-register' | 'list-append'): GlomersFinding[] {
  const findings: GlomersFinding[] = [];
  const writeF = workload === 'rw-register' ? 'w' : 'append';
  for (const t of txns) {
    if (t.completion.type !== 'ok') continue;
    const requested = mopsOf(t.invoke);
    const answered = Array.isArray(t.completion.value) ? (t.completion.value as Json[]) : [];
    const problems: string[] = [];
    let typeMismatch = false;
    for (let i = 0; i < Math.max(requested.length, answered.length); i++) {
      const q: Mop | undefined = requested[i];
      const a = answered[i];
      if (q === undefined) {
        problems.push(`micro-op ${i} ${mopText(a)} was added (not requested)`);
        continue;
      }
      if (a === undefined) {
        problems.push(`requested micro-op ${i} ${mopText(q)} was dropped`);
        continue;
      }
      if (!Array.isArray(a) || a.length !== 3 || typeof a[0] !== 'string') {
        problems.push(`micro-op ${i} answered as ${mopText(a)}, not a [f, key, value] micro-op`);
        continue;
      }
      if (a[0] !== q[0]) {
        typeMismatch = true;
        problems.push(`micro-op ${i} ${mopText(q)} was answered as a ${JSON.stringify(a[0])}: ${mopText(a)}`);
        continue;
      }
      if (valueKey(a[1]) !== valueKey(q[1])) problems.push(`micro-op ${i} asked for key ${JSON.stringify(q[1])} but the answer names key ${JSON.stringify(a[1])}`);
      if (q[0] === writeF && valueKey(a[2]) !== valueKey(q[2])) problems.push(`micro-op ${i} wrote ${JSON.stringify(q[2])} but the answer says ${JSON.stringify(a[2])}`);
      if (q[0] === 'r' && workload === 'list-append' && a[2] !== null && !Array.isArray(a[2])) {
        typeMismatch = true;
        problems.push(`micro-op ${i} read of ${JSON.stringify(q[1])} returned ${JSON.stringify(a[2])}, not a list`);
      }
    }
    if (problems.length === 0) continue;
    // a reordering shows up as several positional differences over the same multiset of mops
    const sig = (m: Json): string => (Array.isArray(m) && m.length === 3 ? JSON.stringify([m[0], m[1], m[0] === 'r' ? null : m[2]]) : JSON.stringify(m));
    const reordered = requested.length === answered.length && [...requested.map(sig)].sort().join() === [...answered.map(sig)].sort().join();
    findings.push({
      type: typeMismatch ? 'mop-type-mismatch' : 'mop-mismatch',
      ops: [t],
      text: `${describe(t)}: the txn_ok does not answer the request${reordered ? ' (its micro-ops are reordered)' : ''}: ${problems.join('; ')}.`,
      edges: [],
    });
  }
  return findings;
}
