// The lin-kv view, after Porcupine's visualiser: for a key that is not linearizable, its
// operations as bars on one row per process (x is the order of invocations and completions, so
// short operations stay visible), the longest linearizable prefix found (bars in blue, numbered
// in their linearization order with the register's value after each), and the operation that
// cannot be placed (red) with the values the register could hold at that point. The data is each
// key's `explanation` in results.workload.results (src/harness/check/checkers/linearizable/report.ts).

import type { Json } from '../../types.js';
import type { Results } from '../../check/results-types.js';
import { escapeXml, px } from '../svg.js';
import { asArray, asMap, asNumber, asString, boundLines, capNote, clip, isMap, seconds, showValue, SUMMARY_LINE_LIMIT, type JsonMap } from './common.js';
import type { ViewContext, WorkloadView } from './types.js';
import { nodeOfProcess } from '../../check/explain.js';

/** The node a process's operations went to (each node keeps its own copy of the register, or should not). */
type NodeOf = (process: number) => string;

/** Bars drawn per key: a window of operations around the one that cannot be placed. */
export const BAR_LIMIT = 40;
/** Of those, at most this many invoked after the blocked one (the ones concurrent with it matter). */
const BARS_AFTER = 6;
/** Keys drawn; every failing key is still named in words. */
export const DRAWN_KEY_LIMIT = 3;
/** Keys named in words. */
export const LISTED_KEY_LIMIT = 50;
/** Steps of the linearized prefix listed in the table (the last ones, nearest the failure). */
export const PREFIX_ROWS = 15;

const ROW_PX = 34;
const STEP_MIN_PX = 28;
const CHAR_PX = 6.2;
const LEFT_PX = 90;
const TOP_PX = 16;
const RIGHT_PX = 90;

export interface Bar {
  id: number;
  process: number;
  invokeNs: number;
  completeNs: number | null;
  f: string;
  value: Json;
  type: string;
}

export interface KeyExplanation {
  key: Json;
  summary: string;
  bars: Bar[];
  /** the key's operations in all, and the position of the first of `bars` among them (the checker keeps a window) */
  barCount: number;
  barsFrom: number;
  prefix: Array<{ id: number; valueAfter: Json }>;
  requiredBefore: number;
  blockedOp: number;
  possibleValues: Json[];
}

function readExplanation(x: JsonMap): KeyExplanation {
  const bars: Bar[] = [];
  for (const b of asArray(x['bars'])) {
    if (!isMap(b)) continue;
    const id = asNumber(b['id']);
    const invokeNs = asNumber(b['invoke-ns']);
    if (id === undefined || invokeNs === undefined) continue;
    bars.push({
      id,
      process: asNumber(b['process']) ?? -1,
      invokeNs,
      completeNs: asNumber(b['complete-ns']) ?? null,
      f: asString(b['f']) ?? '?',
      value: b['value'] ?? null,
      type: asString(b['type']) ?? '?',
    });
  }
  return {
    key: x['key'] ?? null,
    summary: asString(x['summary']) ?? '',
    bars,
    barCount: asNumber(x['bar-count']) ?? bars.length,
    barsFrom: asNumber(x['bars-from']) ?? 0,
    prefix: asArray(x['linearized-prefix'])
      .filter(isMap)
      .map((p) => ({ id: asNumber(p['id']) ?? -1, valueAfter: p['value-after'] ?? null })),
    requiredBefore: asNumber(x['required-before']) ?? 0,
    blockedOp: asNumber(x['blocked-op']) ?? -1,
    possibleValues: asArray(x['possible-values']),
  };
}

interface KeyOutcome {
  name: string;
  validity: Json;
  explanation: KeyExplanation | undefined;
  cause: string | undefined;
}

function keyOutcomes(results: Results): KeyOutcome[] {
  const out: KeyOutcome[] = [];
  for (const [name, r] of Object.entries(asMap(results.workload['results']))) {
    if (!isMap(r) || r['valid?'] === true) continue;
    const lin = asMap(r['linearizable']);
    out.push({
      name,
      validity: r['valid?'] ?? null,
      explanation: isMap(r['explanation']) ? readExplanation(r['explanation']) : undefined,
      cause: asString(r['error']) ?? asString(lin['cause']),
    });
  }
  // failures before unknowns
  return out.sort((a, b) => Number(a.validity !== false) - Number(b.validity !== false));
}

// ---------------------------------------------------------------------------------------------
// Words

/** "read of 3", "write of 1", "cas from 1 to 4" */
export function opWords(bar: Pick<Bar, 'f' | 'value'>): string {
  if (bar.f === 'cas' && Array.isArray(bar.value)) return `cas from ${showValue(bar.value[0] ?? null, 20)} to ${showValue(bar.value[1] ?? null, 20)}`;
  return `${bar.f} of ${showValue(bar.value, 30)}`;
}

/** "cas 1→4", "r 3", "w 2" */
function longLabel(bar: Bar): string {
  if (bar.f === 'cas' && Array.isArray(bar.value)) return `cas ${showValue(bar.value[0] ?? null, 6)}→${showValue(bar.value[1] ?? null, 6)}`;
  const letter = bar.f === 'read' ? 'r' : bar.f === 'write' ? 'w' : bar.f;
  return `${letter} ${bar.value === null ? (bar.f === 'read' ? '?' : 'nil') : showValue(bar.value, 8)}`;
}

/** "c1→4", "r3", "w2": for bars one slot wide */
function shortLabel(bar: Bar): string {
  return longLabel(bar).replace(/^cas /, 'c').replace(/^([rw]) /, '$1');
}

function valuesInWords(values: Json[]): string {
  const words = values.map((v) => showValue(v, 20));
  if (words.length === 0) return 'nothing';
  if (words.length === 1) return words[0] as string;
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------
// Drawing

/** At most BAR_LIMIT bars around the blocked operation: those before it, and a few after. */
export function barWindow(bars: Bar[], blockedOp: number): { window: Bar[]; first: number; total: number } {
  const sorted = [...bars].sort((a, b) => a.invokeNs - b.invokeNs || a.id - b.id);
  if (sorted.length <= BAR_LIMIT) return { window: sorted, first: 0, total: sorted.length };
  const at = Math.max(0, sorted.findIndex((b) => b.id === blockedOp));
  const end = Math.min(sorted.length, Math.max(at + 1 + BARS_AFTER, BAR_LIMIT));
  const start = Math.max(0, end - BAR_LIMIT);
  return { window: sorted.slice(start, end), first: start, total: sorted.length };
}

function barClass(bar: Bar, blockedOp: number, inPrefix: boolean): string {
  if (bar.id === blockedOp) return 'blocked';
  if (inPrefix) return 'prefix';
  if (bar.type === 'fail') return 'fail';
  if (bar.type === 'info') return 'info';
  return 'other';
}

export function drawKey(x: KeyExplanation, id: string, nodeOf: NodeOf = (process) => `p${process}`): string {
  const { window } = barWindow(x.bars, x.blockedOp);
  // x is event order: every invocation and completion of the drawn bars gets one slot
  const events = [...new Set(window.flatMap((b) => (b.completeNs === null ? [b.invokeNs] : [b.invokeNs, b.completeNs])))].sort((a, b) => a - b);
  const slotOf = new Map(events.map((t, i) => [t, i]));
  // wide enough for a short label in an operation that spans one slot ("c1→4")
  const step = Math.max(STEP_MIN_PX, Math.min(48, 1100 / Math.max(1, events.length)));
  const slotX = (slot: number): number => LEFT_PX + 10 + slot * step;
  const endSlot = events.length; // where operations that never completed run to
  // rows grouped by the node that served them, so one node's view of the register reads as a band
  const processes = [...new Set(window.map((b) => b.process))].sort((a, b) => nodeOf(a).localeCompare(nodeOf(b), 'en', { numeric: true }) || a - b);
  const rowOf = new Map(processes.map((p, i) => [p, i]));
  const width = Math.ceil(slotX(endSlot) + RIGHT_PX);
  const height = TOP_PX + processes.length * ROW_PX + 36;
  const prefixPos = new Map(x.prefix.map((p, i) => [p.id, { n: i + 1, valueAfter: p.valueAfter }]));

  const parts: string[] = [
    `<svg id="${escapeXml(id)}" class="lin" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escapeXml(clip(`Key ${showValue(x.key, 40)}: ${x.summary}`, 400))}</title>`,
  ];
  const tickEvery = Math.max(1, Math.ceil(60 / step));
  events.forEach((t, slot) => {
    if (slot % tickEvery !== 0) return;
    const sx = px(slotX(slot));
    parts.push(`<line x1="${sx}" y1="${TOP_PX - 6}" x2="${sx}" y2="${height - 30}" class="grid"/>`);
    parts.push(`<text x="${sx}" y="${height - 17}" text-anchor="middle" class="tick">${(t / 1e9).toFixed(3)}</text>`);
  });
  parts.push(`<text x="${width - 8}" y="${height - 2}" text-anchor="end" class="tick">time (s) at the gridlines</text>`);
  // process names at both ends: the page opens scrolled to the right end of a wide drawing
  processes.forEach((p, row) => {
    const y = TOP_PX + row * ROW_PX;
    parts.push(`<line x1="${LEFT_PX}" y1="${y + ROW_PX - 2}" x2="${width - RIGHT_PX}" y2="${y + ROW_PX - 2}" class="rowline"/>`);
    const newNode = row === 0 || nodeOf(processes[row - 1] as number) !== nodeOf(p);
    if (newNode && row > 0) parts.push(`<line x1="4" y1="${y}" x2="${width - 4}" y2="${y}" class="nodeline" stroke="#555" stroke-width="1.2"/>`);
    parts.push(`<text x="${LEFT_PX - 8}" y="${y + 15}" text-anchor="end" class="rowlabel">${escapeXml(`${nodeOf(p)} · p${p}`)}</text>`);
    parts.push(`<text x="${width - RIGHT_PX + 8}" y="${y + 15}" class="rowlabel">${escapeXml(`${nodeOf(p)} · p${p}`)}</text>`);
  });
  // the blocked bar last, so it is on top
  const drawOrder = [...window.filter((b) => b.id !== x.blockedOp), ...window.filter((b) => b.id === x.blockedOp)];
  for (const bar of drawOrder) {
    const row = rowOf.get(bar.process) ?? 0;
    const x1 = slotX(slotOf.get(bar.invokeNs) ?? 0);
    const x2 = bar.completeNs === null ? slotX(endSlot) : slotX(slotOf.get(bar.completeNs) ?? endSlot);
    const barWidth = Math.max(4, x2 - x1);
    const y = TOP_PX + row * ROW_PX + 2;
    const pos = prefixPos.get(bar.id);
    const cls = barClass(bar, x.blockedOp, pos !== undefined);
    const when = bar.completeNs === null ? `invoked at ${seconds(bar.invokeNs)}, never completed` : `${seconds(bar.invokeNs)} to ${seconds(bar.completeNs)}`;
    const role =
      bar.id === x.blockedOp
        ? `cannot be placed: the register could only hold ${valuesInWords(x.possibleValues)}`
        : pos !== undefined
          ? `step ${pos.n} of the linearized prefix, register ${showValue(pos.valueAfter, 20)} after it`
          : bar.type === 'fail'
            ? 'failed: it took no effect'
            : 'not in the prefix';
    const tip = `op ${bar.id}: ${bar.type} ${opWords(bar)} by process ${bar.process} via ${nodeOf(bar.process)}, ${when}; ${role}`;
    const label = [longLabel(bar), shortLabel(bar)].find((text) => text.length * CHAR_PX + 5 <= barWidth);
    parts.push(
      `<g class="opbar" data-id="${bar.id}"><title>${escapeXml(tip)}</title>` +
        `<rect x="${px(x1)}" y="${y}" width="${px(barWidth)}" height="18" rx="3" class="bar ${cls}"/>` +
        (label !== undefined ? `<text x="${px(x1 + 3)}" y="${y + 13}" class="barlabel">${escapeXml(label)}</text>` : '') +
        (pos !== undefined ? `<text x="${px(x1 + 1)}" y="${y + 28}" class="order">${escapeXml(clip(`#${pos.n}→${showValue(pos.valueAfter, 6)}`, 12))}</text>` : '') +
        '</g>',
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function prefixTable(x: KeyExplanation, nodeOf: NodeOf): string {
  const barOf = new Map(x.bars.map((b) => [b.id, b]));
  const first = Math.max(0, x.prefix.length - PREFIX_ROWS);
  const rows = x.prefix.slice(first).map((p, i) => {
    const bar = barOf.get(p.id);
    const what = bar ? `${opWords(bar)} (${bar.type})` : '?';
    return `<tr><td>${first + i + 1}</td><td>${p.id}</td><td>${bar ? `${bar.process} (${escapeXml(nodeOf(bar.process))})` : '?'}</td><td class="l">${escapeXml(what)}</td><td>${escapeXml(showValue(p.valueAfter, 30))}</td></tr>`;
  });
  const blocked = barOf.get(x.blockedOp);
  rows.push(
    `<tr class="blocked"><td>—</td><td>${x.blockedOp}</td><td>${blocked ? `${blocked.process} (${escapeXml(nodeOf(blocked.process))})` : '?'}</td><td class="l">${escapeXml(blocked ? `${opWords(blocked)} (${blocked.type})` : '?')}</td><td class="l">${escapeXml(`cannot be placed: possible values ${valuesInWords(x.possibleValues)}`)}</td></tr>`,
  );
  const note = first > 0 ? `<p class="note">${escapeXml(`The last ${PREFIX_ROWS} of ${x.prefix.length} steps of the linearized prefix.`)}</p>` : '';
  return `${note}<table class="view"><tr><th>step</th><th>op</th><th>process (node)</th><th>operation</th><th>register after</th></tr>${rows.join('')}</table>`;
}

function keySection(outcome: KeyOutcome, index: number, draw: boolean, nodeOf: NodeOf): string {
  const x = outcome.explanation;
  if (x === undefined) {
    const why = outcome.cause !== undefined ? `: ${outcome.cause}` : '';
    return `<div class="finding"><h3>${escapeXml(`key ${outcome.name}`)}<span class="tag">valid? ${escapeXml(showValue(outcome.validity))}</span></h3><p>${escapeXml(clip(`No explanation${why}`, 600))}</p></div>`;
  }
  const parts = [
    `<div class="finding"><h3>${escapeXml(`key ${outcome.name}`)}<span class="tag bad">not linearizable</span></h3>`,
    `<p>${escapeXml(x.summary)}.</p>`,
    `<p>${escapeXml(`The longest linearizable prefix found takes ${x.prefix.length} operation${x.prefix.length === 1 ? '' : 's'} (${x.requiredBefore} completed before the blocked one and must all be in it).`)}</p>`,
  ];
  if (draw) {
    const shown = barWindow(x.bars, x.blockedOp);
    const { window } = shown;
    const first = shown.first + x.barsFrom;
    const total = Math.max(shown.total, x.barCount);
    // starts scrolled to the right end, where the blocked operation is (no script needed)
    parts.push(`<p class="explain">${escapeXml(`Operations on key ${outcome.name}, one row per process, grouped by the node that served it (each node should act on one shared register). The x axis is the order of invocations and completions, not to scale (times at the gridlines); the drawing opens at its right end, where the operation that cannot be placed is: scroll left for earlier ones.`)}</p>`);
    parts.push(`<div class="scroll from-right"><div>${drawKey(x, `lin-key-${index}`, nodeOf)}</div></div>`);
    if (window.length < total) {
      parts.push(
        `<p class="cap">${escapeXml(`Showing operations ${first + 1}–${first + window.length} of this key's ${total} (in invocation order), around the one that cannot be placed; the rest are left out to keep this page small.`)}</p>`,
      );
    }
  }
  parts.push(prefixTable(x, nodeOf), '</div>');
  return parts.join('');
}

const LEGEND_HTML =
  '<p class="explain">Bars: <span style="background:#93c5fd">&nbsp;blue&nbsp;</span> in the linearized prefix (#n→v: its step and the register after it), ' +
  '<span style="background:#f87171">&nbsp;red&nbsp;</span> the operation that cannot be placed, <span style="background:#fde68a">&nbsp;yellow&nbsp;</span> indeterminate (info), ' +
  'dashed: failed, grey: not in the prefix. A bar runs from invocation to completion; hover it for details.</p>';

function render(results: Results, context: ViewContext): string {
  const nodeOf: NodeOf = (process) => nodeOfProcess(process, context.opts);
  const outcomes = keyOutcomes(results);
  const parts: string[] = ['<h2>Linearizability</h2>'];
  if (outcomes.length === 0) {
    const count = Object.keys(asMap(results.workload['results'])).length;
    const ok = Number(results.stats['ok-count'] ?? 0);
    const words = ok === 0 ? `Every key (${count}) is linearizable, but only because no operation succeeded: there was nothing to order (see Failed and indefinite operations).` : `Every key (${count}) is linearizable.`;
    parts.push(`<p class="explain">${escapeXml(words)}</p>`);
    return parts.join('\n');
  }
  parts.push(LEGEND_HTML);
  const listed = outcomes.slice(0, LISTED_KEY_LIMIT);
  let drawn = 0;
  listed.forEach((outcome, i) => {
    const draw = outcome.explanation !== undefined && drawn < DRAWN_KEY_LIMIT;
    if (draw) drawn++;
    parts.push(keySection(outcome, i, draw, nodeOf));
  });
  parts.push(capNote(listed.length, outcomes.length, 'keys that are not linearizable or unknown'));
  const withExplanation = outcomes.filter((o) => o.explanation !== undefined).length;
  if (withExplanation > drawn && drawn === DRAWN_KEY_LIMIT) {
    parts.push(`<p class="cap">${escapeXml(`Timelines are drawn for the first ${DRAWN_KEY_LIMIT} keys only.`)}</p>`);
  }
  return parts.join('\n');
}

function summary(results: Results): string[] {
  const lines = keyOutcomes(results).map((o) =>
    o.explanation !== undefined
      ? clip(o.explanation.summary, 300)
      : clip(`key ${o.name}: valid? ${showValue(o.validity)}${o.cause !== undefined ? ` (${o.cause})` : ''}`, 300),
  );
  return boundLines(lines, SUMMARY_LINE_LIMIT);
}

export const linearizableView: WorkloadView = { render, summary };
