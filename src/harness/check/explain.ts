// The view model of a verdict: what a workload's checker says about why its verdict is what it is,
// as typed data (facts in words that name nodes, values, keys and times; plots as plain series).
// The console summary and report.html both read this one schema, so a checker that adds a fact
// or a plot shows it in both without a second edit. Also the small readings of the history every
// explainer needs (which node served a process, invocations paired with completions).

import type { Json, Op, TestOptions } from '../types.js';
import { threadNode } from '../util/client-node.js';

/**
 * One fact behind a verdict. atNs places it in time; nodes let the report show the messages around
 * it; value, when set, is what the fact is about (a lost value), and the messages carrying it are marked.
 */
export type Fact = { text: string; atNs?: number; nodes?: string[]; value?: Json };

/** Points of one series: x in seconds since the test started, y in the plot's unit. */
export type Series = { label: string; points: Array<[number, number]>; colour?: string; style: 'dots' | 'line' | 'steps' };

/** A plot over the test's time: the report draws it with the nemesis's fault bands behind it. */
export type Plot = {
  id: string;
  title: string;
  yLabel: string;
  logY?: boolean;
  series: Series[];
  /** what the reader should see in it, in one or two sentences */
  caption: string;
};

export type Explanation = {
  /** one sentence: why the verdict is what it is (or what was checked, when it holds) */
  headline: string;
  /** the facts behind it, most telling first, at most FACT_LIMIT */
  facts: Fact[];
  /** how many facts there were before the list was cut */
  factCount: number;
  plots: Plot[];
};

/** Facts an explanation keeps; the rest are counted in factCount. */
export const FACT_LIMIT = 40;

/** Points a series keeps in results.json; beyond it, each run of points keeps its highest (dots) or its last (lines). */
export const SERIES_POINT_LIMIT = 4000;

function thinned(series: Series): Series {
  const stride = Math.ceil(series.points.length / SERIES_POINT_LIMIT);
  if (stride <= 1) return series;
  const points: Array<[number, number]> = [];
  for (let i = 0; i < series.points.length; i += stride) {
    const run = series.points.slice(i, i + stride);
    const kept = series.style === 'dots' ? run.reduce((best, p) => (p[1] > best[1] ? p : best)) : (run[run.length - 1] as [number, number]);
    points.push(kept);
  }
  return { ...series, label: `${series.label} (every ${stride}th)`, points };
}

export function explanation(headline: string, facts: Fact[], plots: Plot[] = []): Explanation {
  const bounded = plots.map((plot) => ({ ...plot, series: plot.series.map(thinned) }));
  return { headline, facts: facts.slice(0, FACT_LIMIT), factCount: facts.length, plots: bounded };
}

/**
 * The node a client process talks to, as the runner opens thread k's client. `nodes` are the
 * client nodes (clientTargets: sched's clients talk to its schedulers only).
 */
export function nodeOfProcess(process: number | 'nemesis', opts: Pick<TestOptions, 'nodes' | 'concurrency'>): string {
  if (process === 'nemesis') return 'nemesis';
  return threadNode(opts.nodes, process % Math.max(1, opts.concurrency));
}

export interface CompletedCall {
  invoke: Op;
  completion: Op;
}

/** Client invocations paired with their completions (the next op of the same process). */
export function completedCalls(history: readonly Op[]): CompletedCall[] {
  // undefined once completed, rather than deleted: deleting from a Map this small rebuilds its
  // table, an allocation per op; and an index loop, as for-of allocates per op before optimisation
  const pending = new Map<number, Op | undefined>();
  const calls: CompletedCall[] = [];
  for (let k = 0; k < history.length; k++) {
    const op = history[k] as Op;
    if (op.process === 'nemesis') continue;
    if (op.type === 'invoke') {
      pending.set(op.process, op);
      continue;
    }
    const invoke = pending.get(op.process);
    if (invoke === undefined) continue;
    pending.set(op.process, undefined);
    calls.push({ invoke, completion: op });
  }
  return calls;
}

export function secondsText(ns: number): string {
  return `${(ns / 1e9).toFixed(3)} s`;
}

export function valueText(value: Json | undefined, maxChars = 60): string {
  const text = JSON.stringify(value ?? null) ?? 'null';
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** "n0, n1 and n2" */
export function listText(items: readonly string[], max = 8): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length === 1) return shown[0] as string;
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

export function byNodeName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** An explanation that cannot be made must not cost the verdict: it says why instead. */
export function explainSafely(make: () => Explanation): Explanation {
  try {
    return make();
  } catch (err) {
    return explanation(`This verdict could not be explained: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, []);
  }
}
