// The sections of report.html that say why: the checker's explanation (headline, facts that link
// to the messages around them, its plots), the failed and indefinite operations by error, and the
// nemesis node by node on the same time axis as the latency plots.

import type { Explanation, Plot } from '../check/explain.js';
import type { FailureSummary } from '../check/exceptions.js';
import { partitionShapesText, type FaultSpan } from '../check/faults.js';
import type { Results } from '../check/results-types.js';
import { failureGroupText, LATENCY_POINTS, msText, type LatencyRow } from './figures.js';
import { axes, bands, escapeXml, legend, makeFrame, niceStep, plotWidth, px, svgOpen, xPx, yPx, type LegendEntry, type PlotFrame } from './svg.js';

export interface Band {
  from: number;
  to: number;
  kind: FaultSpan['kind'];
}

/** One of the explanation's plots: dots, lines or steps over the test's time, fault bands behind. */
export function plotSvg(plot: Plot, durationS: number, faults: readonly Band[]): string {
  const ys = plot.series.flatMap((s) => s.points.map(([, y]) => y));
  const yMin = plot.logY === true ? Math.max(0.1, Math.min(...ys.filter((y) => y > 0), 1)) : Math.min(0, ...ys);
  const yMax = Math.max(yMin + 1, ...ys) * 1.05;
  const frame = makeFrame(durationS, yMin, yMax, plot.logY === true);
  const marks: string[] = [];
  const entries: LegendEntry[] = [];
  for (const series of plot.series) {
    const colour = series.colour ?? '#444';
    const points = series.points.map(([x, y]) => [xPx(frame, Math.min(x, durationS)), yPx(frame, y)] as const);
    if (series.style === 'dots') {
      for (const [x, y] of points) marks.push(`<circle cx="${px(x)}" cy="${px(y)}" r="2.6" fill="${colour}" fill-opacity="0.75"/>`);
      entries.push({ label: series.label, swatch: `<circle cx="4" cy="0" r="3.5" fill="${colour}"/>` });
      continue;
    }
    const coords = series.style === 'steps' ? points.flatMap(([x, y], k) => (k === 0 ? [[x, y]] : [[x, points[k - 1]?.[1] ?? y], [x, y]])) : points;
    if (series.style === 'steps' && points.length > 0) coords.push([xPx(frame, durationS), points[points.length - 1]?.[1] ?? 0]);
    marks.push(`<polyline points="${coords.map(([x, y]) => `${px(x)},${px(y)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="1.6"/>`);
    entries.push({ label: series.label, swatch: `<line x1="0" y1="0" x2="10" y2="0" stroke="${colour}" stroke-width="2"/>` });
  }
  const empty = marks.length === 0 ? `<text x="${px(frame.leftPx + 20)}" y="${px(frame.topPx + 30)}" class="note">nothing to plot</text>` : '';
  return `${svgOpen(frame, plot.id)}${bands(frame, faults)}${axes(frame, plot.title, 'Time (s)', plot.yLabel)}${marks.join('')}${empty}${legend(frame, entries)}</svg>`;
}

/** The explanation: headline, facts (linked to their message windows), plots with captions. */
export function explanationHtml(explanation: Explanation, durationS: number, faults: readonly Band[], windowed: ReadonlySet<number>): string {
  const facts = explanation.facts.map((fact, k) => {
    const when = fact.atNs === undefined ? '' : ` <span class="when">${(fact.atNs / 1e9).toFixed(3)} s</span>`;
    const link = windowed.has(k) ? ` <a href="#messages-${k}">messages around it</a>` : '';
    return `<li>${escapeXml(fact.text)}${when}${link}</li>`;
  });
  const more = explanation.factCount > explanation.facts.length ? `<p class="cap">${explanation.factCount - explanation.facts.length} more facts are left out.</p>` : '';
  const plots = explanation.plots.map((plot) => `<div class="scroll">${plotSvg(plot, durationS, faults)}</div><p class="caption">${escapeXml(plot.caption)}</p>`);
  return [
    '<h2 id="why">Why</h2>',
    `<p class="headline">${escapeXml(explanation.headline)}</p>`,
    facts.length > 0 ? `<ol class="facts">${facts.join('')}</ol>` : '',
    more,
    ...plots,
  ].join('\n');
}

/** When each kind of error happened: one row per error, a tick per operation. */
function failureStrip(failures: FailureSummary, durationS: number, faults: readonly Band[]): string {
  const groups = failures.groups.slice(0, 10);
  const rowPx = 22;
  const frame: PlotFrame = { ...makeFrame(durationS, 0, 1, false), heightPx: 34 + 46 + rowPx * groups.length + 10 };
  const rows = groups.map((group, k) => {
    const y = frame.topPx + 10 + k * rowPx;
    const ticks = group['times-s'].map((t) => `<line x1="${px(xPx(frame, Math.min(t, durationS)))}" y1="${y - 7}" x2="${px(xPx(frame, Math.min(t, durationS)))}" y2="${y + 7}" stroke="${group['info-count'] > group['fail-count'] ? '#f59e0b' : '#dc2626'}" stroke-width="1.2"/>`);
    const label = `${group.count}× ${group.error}`;
    return `<text x="${px(frame.leftPx + plotWidth(frame) + 8)}" y="${y + 4}" class="legend">${escapeXml(label.length > 26 ? `${label.slice(0, 25)}…` : label)}</text>${ticks.join('')}`;
  });
  return `${svgOpen(frame, 'failures')}${bands(frame, faults)}${timeAxis(frame, 'When operations failed (red: fail, amber: info)')}${rows.join('')}</svg>`;
}

/** Frame, x grid and ticks, and a title, for plots whose rows are not a y scale. */
function timeAxis(frame: PlotFrame, title: string): string {
  const bottom = frame.heightPx - frame.bottomPx;
  const parts = [`<rect x="${frame.leftPx}" y="${frame.topPx}" width="${px(plotWidth(frame))}" height="${px(bottom - frame.topPx)}" class="frame"/>`];
  const step = Math.max(0.1, niceStep(frame.xMax, 10));
  for (let t = 0; t <= frame.xMax + step * 1e-9; t += step) {
    const x = px(xPx(frame, t));
    parts.push(`<line x1="${x}" y1="${frame.topPx}" x2="${x}" y2="${bottom}" class="grid"/><text x="${x}" y="${bottom + 16}" text-anchor="middle" class="tick">${Number(t.toPrecision(3))}</text>`);
  }
  parts.push(`<text x="${frame.leftPx}" y="20" class="title">${escapeXml(title)}</text>`);
  parts.push(`<text x="${px(frame.leftPx + plotWidth(frame) / 2)}" y="${bottom + 34}" text-anchor="middle" class="label">Time (s)</text>`);
  return parts.join('');
}

/** Failed and indefinite operations by error: a table with an example of each, and when they happened. */
export function failuresHtml(failures: FailureSummary, durationS: number, faults: readonly Band[], neverOkHeader: string): string {
  if (failures.groups.length === 0 && failures['never-ok'].length === 0) return '';
  const rows = failures.groups.map(
    (g) =>
      `<tr><td>${g.count}</td><td>${escapeXml(g.error)}</td><td class="text">${escapeXml(g.text ?? '')}</td><td>${g['fail-count']}</td><td>${g['info-count']}</td>` +
      `<td>${escapeXml(g.fs.join(', '))}</td><td>${escapeXml(g.nodes.join(' '))}</td><td>${g['first-s'].toFixed(2)}–${g['last-s'].toFixed(2)} s</td><td class="text">${escapeXml(g.example)}</td></tr>`,
  );
  return [
    '<h2 id="failures">Failed and indefinite operations</h2>',
    failures['never-ok'].length > 0 ? `<p class="headline">${escapeXml(neverOkHeader)}:</p><ul class="facts">${failures['never-ok'].map((sentence) => `<li>${escapeXml(sentence)}</li>`).join('')}</ul>` : '',
    `<p>${failures['fail-count']} operations failed and ${failures['info-count']} are indefinite (info).</p>`,
    failures.groups.length > 0
      ? `<table class="list"><tr><th>count</th><th>error</th><th>text</th><th>fail</th><th>info</th><th>f</th><th>nodes</th><th>when</th><th>first example</th></tr>${rows.join('')}</table>`
      : '',
    failures.groups.length > 0 ? `<div class="scroll">${failureStrip(failures, durationS, faults)}</div>` : '',
  ].join('\n');
}

const LANE_COLOURS: Record<FaultSpan['kind'], string> = { partition: '#f87171', kill: '#6b7280', pause: '#60a5fa' };

/** The nemesis node by node: a lane per node, a bar while it was cut off from the majority, down or paused. */
export function nemesisLanesSvg(spans: readonly FaultSpan[], nodes: readonly string[], durationS: number): string {
  const rowPx = nodes.length > 15 ? 12 : 20;
  const frame: PlotFrame = { ...makeFrame(durationS, 0, 1, false), heightPx: 34 + 46 + rowPx * (nodes.length + 1) };
  const laneY = (k: number): number => frame.topPx + rowPx * (k + 0.5);
  const bars: string[] = [];
  const labels = nodes.map((node, k) => `<text x="${frame.leftPx - 6}" y="${px(laneY(k) + 4)}" text-anchor="end" class="tick">${escapeXml(node)}</text>`);
  for (const span of spans) {
    const x1 = xPx(frame, span.fromNs / 1e9);
    const x2 = xPx(frame, Math.min(durationS, span.toNs / 1e9));
    const title = `${span.kind}${span.shape === undefined ? '' : ` (${span.shape})`} ${(span.fromNs / 1e9).toFixed(2)}–${(span.toNs / 1e9).toFixed(2)} s`;
    // A partition that isolates nobody from the majority (a ring) still shows, as a thin bar on every lane.
    const hit = span.kind === 'partition' && span.nodes.length === 0 ? nodes : span.nodes;
    const thin = span.kind === 'partition' && span.nodes.length === 0;
    for (const node of hit) {
      const k = nodes.indexOf(node);
      if (k < 0) continue;
      const h = thin ? 3 : rowPx * 0.7;
      bars.push(`<rect x="${px(x1)}" y="${px(laneY(k) - h / 2)}" width="${px(Math.max(1, x2 - x1))}" height="${px(h)}" fill="${LANE_COLOURS[span.kind]}"><title>${escapeXml(`${node}: ${title}`)}</title></rect>`);
    }
  }
  const entries: LegendEntry[] = [
    { label: 'cut off from majority', swatch: `<rect x="0" y="-4" width="10" height="8" fill="${LANE_COLOURS.partition}"/>` },
    { label: 'partitioned (no minority)', swatch: `<rect x="0" y="-1" width="10" height="3" fill="${LANE_COLOURS.partition}"/>` },
    { label: 'killed', swatch: `<rect x="0" y="-4" width="10" height="8" fill="${LANE_COLOURS.kill}"/>` },
    { label: 'paused', swatch: `<rect x="0" y="-4" width="10" height="8" fill="${LANE_COLOURS.pause}"/>` },
  ];
  return `${svgOpen(frame, 'nemesis')}${timeAxis(frame, 'Nemesis, node by node')}${labels.join('')}${bars.join('')}${legend(frame, entries)}</svg>`;
}

/** The nemesis section: per node seconds isolated, down and paused, and the lanes. */
export function nemesisHtml(results: Results, spans: readonly FaultSpan[], nodes: readonly string[], durationS: number): string {
  const n = results.glomers.nemesis;
  if (spans.length === 0 && n.partitions + n.kills + n.pauses === 0) return '';
  const shapes = partitionShapesText(n);
  const head = nodes.map((node) => `<th>${escapeXml(node)}</th>`).join('');
  const row = (label: string, perNode: { [node: string]: number }): string => `<tr><th>${label}</th>${nodes.map((node) => `<td>${perNode[node] === undefined ? '' : perNode[node].toFixed(1)}</td>`).join('')}</tr>`;
  // nothing to tabulate or draw when every fault left every node alone (partitions that cut no link)
  const perNode = [n['isolated-s'], n['down-s'], n['paused-s']].some((m) => Object.keys(m).length > 0);
  return [
    `<p>${escapeXml(`${n.partitions} partitions held for ${n['partitioned-s'].toFixed(1)} s${shapes ? ` (${shapes})` : ''}; ${n.kills} kills (${n['nodes-killed']} processes, ${n.restarts} restarted); ${n.pauses} pauses (${n['nodes-paused']} nodes).`)}</p>`,
    perNode
      ? `<div class="scroll"><table class="inner"><tr><th>seconds</th>${head}</tr>${row('cut off from majority', n['isolated-s'])}${row('down', n['down-s'])}${row('paused', n['paused-s'])}</table></div>`
      : '<p>No node was cut off from the majority, down or paused.</p>',
    spans.length > 0 ? `<div class="scroll">${nemesisLanesSvg(spans, nodes, durationS)}</div>` : '',
  ].join('\n');
}

/** Latency quantiles by f, as a small table for the summary. */
export function latencyTableHtml(rows: readonly LatencyRow[]): string {
  if (rows.length === 0) return 'no ok operations';
  const head = LATENCY_POINTS.map(([label]) => `<th>${label}</th>`).join('');
  const body = rows.map((row) => `<tr><th>${escapeXml(row.f)}</th>${row.quantiles.map((q) => `<td>${msText(q)}</td>`).join('')}<td>${row.count}</td></tr>`).join('');
  return `<table class="inner"><tr><th>f</th>${head}<th>ok</th></tr>${body}</table>`;
}

/** The commonest errors in one line each, for the summary table. */
export function failureBrief(failures: FailureSummary): string {
  if (failures.groups.length === 0) return 'none';
  return failures.groups.slice(0, 3).map((g) => escapeXml(failureGroupText(g))).join('<br>') + ' <a href="#failures">(all)</a>';
}

