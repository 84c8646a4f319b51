// The timers view: lateness in figures (the plot of every fired timer's lateness, faults shaded,
// is the checker's explanation, drawn under "Why") and every error the checker reported in words,
// with the timer, its ops and its fires. The data is the timers checker's (results.workload: the
// error examples and quantiles).

import type { Results } from '../../check/results-types.js';
import { TIMER_ERROR_KINDS, timerErrorText } from '../../check/checkers/timers.js';
import { escapeXml } from '../svg.js';
import { asArray, asMap, asNumber, boundLines, SUMMARY_LINE_LIMIT } from './common.js';
import type { WorkloadView } from './types.js';

function errorRows(results: Results): string[] {
  const rows: string[] = [];
  for (const kind of TIMER_ERROR_KINDS) {
    for (const example of asArray(results.workload[kind])) rows.push(`${kind}: ${timerErrorText(kind, example)}`);
  }
  return rows;
}

function render(results: Results): string {
  const w = results.workload;
  const late = asMap(w['lateness-ms']);
  const faultLate = asMap(w['fault-lateness-ms']);
  const q = (m: typeof late): string => ['0.5', '0.95', '0.99', '1'].map((k) => `${k}: ${asNumber(m[k]) ?? '-'}`).join(', ');
  const parts = [
    '<h2>Timers: lateness</h2>',
    `<p class="explain">${escapeXml(`How long after its due time each timer first fired (plotted under "Why"), in ms: ${q(late)}; of timers due within 5 s after a fault began ${q(faultLate)}. Fires per node: ${JSON.stringify(w['fires-by-node'] ?? {})}.`)}</p>`,
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
