// report.html: one self-contained page (inline SVG and CSS, no scripts, no external assets)
// with a summary table, latency and rate plots, and a message-flow diagram. Everything a node
// could have chosen (body types, ids, stderr, error texts) goes through escapeXml.

import type { Json, Op, RunOutput } from '../types.js';
import type { Results } from '../check/results-types.js';
import { faultSpans } from '../check/faults.js';
import { completedCalls } from '../check/explain.js';
import { workloadViewHtml } from './views/index.js';
import { explanationHtml, failureBrief, failuresHtml, latencyTableHtml, nemesisHtml } from './explain-html.js';
import { LATENESS_NOT_MEASURED, latencyByF, neverOkHeader, operationsText, quantile, SECTION_NAMES, sortedNumbers } from './figures.js';
import { mainDiagramHtml, windowHtml, type MessageWindow } from './messages.js';
import {
  axes,
  bands,
  dashFor,
  escapeXml,
  legend,
  makeFrame,
  marker,
  niceStep,
  px,
  svgOpen,
  xPx,
  yPx,
  type FaultKind,
  type LegendEntry,
  type PlotFrame,
} from './svg.js';

/** Points beyond this in the latency scatter are thinned evenly, to keep the page light. */
const SCATTER_POINT_LIMIT = 20_000;
const NS_PER_S = 1e9;
const NS_PER_MS = 1e6;

const TYPE_COLOURS: Record<string, string> = { ok: '#2563eb', info: '#f59e0b', fail: '#dc2626' };
const QUANTILES: Array<{ q: number; label: string; colour: string }> = [
  { q: 0.5, label: '0.5', colour: '#2563eb' },
  { q: 0.95, label: '0.95', colour: '#059669' },
  { q: 0.99, label: '0.99', colour: '#d97706' },
  { q: 1, label: 'max', colour: '#dc2626' },
];

// ---------------------------------------------------------------------------------------------
// Data derived from the history

export interface CompletedOp {
  f: string;
  type: 'ok' | 'info' | 'fail';
  startS: number;
  endS: number;
  latencyMs: number;
}

/** Each client invocation with its completion, in seconds and milliseconds. */
export function completedOps(history: Op[]): CompletedOp[] {
  return completedCalls(history).map(({ invoke, completion }) => ({
    f: invoke.f,
    type: completion.type as CompletedOp['type'],
    startS: invoke.time / NS_PER_S,
    endS: completion.time / NS_PER_S,
    latencyMs: (completion.time - invoke.time) / NS_PER_MS,
  }));
}

/** A span of the test during which a fault held, in seconds. */
export interface FaultInterval {
  from: number;
  to: number;
  kind: FaultKind;
}

/**
 * Fault bands (seconds) for the plots: the nemesis's spans (check/faults.ts), overlapping spans of
 * one kind merged, so a pause of three nodes is one band.
 */
export function faultIntervals(history: readonly Op[], endS: number, clusterSize = 0): FaultInterval[] {
  const spans = faultSpans(history, endS * NS_PER_S, clusterSize);
  const merged: FaultInterval[] = [];
  for (const kind of ['partition', 'kill', 'pause'] as const) {
    let open: FaultInterval | undefined;
    for (const span of spans.filter((s) => s.kind === kind)) {
      const from = span.fromNs / NS_PER_S;
      const to = span.toNs / NS_PER_S;
      if (open !== undefined && from <= open.to) open.to = Math.max(open.to, to);
      else {
        if (open !== undefined) merged.push(open);
        open = { from, to, kind };
      }
    }
    if (open !== undefined) merged.push(open);
  }
  return merged.sort((a, b) => a.from - b.from);
}

/** Partition intervals only (seconds). */
export function partitionIntervals(history: readonly Op[], endS: number): FaultInterval[] {
  return faultIntervals(history, endS).filter((interval) => interval.kind === 'partition');
}

function faultLegend(faults: readonly FaultInterval[]): string {
  const names: Record<FaultKind, string> = { partition: 'network partitions (red)', kill: 'nodes killed (grey)', pause: 'nodes paused (blue)' };
  return [...new Set(faults.map((f) => f.kind))].map((kind) => names[kind]).join(', ');
}

function distinctSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}


function logBounds(values: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = 0;
  for (const v of values) {
    if (v > 0 && v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) return { min: 0.1, max: 10 };
  const low = 10 ** Math.floor(Math.log10(min));
  const high = 10 ** Math.ceil(Math.log10(Math.max(max, low * 10)));
  return { min: low, max: high === low ? low * 10 : high };
}

function emptyNote(frame: PlotFrame, text: string): string {
  return `<text x="${px(frame.leftPx + 20)}" y="${px(frame.topPx + 30)}" class="note">${escapeXml(text)}</text>`;
}

/** One time plot: frame, partition bands, axes, the marks (or a note when there are none), legend. */
function timePlot(
  id: string,
  frame: PlotFrame,
  faults: FaultInterval[],
  labels: { title: string; x: string; y: string },
  marks: string[],
  entries: LegendEntry[],
): string {
  return (
    svgOpen(frame, id) +
    bands(frame, faults) +
    axes(frame, labels.title, labels.x, labels.y) +
    (marks.length === 0 ? emptyNote(frame, 'no completed client operations') : marks.join('')) +
    legend(frame, entries) +
    '</svg>'
  );
}

function lineSwatch(colour: string, widthPx: number, dash = ''): string {
  return `<line x1="0" y1="0" x2="10" y2="0" stroke="${colour}" stroke-width="${widthPx}"${dash}/>`;
}

/** Legend entries telling the operation functions apart by dash pattern. */
function dashEntries(fs: string[]): LegendEntry[] {
  return fs.map((f, fIndex) => ({ label: f, swatch: lineSwatch('#444', 1.6, dashFor(fIndex)) }));
}

// ---------------------------------------------------------------------------------------------
// Plots

function latencyScatter(ops: CompletedOp[], durationS: number, partitions: FaultInterval[]): string {
  const bounds = logBounds(ops.map((op) => op.latencyMs));
  const frame = makeFrame(durationS, bounds.min, bounds.max, true);
  const fs = distinctSorted(ops.map((op) => op.f));
  const stride = Math.max(1, Math.ceil(ops.length / SCATTER_POINT_LIMIT));
  const points: string[] = [];
  for (let i = 0; i < ops.length; i += stride) {
    const op = ops[i] as CompletedOp;
    const colour = TYPE_COLOURS[op.type] ?? '#666';
    points.push(marker(fs.indexOf(op.f), xPx(frame, op.startS), yPx(frame, Math.max(op.latencyMs, bounds.min)), colour, 2.5));
  }
  const entries: LegendEntry[] = [];
  for (const f of fs) entries.push({ label: f, swatch: marker(fs.indexOf(f), 4, 0, '#444', 4) });
  for (const type of ['ok', 'info', 'fail']) {
    entries.push({ label: type, swatch: `<rect x="0" y="-4" width="8" height="8" fill="${TYPE_COLOURS[type]}"/>` });
  }
  const title = stride > 1 ? `Latency (raw, every ${stride}th op shown)` : 'Latency (raw)';
  return timePlot('latency-raw', frame, partitions, { title, x: 'Time (s) at invocation', y: 'Latency (ms, log)' }, points, entries);
}

function bucketWidthS(durationS: number): number {
  return Math.max(0.1, niceStep(durationS, 30));
}

function latencyQuantiles(ops: CompletedOp[], durationS: number, partitions: FaultInterval[]): string {
  const widthS = bucketWidthS(durationS);
  const fs = distinctSorted(ops.map((op) => op.f));
  const byF = new Map<string, Map<number, number[]>>();
  for (const op of ops) {
    const bucket = Math.floor(op.startS / widthS);
    let buckets = byF.get(op.f);
    if (!buckets) byF.set(op.f, (buckets = new Map()));
    let list = buckets.get(bucket);
    if (!list) buckets.set(bucket, (list = []));
    list.push(op.latencyMs);
  }
  const bounds = logBounds(ops.map((op) => op.latencyMs));
  const frame = makeFrame(durationS, bounds.min, bounds.max, true);
  const lines: string[] = [];
  for (const [fIndex, f] of fs.entries()) {
    const buckets = [...(byF.get(f) ?? new Map<number, number[]>()).entries()].sort((a, b) => a[0] - b[0]);
    const sortedBuckets = buckets.map(([bucket, list]) => [bucket, sortedNumbers(list)] as const);
    // max first, so the median is drawn on top where quantiles coincide
    for (const { q, colour } of [...QUANTILES].reverse()) {
      // a gap in the buckets (no operations of this f) breaks the line rather than bridging it
      let segment: string[] = [];
      let previousBucket = Number.NaN;
      const flush = (): void => {
        if (segment.length === 1) segment.push(segment[0] as string);
        if (segment.length > 0) {
          lines.push(`<polyline points="${segment.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-linecap="round"${dashFor(fIndex)}/>`);
        }
        segment = [];
      };
      for (const [bucket, sorted] of sortedBuckets) {
        if (bucket !== previousBucket + 1) flush();
        previousBucket = bucket;
        const x = xPx(frame, Math.min(durationS, (bucket + 0.5) * widthS));
        const y = yPx(frame, Math.max(quantile(sorted, q), bounds.min));
        segment.push(`${px(x)},${px(y)}`);
      }
      flush();
    }
  }
  const entries: LegendEntry[] = [
    ...QUANTILES.map(({ label, colour }) => ({ label, swatch: lineSwatch(colour, 2) })),
    ...dashEntries(fs),
  ];
  const labels = { title: `Latency quantiles (${widthS} s buckets)`, x: 'Time (s) at invocation', y: 'Latency (ms, log)' };
  return timePlot('latency-quantiles', frame, partitions, labels, ops.length === 0 ? [] : lines, entries);
}

function ratePlot(ops: CompletedOp[], durationS: number, partitions: FaultInterval[]): string {
  const widthS = bucketWidthS(durationS);
  const bucketCount = Math.max(1, Math.ceil(durationS / widthS));
  const fs = distinctSorted(ops.map((op) => op.f));
  const series = new Map<string, number[]>();
  for (const op of ops) {
    const key = `${op.f}\u0000${op.type}`;
    let counts = series.get(key);
    if (!counts) series.set(key, (counts = new Array<number>(bucketCount).fill(0)));
    const bucket = Math.min(bucketCount - 1, Math.floor(op.endS / widthS));
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  let maxRate = 0;
  for (const counts of series.values()) for (const c of counts) maxRate = Math.max(maxRate, c / widthS);
  const frame = makeFrame(durationS, 0, maxRate > 0 ? maxRate * 1.1 : 1, false);
  const lines: string[] = [];
  for (const [key, counts] of [...series.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const [f, type] = key.split('\u0000') as [string, string];
    const coords = counts.map((c, bucket) => `${px(xPx(frame, Math.min(durationS, (bucket + 0.5) * widthS)))},${px(yPx(frame, c / widthS))}`);
    lines.push(
      `<polyline points="${coords.join(' ')}" fill="none" stroke="${TYPE_COLOURS[type] ?? '#666'}" stroke-width="1.6"${dashFor(fs.indexOf(f))}><title>${escapeXml(`${f} ${type}`)}</title></polyline>`,
    );
  }
  const entries: LegendEntry[] = [
    ...['ok', 'info', 'fail'].map((type) => ({ label: type, swatch: lineSwatch(TYPE_COLOURS[type] ?? '#666', 2) })),
    ...dashEntries(fs),
  ];
  const labels = { title: `Completion rate (${widthS} s buckets)`, x: 'Time (s)', y: 'Operations / s' };
  return timePlot('rate', frame, partitions, labels, ops.length === 0 ? [] : lines, entries);
}

// ---------------------------------------------------------------------------------------------
// Summary table

function validityBadge(value: unknown): string {
  const text = value === true ? 'true' : value === false ? 'false' : String(value);
  const cls = value === true ? 'good' : value === false ? 'bad' : 'unknown';
  return `<span class="badge ${cls}">${escapeXml(text)}</span>`;
}

function isMap(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

function cell(value: Json | undefined): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return escapeXml(value);
  return escapeXml(JSON.stringify(value));
}

function netTable(net: Results['net']): string {
  const rows = ['all', 'clients', 'servers']
    .map((scope) => {
      const counts = net[scope];
      if (!isMap(counts)) return '';
      return `<tr><th>${scope}</th><td>${cell(counts['send-count'])}</td><td>${cell(counts['recv-count'])}</td><td>${cell(counts['msg-count'])}</td><td>${cell(counts['msgs-per-op'])}</td></tr>`;
    })
    .join('');
  return `<table class="inner"><tr><th></th><th>sends</th><th>recvs</th><th>messages</th><th>msgs-per-op</th></tr>${rows}</table>`;
}

function stableLatencies(results: Results): string | undefined {
  const latencies = results.workload['stable-latencies'];
  if (!isMap(latencies)) return undefined;
  const keys = Object.keys(latencies).sort((a, b) => Number(a) - Number(b));
  const head = keys.map((k) => `<th>${escapeXml(k)}</th>`).join('');
  const body = keys.map((k) => `<td>${cell(latencies[k])}</td>`).join('');
  return `<table class="inner"><tr>${head}</tr><tr>${body}</tr></table>`;
}

function problemsHtml(run: RunOutput): string {
  if (run.problems.length === 0) return 'none';
  return run.problems
    .map((p) => {
      const status = [
        p.exitCode !== undefined && p.exitCode !== null ? `exit ${p.exitCode}` : '',
        p.signal ? `signal ${p.signal}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      const tail = p.stderrTail.length > 0 ? `<pre>${escapeXml(p.stderrTail.join('\n'))}</pre>` : '';
      return `<div class="problem"><b>${escapeXml(p.node)}</b> ${escapeXml(p.kind)}${status ? ` (${escapeXml(status)})` : ''}: ${escapeXml(p.detail)}${tail}</div>`;
    })
    .join('');
}

function summaryTable(results: Results, run: RunOutput): string {
  const { opts, lateness } = run;
  const sections = SECTION_NAMES
    .map((name) => `<td>${escapeXml(name)} ${validityBadge(results[name]['valid?'])}</td>`)
    .join('');
  const rows: Array<[string, string]> = [
    ['valid?', validityBadge(results['valid?'])],
    ['checkers', `<table class="inner"><tr>${sections}</tr></table>`],
    [
      'test',
      escapeXml(
        `${opts.workload}: ${opts.nodes.length} nodes, concurrency ${opts.concurrency}, ${opts.timeLimitS} s at ${opts.rate}/s, ` +
          `latency ${opts.latencyMs} ms ${opts.latencyDist}, nemesis ${opts.nemesis.length > 0 ? opts.nemesis.join(',') : 'none'}, seed ${opts.seed}`,
      ),
    ],
    ['why', `${escapeXml(results.glomers.explanation.headline)} <a href="#why">(more)</a>`],
    ['operations', escapeXml(operationsText(results))],
    ['latency (ms)', latencyTableHtml(latencyByF(run.history))],
    ['errors', failureBrief(results.glomers.failures)],
    ['net', netTable(results.net)],
  ];
  const latencies = stableLatencies(results);
  if (latencies) rows.push(['stable latencies (ms)', latencies]);
  rows.push([
    'network lateness',
    escapeXml(
      lateness.measured === false
        ? LATENESS_NOT_MEASURED
        : `${lateness.deliveries} deliveries; p50 ${Number(lateness.p50Ms.toFixed(3))} ms, p99 ${Number(lateness.p99Ms.toFixed(3))} ms, max ${Number(lateness.maxMs.toFixed(3))} ms` +
        (lateness.behind ? ' — the harness fell behind; latencies are distorted' : ''),
    ),
  ]);
  rows.push(['node problems', problemsHtml(run)]);
  rows.push(['store', escapeXml(run.storeDir)]);
  return `<table class="summary">${rows.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#111;background:#fff}
h1{font-size:20px;margin:0 0 12px}
h2{font-size:16px;margin:28px 0 6px}
table.summary{border-collapse:collapse;font-size:13px}
table.summary>tbody>tr>th{text-align:left;vertical-align:top;padding:5px 12px 5px 0;color:#444;white-space:nowrap}
table.summary>tbody>tr>td{padding:5px 0}
table.inner{border-collapse:collapse}
table.inner th,table.inner td{border:1px solid #ddd;padding:2px 8px;text-align:right;font-weight:normal}
table.inner th{background:#f5f5f5}
.badge{display:inline-block;padding:0 7px;border-radius:8px;font-weight:600;color:#fff}
.badge.good{background:#16a34a}.badge.bad{background:#dc2626}.badge.unknown{background:#d97706}
.problem{margin:2px 0 8px}
pre{background:#f6f6f6;border:1px solid #e3e3e3;padding:6px;margin:4px 0;font-size:12px;max-height:220px;overflow:auto}
.scroll{overflow:auto;max-width:100%;border:1px solid #eee}
svg text{font-family:inherit}
.grid{stroke:#eee}.frame{fill:none;stroke:#999}
.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}.title{font-size:14px;font-weight:600;fill:#111}
.legend{font-size:12px;fill:#222}.note{font-size:13px;fill:#888}
.partition{fill:#fca5a5;fill-opacity:.28}.kill{fill:#9ca3af;fill-opacity:.3}.pause{fill:#93c5fd;fill-opacity:.3}
.node{font-size:12px;font-weight:600;fill:#111}
.lifeline{stroke:#bbb;stroke-width:1}
.msg line{stroke:#2563eb;stroke-width:1}.msg.client line{stroke:#16a34a}.msg.dropped line{stroke:#dc2626;stroke-dasharray:3 2}
.msglabel{font-size:8px;fill:#333}.drop{font-size:10px;fill:#dc2626}
.msg.carries line{stroke:#ea580c;stroke-width:2.6}.msg.carries .msglabel{font-weight:700;fill:#9a3412}
.headline{font-size:14px;font-weight:600;margin:6px 0}
.facts{font-size:13px;margin:4px 0 10px;padding-left:28px}.facts li{margin:3px 0}
.when{color:#666;font-size:12px}.caption{font-size:12px;color:#444;margin:2px 0 12px}.fact{font-size:13px;margin:2px 0}
table.list{border-collapse:collapse;font-size:12px;margin:6px 0}table.list th,table.list td{border:1px solid #ddd;padding:2px 6px;vertical-align:top}
table.list th{background:#f5f5f5}table.list td.text{max-width:360px;word-break:break-word}
h3{font-size:14px;margin:18px 0 4px}
`;

/** The whole report page; `windows` are the journal around the explanation's facts (see messages.ts). */
export function renderReportHtml(results: Results, run: RunOutput, windows: readonly MessageWindow[] = []): string {
  const ops = completedOps(run.history);
  let lastNs = 0;
  for (const op of run.history) lastNs = Math.max(lastNs, op.time);
  const durationS = Math.max(1, lastNs / NS_PER_S);
  const faults = faultIntervals(run.history, durationS, run.opts.nodes.length);
  const spans = faultSpans(run.history, lastNs, run.opts.nodes.length);
  const title = `${run.opts.workload} — ${results['valid?'] === true ? 'valid' : results['valid?'] === false ? 'INVALID' : 'unknown'}`;
  const windowed = new Set(windows.map((w) => w.factIndex));
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(`glomers: ${title}`)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeXml(`glomers report: ${title}`)}</h1>`,
    summaryTable(results, run),
    faults.length > 0 ? `<p class="legend">Shaded bands: ${faultLegend(faults)}.</p>` : '',
    // why the verdict is what it is comes first: the checker's explanation, then the errors
    explanationHtml(results.glomers.explanation, durationS, faults, windowed),
    failuresHtml(results.glomers.failures, durationS, faults, neverOkHeader(results)),
    workloadViewHtml(results, run),
    '<h2 id="latency">Latency and the nemesis</h2>',
    nemesisHtml(results, spans, run.opts.nodes, durationS),
    `<div class="scroll">${latencyScatter(ops, durationS, faults)}</div>`,
    `<div class="scroll">${latencyQuantiles(ops, durationS, faults)}</div>`,
    '<h2>Rate</h2>',
    `<div class="scroll">${ratePlot(ops, durationS, faults)}</div>`,
    '<h2 id="messages-section">Messages</h2>',
    mainDiagramHtml(run.journalHead, run.netCounts.all.sends),
    ...windows.map(windowHtml),
    '</body></html>',
    '',
  ].join('\n');
}
