// The timers view: lateness of every fired timer over the run with the faults shaded behind it,
// and every error the checker reported in words, with the timer, its ops and its fires. The data
// is the timers checker's (results.workload: the error examples and quantiles; results.glomers.
// workload: lateness-points).

import type { Results } from '../../check/results-types.js';
import { TIMER_ERROR_KINDS, timerErrorText } from '../../check/checkers/timers.js';
import { axes, bands, escapeXml, makeFrame, marker, svgOpen, xPx, yPx, type FaultKind } from '../svg.js';
import { asArray, asMap, asNumber, boundLines, SUMMARY_LINE_LIMIT } from './common.js';
import type { ViewContext, WorkloadView } from './types.js';

/** Dots drawn; the checker already samples to its own bound, this caps a foreign results file. */
export const LATENESS_DOT_LIMIT = 4_000;

function latenessPlot(results: Results, context: ViewContext): string {
  const points = asArray(asMap(results.glomers.workload)['lateness-points'])
    .slice(0, LATENESS_DOT_LIMIT)
    .map((point) => asArray(point).map((v) => asNumber(v) ?? 0) as [number, number]);
  const endS = Math.max(1, ...points.map(([dueAtMs]) => dueAtMs / 1000), ...context.history.map((op) => op.time / 1e9));
  const yMax = Math.max(1, ...points.map(([, lateMs]) => lateMs));
  const yMin = Math.min(0, ...points.map(([, lateMs]) => lateMs));
  const frame = makeFrame(endS, yMin, yMax * 1.1, false);
  const dots = points.map(([dueAtMs, lateMs]) => marker(0, xPx(frame, dueAtMs / 1000), yPx(frame, lateMs), lateMs < 0 ? '#dc2626' : '#2563eb', 2)).join('');
  const shaded = bands(frame, faultBands(results));
  return svgOpen(frame, 'timers-lateness') + shaded + axes(frame, `Lateness of ${points.length} fired timers`, 'Due time (s since the test began)', 'Fire - due (ms)') + dots + '</svg>';
}

const BAND_KINDS: Readonly<Record<string, FaultKind>> = { kill: 'kill', pause: 'pause', 'start-partition': 'partition' };

/** The checker's fault spans (results.glomers.workload.faults) as shaded bands in seconds. */
function faultBands(results: Results): Array<{ from: number; to: number; kind: FaultKind }> {
  return asArray(asMap(results.glomers.workload).faults).map((fault) => {
    const f = asMap(fault);
    return { from: (asNumber(f.from_ms) ?? 0) / 1000, to: (asNumber(f.to_ms) ?? 0) / 1000, kind: BAND_KINDS[String(f.f)] ?? 'partition' };
  });
}

function errorRows(results: Results): string[] {
  const rows: string[] = [];
  for (const kind of TIMER_ERROR_KINDS) {
    for (const example of asArray(results.workload[kind])) rows.push(`${kind}: ${timerErrorText(kind, example)}`);
  }
  return rows;
}

function render(results: Results, context: ViewContext): string {
  const w = results.workload;
  const late = asMap(w['lateness-ms']);
  const faultLate = asMap(w['fault-lateness-ms']);
  const q = (m: typeof late): string => ['0.5', '0.95', '0.99', '1'].map((k) => `${k}: ${asNumber(m[k]) ?? '-'}`).join(', ');
  const parts = [
    '<h2>Timers: lateness</h2>',
    `<p class="explain">${escapeXml(`Each dot is a fired timer: how long after its due time it first fired. Shaded: partitions, kills and pauses. Lateness (ms) ${q(late)}; of timers due within 5 s after a fault began ${q(faultLate)}. Fires per node: ${JSON.stringify(w['fires-by-node'] ?? {})}.`)}</p>`,
    `<div class="scroll">${latenessPlot(results, context)}</div>`,
    '<h2>Timers: errors</h2>',
  ];
  const counts = TIMER_ERROR_KINDS.map((kind) => `${kind} ${asNumber(w[`${kind}-count`]) ?? 0}`).join(', ');
  parts.push(`<p class="explain">${escapeXml(`Timers with each error: ${counts}. Up to 20 examples of each are listed.`)}</p>`);
  const rows = errorRows(results);
  if (rows.length > 0) parts.push(`<ul class="view">${rows.map((row) => `<li>${escapeXml(row)}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

function summary(results: Results): string[] {
  const w = results.workload;
  const late = asMap(w['lateness-ms']);
  const head = `timers: ${TIMER_ERROR_KINDS.map((kind) => `${kind} ${asNumber(w[`${kind}-count`]) ?? 0}`).join(', ')}; lateness p99 ${asNumber(late['0.99']) ?? '-'} ms, max ${asNumber(late['1']) ?? '-'} ms`;
  const rows = errorRows(results);
  return [head, ...boundLines(rows, SUMMARY_LINE_LIMIT - 1)];
}

export const timersView: WorkloadView = { render, summary };
