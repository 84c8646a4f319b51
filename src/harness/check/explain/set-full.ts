// Why a set-full verdict (broadcast, g-set) is what it is: each lost or stale value, the node it
// went through, the partition it was added under, which nodes' final reads lack it; and the
// stable latency of every value over time, the figure broadcast's 3d/3e are judged on.

import type { Op, TestOptions } from '../../types.js';
import type { WorkloadVerdict } from '../../workload.js';
import { analyseSetFull, type ElementResult, type SetFullOptions } from '../checkers/set-full.js';
import { valueKey, type ValueKey } from '../checkers/json-values.js';
import { byNodeName, explainSafely, explanation, listText, nodeOfProcess, secondsText, valueText, type Explanation, type Fact, type Plot } from '../explain.js';
import { describePartition, faultSpans, partitionAt, type FaultSpan } from '../faults.js';

type Opts = Pick<TestOptions, 'nodes' | 'concurrency'>;

/** How the workload names its add: broadcast's "broadcast", g-set's "add". */
interface Words {
  verb: string;
}

/** Per node, the last ok read it served (by completion), with its invocation. */
function finalReads(history: readonly Op[], opts: Opts): Map<string, { invoke: Op; read: Op; present: Set<ValueKey> }> {
  const invokes = new Map<number, Op>();
  const last = new Map<string, { invoke: Op; read: Op; present: Set<ValueKey> }>();
  for (const op of history) {
    if (op.process === 'nemesis' || op.f !== 'read') continue;
    if (op.type === 'invoke') invokes.set(op.process, op);
    if (op.type !== 'ok' || !Array.isArray(op.value)) continue;
    const invoke = invokes.get(op.process);
    if (invoke === undefined) continue;
    last.set(nodeOfProcess(op.process, opts), { invoke, read: op, present: new Set(op.value.map((v) => valueKey(v))) });
  }
  return last;
}

/** For the chosen elements: the nodes that ever read each, and the last time each did. */
function readersOf(history: readonly Op[], keys: ReadonlySet<ValueKey>, opts: Opts): Map<ValueKey, { nodes: Set<string>; lastNs: number }> {
  const readers = new Map<ValueKey, { nodes: Set<string>; lastNs: number }>();
  if (keys.size === 0) return readers;
  for (const op of history) {
    if (op.process === 'nemesis' || op.f !== 'read' || op.type !== 'ok' || !Array.isArray(op.value)) continue;
    for (const element of op.value) {
      const key = valueKey(element);
      if (!keys.has(key)) continue;
      const entry = readers.get(key) ?? { nodes: new Set<string>(), lastNs: 0 };
      entry.nodes.add(nodeOfProcess(op.process, opts));
      entry.lastNs = op.time;
      readers.set(key, entry);
    }
  }
  return readers;
}

function partitionWords(spans: readonly FaultSpan[], atNs: number): string {
  const span = partitionAt(spans, atNs);
  return span === undefined ? 'with no partition' : `during ${describePartition(span)}`;
}

interface Context {
  history: readonly Op[];
  opts: Opts;
  spans: FaultSpan[];
  words: Words;
  finals: ReturnType<typeof finalReads>;
}

function lostFact(r: ElementResult, ctx: Context, readers: ReturnType<typeof readersOf>): Fact {
  const key = valueKey(r.state.element);
  const added = r.state.added;
  const via = added === undefined ? '?' : nodeOfProcess(added.process, ctx.opts);
  const acknowledged = r.state.known !== undefined && r.state.known.f !== 'read' ? `, acknowledged at ${secondsText(r.state.known.time)}` : '';
  const lacking = [...ctx.finals.entries()].filter(([, f]) => !f.present.has(key)).map(([node]) => node).sort(byNodeName);
  const seen = readers.get(key);
  const readBy = seen === undefined ? 'no read ever returned it' : `read on ${listText([...seen.nodes].sort(byNodeName))}, last at ${secondsText(seen.lastNs)}`;
  const atNs = added?.time ?? 0;
  return {
    text: `Lost ${valueText(r.state.element)}: ${ctx.words.verb} via ${via} (process ${String(added?.process ?? '?')}) at ${secondsText(atNs)}${acknowledged}, ${partitionWords(ctx.spans, atNs)}; ${readBy}; the final reads on ${listText(lacking)} lack it.`,
    atNs,
    // the node it went through: its messages show whether it ever passed the value on
    nodes: [via],
    value: r.state.element,
  };
}

function staleFact(r: ElementResult, ctx: Context): Fact {
  const added = r.state.added;
  const via = added === undefined ? '?' : nodeOfProcess(added.process, ctx.opts);
  const absent = r.state.lastAbsent;
  const lacker = absent === undefined ? '?' : nodeOfProcess(absent.process, ctx.opts);
  const atNs = added?.time ?? 0;
  return {
    text:
      `Stale ${valueText(r.state.element)}: ${ctx.words.verb} via ${via} at ${secondsText(atNs)}, ${partitionWords(ctx.spans, atNs)}; stable only after ${String(r.stableLatencyMs)} ms` +
      (absent === undefined ? '.' : `: a read on ${lacker} invoked at ${secondsText(absent.time)} still lacked it.`),
    atNs,
    nodes: [via, lacker],
    value: r.state.element,
  };
}

function latencyPlot(elements: readonly ElementResult[], words: Words): Plot {
  const stable: Array<[number, number]> = [];
  const lostAt: number[] = [];
  for (const r of elements) {
    const t = (r.state.added?.time ?? 0) / 1e9;
    if (r.stableLatencyMs !== null) stable.push([t, r.stableLatencyMs]);
    if (r.outcome === 'lost') lostAt.push(t);
  }
  const top = Math.max(1, ...stable.map(([, y]) => y)) * 1.05;
  const sorted = stable.map(([, y]) => y).sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return {
    id: 'stable-latency',
    title: 'Stable latency per value',
    yLabel: 'Stable latency (ms)',
    series: [
      { label: 'stable value', points: stable, colour: '#2563eb', style: 'dots' },
      ...(lostAt.length > 0 ? [{ label: 'lost (at the top)', points: lostAt.map((t): [number, number] => [t, top]), colour: '#dc2626', style: 'dots' as const }] : []),
    ],
    caption:
      stable.length === 0
        ? 'No value became stable.'
        : `Each dot is one value: when it was ${words.verb} (x) and how long until every later read had it (y, Jepsen's stable latency). Median ${q(0.5)} ms, 0.99 ${q(0.99)} ms, max ${q(1)} ms over ${stable.length} values.`,
  };
}

function headline(result: ReturnType<typeof analyseSetFull>['result'], elements: readonly ElementResult[], words: Words): string {
  const lost = elements.filter((r) => r.outcome === 'lost');
  const attempts = elements.length;
  if (lost.length > 0) {
    return `${lost.length} of ${attempts} values were lost: ${words.verb} (and acknowledged or read), then missing from every later read: ${listText(lost.map((r) => valueText(r.state.element, 20)), 12)}.`;
  }
  if (result['valid?'] === 'unknown') return `No value was ever read back, so nothing could be judged (${attempts} ${words.verb}).`;
  const worst = [...elements].sort((a, b) => (b.stableLatencyMs ?? 0) - (a.stableLatencyMs ?? 0))[0];
  const never = elements.filter((r) => r.outcome === 'never-read').length;
  return (
    `All ${attempts - never} values read back are in every later read` +
    (worst?.stableLatencyMs !== null && worst !== undefined ? `; the slowest to become stable was value ${valueText(worst.state.element)} (${String(worst.stableLatencyMs)} ms)` : '') +
    (never > 0 ? `; ${never} were never read` : '') +
    '.'
  );
}

/** The set-full explanation of an analysed history. */
export function explainSetFull(history: readonly Op[], opts: Opts, analysis: ReturnType<typeof analyseSetFull>, words: Words): Explanation {
  const endNs = history.reduce((last, op) => Math.max(last, op.time), 0);
  const ctx: Context = { history, opts, spans: faultSpans(history, endNs, opts.nodes.length), words, finals: finalReads(history, opts) };
  const lost = analysis.elements.filter((r) => r.outcome === 'lost');
  const stale = analysis.elements
    .filter((r) => r.outcome === 'stable' && (r.stableLatencyMs ?? 0) > 0)
    .sort((a, b) => (b.stableLatencyMs ?? 0) - (a.stableLatencyMs ?? 0));
  const readers = readersOf(history, new Set(lost.slice(0, 40).map((r) => valueKey(r.state.element))), opts);
  const facts: Fact[] = [...lost.map((r, k) => (k < 40 ? lostFact(r, ctx, readers) : { text: `Lost ${valueText(r.state.element)}.` })), ...stale.slice(0, 8).map((r) => staleFact(r, ctx))];
  const neverRead = analysis.elements.filter((r) => r.outcome === 'never-read');
  if (neverRead.length > 0) facts.push({ text: `${neverRead.length} values were never read after they were ${words.verb}: ${listText(neverRead.map((r) => valueText(r.state.element, 20)), 10)}.` });
  return explanation(headline(analysis.result, analysis.elements, words), facts, [latencyPlot(analysis.elements, words)]);
}

/** The set-full check and its explanation, as a workload verdict; a history it cannot judge is unknown. */
export function setFullVerdict(history: readonly Op[], opts: Opts, options: SetFullOptions, words: Words): WorkloadVerdict {
  let analysis: ReturnType<typeof analyseSetFull>;
  try {
    analysis = analyseSetFull(history, options);
  } catch (err) {
    return { workload: { 'valid?': 'unknown', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) } };
  }
  return { workload: analysis.result, explanation: explainSafely(() => explainSetFull(history, opts, analysis, words)) };
}

