// Plain-English explanations of every anomaly, shaped for the report: the transactions of a
// cycle (boxes) and each edge with its kind and the reason it exists.

import type { Json } from '../../../types.js';
import type { Anomalies, CycleRecord, Txn } from './common.js';
import type { GlomersFinding } from './glomers.js';

const name = (t: Txn): string => `T${t.completion.index} (index ${t.completion.index}, process ${String(t.completion.process)})`;
const j = (v: Json | undefined): string => JSON.stringify(v ?? null);

function box(t: Txn): Json {
  return { index: t.completion.index, process: t.completion.process, txn: t.completion.value ?? null };
}

function edgeWhy(a: Txn, b: Txn, step: { [key: string]: Json }): string {
  const key = j(step.key);
  switch (step.type) {
    case 'wr':
      return `${name(a)} wrote ${key}=${j(step.value)}, ${name(b)} read ${key}=${j(step.value)}: wr`;
    case 'ww':
      return `${name(a)} wrote ${key}=${j(step.value)}, which ${name(b)}'s write of ${key}=${j(step["value'"])} overwrote (it comes next in ${key}'s version order): ww`;
    case 'rw':
      return step.value === null
        ? `${name(a)} read ${key} before any write (the initial state), and ${name(b)} wrote ${key}=${j(step["value'"])}: rw`
        : `${name(a)} read ${key}=${j(step.value)}, and ${name(b)} wrote the next version ${key}=${j(step["value'"])}, which ${name(a)} did not see: rw`;
    case 'realtime':
      return `${name(a)} completed before ${name(b)} was invoked: realtime`;
    case 'process':
      return `${name(a)} and ${name(b)} ran one after the other on process ${String(a.completion.process)}: process`;
    default:
      return `${name(a)} precedes ${name(b)}: ${String(step.type)}`;
  }
}

function explainCycle(r: CycleRecord): Json {
  const boxes = r.txns.slice(0, -1);
  const edges = r.steps.map((s, i) => ({
    from: (r.txns[i] as Txn).completion.index,
    to: (r.txns[i + 1] as Txn).completion.index,
    kind: s.type ?? null,
    key: s.key ?? null,
    value: s["value'"] ?? s.value ?? null,
    why: edgeWhy(r.txns[i] as Txn, r.txns[i + 1] as Txn, s),
  }));
  return {
    type: r.type,
    text: `${r.type}: a cycle of ${boxes.length} transactions that no order of execution allows. ${edges.map((e) => e.why).join('; ')}.`,
    cycle: boxes.map(box),
    edges,
  };
}

function opName(op: Json | undefined): string {
  const o = op as { index?: number; process?: number };
  return `T${String(o.index)} (index ${String(o.index)}, process ${String(o.process)})`;
}

function opBox(op: Json | undefined): Json {
  const o = op as { index?: number; process?: number; value?: Json };
  return { index: o.index ?? null, process: o.process ?? null, txn: o.value ?? null };
}

function explainEntry(type: string, e: { [key: string]: Json }): Json | undefined {
  switch (type) {
    case 'G1a':
      return { type, text: `${opName(e.op)} read ${j(e.mop)}, a value written by ${opName(e.writer)}, which failed (aborted read).`, cycle: [opBox(e.op), opBox(e.writer)], edges: [] };
    case 'G1b':
      return { type, text: `${opName(e.op)} read ${j(e.mop)}, an intermediate value that ${opName(e.writer)} overwrote within the same transaction (intermediate read).`, cycle: [opBox(e.op), opBox(e.writer)], edges: [] };
    case 'internal':
      return { type, text: `${opName(e.op)} read ${j(e.mop)} although its own earlier micro-ops imply ${j(e.expected)} (internal inconsistency).`, cycle: [opBox(e.op)], edges: [] };
    case 'lost-update': {
      const txns = (e.txns as Json[]) ?? [];
      return { type, text: `${txns.map(opName).join(' and ')} all read key ${j(e.key)}=${j(e.value)} and then wrote it: all but one of those updates is lost.`, cycle: txns.map(opBox), edges: [] };
    }
    case 'incompatible-order':
      return { type, text: `Reads of key ${j(e.key)} saw ${(e.values as Json[]).map(j).join(' and ')}, and neither is a prefix of the other: no single order of appends explains both.`, cycle: [], edges: [] };
    case 'dirty-update':
      return { type, text: `On key ${j(e.key)}, a failed transaction's append is followed by a committed one (${j(e.values)}): the committed append built on aborted state.`, cycle: [], edges: [] };
    case 'duplicate-elements':
      return { type, text: `${opName(e.op)} read ${j(e.mop)}, which contains an element more than once.`, cycle: [opBox(e.op)], edges: [] };
    case 'future-read':
      return { type, text: `${opName(e.op)} read element ${j(e.element)} (${j(e.mop)}) before appending it itself.`, cycle: [opBox(e.op)], edges: [] };
    case 'cyclic-versions':
      return { type, text: `Key ${j(e.key)}: reads followed by writes imply the versions ${j(e.scc)} come before each other.`, cycle: [], edges: [] };
    case 'cycle-search-timeout':
      return { type, text: `The search for ${String(e['anomaly-spec-type'])} in a component of ${String(e['scc-size'])} transactions ran out of time.`, cycle: [], edges: [] };
    default:
      if (type.endsWith('-cycle-exists')) {
        return { type, text: `Some cycle violating ${String(e.not)} exists among the ${String(e['scc-size'])} transactions ${j(e.scc)} (edges ${j(e.subgraph)}).`, cycle: [], edges: [] };
      }
      return undefined;
  }
}

export function explainAnomalies(anomalies: Anomalies, records: readonly CycleRecord[], _txns: readonly Txn[]): Json[] {
  const out: Json[] = records.map(explainCycle);
  for (const [type, entries] of anomalies) {
    if (type === 'empty-transaction-graph') {
      out.push({ type, text: 'No transaction depends on another: the graph has no edges, so nothing could be checked.', cycle: [], edges: [] });
      continue;
    }
    for (const e of entries) {
      if (typeof e !== 'object' || e === null || Array.isArray(e) || 'cycle' in e) continue;
      const x = explainEntry(type, e);
      if (x !== undefined) out.push(x);
    }
  }
  return out;
}

export function explainFinding(f: GlomersFinding): Json {
  return {
    type: f.type,
    text: f.text,
    cycle: f.ops.map(box),
    edges: f.edges.map((e) => ({ from: f.ops.find((t) => t.id === e.from)?.completion.index ?? e.from, to: f.ops.find((t) => t.id === e.to)?.completion.index ?? e.to, kind: e.kind, key: e.key, value: e.value, why: e.why })),
  };
}
