// The sched view: the checker's figures in one table and one console line. The plots (busy slots
// per worker, response ratio by submit time, faults shaded) and the lost or duplicated tasks in
// words are the checker's explanation, which the report and the summary draw for every workload.

import type { Results } from '../../check/results-types.js';
import { escapeXml } from '../svg.js';
import { asMap, asNumber } from './common.js';
import type { WorkloadView } from './types.js';

const POINTS = ['0.5', '0.95', '0.99', '1'] as const;

function quantilesText(value: Parameters<typeof asMap>[0], unit = ''): string {
  const q = asMap(value);
  return POINTS.map((point) => `${point}: ${asNumber(q[point]) ?? '-'}${unit}`).join(', ');
}

const count = (results: Results, key: string): number => asNumber(results.workload[key]) ?? 0;

function rows(results: Results): Array<[string, string]> {
  const w = results.workload;
  return [
    ['jobs', `${count(results, 'job-count')} submitted: ${count(results, 'ok-job-count')} ok, ${count(results, 'fail-job-count')} failed, ${count(results, 'info-job-count')} indeterminate`],
    ['tasks', `${count(results, 'completed-task-count')} of ${count(results, 'task-count')} completed`],
    ['errors', `lost ${count(results, 'lost-count')}, phantom ${count(results, 'phantom-count')}, ran-after-failure ${count(results, 'ran-after-failure-count')}, duplicated ${count(results, 'duplicated-count')}`],
    ['efficiency', `${asNumber(w.efficiency) ?? '-'} (work done / (slots x first submit to last completion))`],
    ['utilization', `${asNumber(w.utilization) ?? '-'} (busy slot time / slot time while jobs were submitted)`],
    ['response ratio', quantilesText(w['response-ratio'])],
    ['ideal response ratio', `${quantilesText(asMap(results.glomers.workload)['ideal-response-ratio'])} (one global FIFO queue onto every slot, no messages, same submits)`],
    ['queue delay', quantilesText(w['queue-delay-ms'], ' ms')],
    ['refused runs', `${count(results, 'refused-count')} (exec had no free slot)`],
    ['killed runs', `${count(results, 'killed-count')}, ${((asNumber(w['killed-slot-ms']) ?? 0) / 1000).toFixed(1)} slot-seconds wasted`],
  ];
}

function render(results: Results): string {
  const table = rows(results)
    .map(([name, text]) => `<tr><th>${escapeXml(name)}</th><td>${escapeXml(text)}</td></tr>`)
    .join('');
  return ['<h2>Scheduling</h2>', `<table class="view">${table}</table>`].join('\n');
}

function summary(results: Results): string[] {
  const w = results.workload;
  const ratio = asMap(w['response-ratio']);
  const delay = asMap(w['queue-delay-ms']);
  const ideal = asMap(asMap(results.glomers.workload)['ideal-response-ratio']);
  return [
    `sched: efficiency ${asNumber(w.efficiency) ?? '-'}, utilization ${asNumber(w.utilization) ?? '-'}; response ratio median ${asNumber(ratio['0.5']) ?? '-'}, p99 ${asNumber(ratio['0.99']) ?? '-'} (ideal ${asNumber(ideal['0.5']) ?? '-'}, ${asNumber(ideal['0.99']) ?? '-'}); queue delay p99 ${asNumber(delay['0.99']) ?? '-'} ms; lost ${count(results, 'lost-count')}, phantom ${count(results, 'phantom-count')}, ran-after-failure ${count(results, 'ran-after-failure-count')}, duplicated ${count(results, 'duplicated-count')}; refused ${count(results, 'refused-count')}, killed ${count(results, 'killed-count')}`,
  ];
}

export const schedView: WorkloadView = { render, summary };
