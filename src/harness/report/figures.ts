// Figures every workload gets, read from the history and the checkers' results, shared by the
// console summary and report.html: operation latency quantiles by f, availability, the nemesis
// in words, and the commonest errors.

import type { Op } from '../types.js';
import type { Results } from '../check/results-types.js';
import { partitionShapesText } from '../check/faults.js';
import { completedCalls, type Explanation } from '../check/explain.js';
import type { FailureGroup } from '../check/exceptions.js';

/** Results' sections in Maelstrom's order (the order its console and results.edn show). */
export const SECTION_NAMES = ['perf', 'timeline', 'exceptions', 'stats', 'availability', 'net', 'workload', 'glomers'] as const;

/** Introduces the operations that never succeeded, saying whether they alone make the run invalid. */
export function neverOkHeader(results: Results): string {
  const onlyStats = results['valid?'] === false && SECTION_NAMES.every((name) => name === 'stats' || results[name]['valid?'] === true);
  const rule = "Maelstrom's stats checker fails a run in which an operation never succeeds";
  return onlyStats ? `The run is invalid only because some operations never succeeded (${rule})` : `Some operations never succeeded (${rule})`;
}

export const LATENCY_POINTS: ReadonlyArray<readonly [string, number]> = [
  ['p50', 0.5],
  ['p95', 0.95],
  ['p99', 0.99],
  ['max', 1],
];

export interface LatencyRow {
  f: string;
  count: number;
  /** ms at each of LATENCY_POINTS */
  quantiles: number[];
}

/** Jepsen's quantile of a sorted list: sorted[min(n-1, floor(q·n))]; 0 for an empty list. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * Numbers in ascending order by the engine's own numeric sort: a list of every op's latency
 * sorted with a comparator made a JavaScript call per comparison, a tenth of the report's time.
 */
export function sortedNumbers(list: readonly number[]): Float64Array {
  return Float64Array.from(list).sort();
}

/** Latency (invocation to completion, ms) quantiles of ok client operations, per f. */
export function latencyByF(history: readonly Op[]): LatencyRow[] {
  const byF = new Map<string, number[]>();
  for (const { invoke, completion } of completedCalls(history)) {
    if (completion.type !== 'ok') continue;
    const list = byF.get(invoke.f) ?? [];
    list.push((completion.time - invoke.time) / 1e6);
    byF.set(invoke.f, list);
  }
  return [...byF.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([f, list]) => {
      const sorted = sortedNumbers(list);
      return { f, count: sorted.length, quantiles: LATENCY_POINTS.map(([, q]) => quantile(sorted, q)) };
    });
}

export function msText(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** "read p50 1.20 p95 3.40 p99 5.00 max 9.10 ms (120 ok)" */
export function latencyRowText(row: LatencyRow): string {
  return `${row.f} ${LATENCY_POINTS.map(([label], k) => `${label} ${msText(row.quantiles[k] ?? 0)}`).join(' ')} ms (${row.count} ok)`;
}

/** "200 completed: 190 ok, 6 fail, 4 info; availability (ok-fraction) 0.95" */
export function operationsText(results: Results): string {
  const stats = results.stats;
  return (
    `${String(stats['count'] ?? 0)} completed: ${String(stats['ok-count'] ?? 0)} ok, ${String(stats['fail-count'] ?? 0)} fail, ` +
    `${String(stats['info-count'] ?? 0)} info; availability (ok-fraction) ${String(results.availability['ok-fraction'] ?? '?')}`
  );
}

function perNodeText(perNode: { [node: string]: number }): string {
  const entries = Object.entries(perNode).sort((a, b) => b[1] - a[1]);
  return entries.map(([node, s]) => `${node} ${s.toFixed(1)} s`).join(', ');
}

/** The nemesis in words: counts, time partitioned by shape, and who suffered how long. */
export function nemesisLines(results: Results): string[] {
  const n = results.glomers.nemesis;
  const shapes = partitionShapesText(n);
  const lines = [
    `${n.partitions} partitions (${n['partitioned-s'].toFixed(1)} s partitioned${shapes === '' ? '' : `; ${shapes}`}), ` +
      `${n.kills} kills (${n['nodes-killed']} node processes killed, ${n.restarts} restarted), ${n.pauses} pauses (${n['nodes-paused']} nodes paused)`,
  ];
  if (Object.keys(n['isolated-s']).length > 0) lines.push(`cut off from the majority: ${perNodeText(n['isolated-s'])}`);
  if (Object.keys(n['down-s']).length > 0) lines.push(`down (killed): ${perNodeText(n['down-s'])}`);
  if (Object.keys(n['paused-s']).length > 0) lines.push(`paused: ${perNodeText(n['paused-s'])}`);
  return lines;
}

/** An error group in words: `34× not-supported "unsupported message type 'read'" (read on n0)`. */
export function failureGroupText(group: FailureGroup): string {
  const text = group.text === null ? '' : ` "${group.text.length > 120 ? `${group.text.slice(0, 119)}…` : group.text}"`;
  return `${group.count}× ${group.error}${text} (${group.fs.join(', ')} on ${group.nodes.slice(0, 6).join(' ')}${group.nodes.length > 6 ? ' …' : ''}; ${group['fail-count']} fail, ${group['info-count']} info, ${group['first-s'].toFixed(1)}–${group['last-s'].toFixed(1)} s)`;
}

/** The explanation's facts shown on the console before "... and N more": fewer when the run is valid. */
export const CONSOLE_FACTS = { invalid: 8, valid: 3 } as const;

/** Network lateness where nobody measured it (LatenessStats.measured false). */
export const LATENESS_NOT_MEASURED = 'not measured (analysed from a folder no glomers run wrote results into)';

/** The explanation as console lines: the headline, then the first facts. */
export function explanationLines(explanation: Explanation, limit: number = CONSOLE_FACTS.invalid): string[] {
  const lines = [explanation.headline];
  for (const fact of explanation.facts.slice(0, limit)) lines.push(`  ${fact.text}`);
  const more = explanation.factCount - Math.min(limit, explanation.facts.length);
  if (more > 0) lines.push(`  ... and ${more} more (see report.html)`);
  return lines;
}
