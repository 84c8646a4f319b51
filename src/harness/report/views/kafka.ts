// The kafka view: realtime lag over time, one line per key (Maelstrom plots it too), and every
// error the checker reported with its key, offsets and operations in words. The data is the
// kafka workload's extra (results.glomers.workload: realtime-lag, errors, error-counts).

import type { Json, Op } from '../../types.js';
import type { Results } from '../../check/results-types.js';
import { axes, escapeXml, legend, makeFrame, px, svgOpen, xPx, yPx, type LegendEntry } from '../svg.js';
import { asArray, asMap, asNumber, asString, boundLines, capNote, clip, isMap, opFinder, seconds, showValue, SUMMARY_LINE_LIMIT, type JsonMap } from './common.js';
import type { WorkloadView, ViewContext } from './types.js';

/** Keys drawn in the lag plot (the ones with the worst lag); the rest are named in a note. */
export const LAG_KEY_LIMIT = 200;
/** Points drawn over all keys; beyond it each key's series is thinned keeping its worst lag. */
export const LAG_POINT_LIMIT = 6000;
/** Keys named in the legend; the other lines say their key when hovered. */
const LEGEND_KEYS = 10;
/** Error rows in the page, and operations described per error. */
export const ERROR_ROW_LIMIT = 300;
const OPS_PER_ERROR = 4;
const PAIRS_PER_OP = 8;

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#92400e', '#475569'];

interface LagSeries {
  key: string;
  points: Array<[number, number]>;
  worst: number;
}

interface KafkaError {
  type: string;
  key: string;
  offsets: number[];
  ops: number[];
  text: string;
}

function lagSeries(extra: JsonMap): LagSeries[] {
  const out: LagSeries[] = [];
  for (const entry of asArray(extra['realtime-lag'])) {
    if (!isMap(entry)) continue;
    const points: Array<[number, number]> = [];
    for (const p of asArray(entry['points'])) {
      const t = Array.isArray(p) ? asNumber(p[0]) : undefined;
      const lag = Array.isArray(p) ? asNumber(p[1]) : undefined;
      if (t !== undefined && lag !== undefined) points.push([t, lag]);
    }
    const key = asString(entry['key']) ?? showValue(entry['key']);
    out.push({ key, points, worst: points.reduce((m, p) => Math.max(m, p[1]), 0) });
  }
  return out;
}

function errorList(extra: JsonMap): KafkaError[] {
  return asArray(extra['errors']).filter(isMap).map((e) => ({
    type: asString(e['type']) ?? '?',
    key: asString(e['key']) ?? showValue(e['key']),
    offsets: asArray(e['offsets']).filter((o): o is number => typeof o === 'number'),
    ops: asArray(e['ops']).filter((o): o is number => typeof o === 'number'),
    text: asString(e['text']) ?? '',
  }));
}

/** Keeps every `factor`-th run of points as one point with the run's worst lag. */
function thin(points: Array<[number, number]>, factor: number): Array<[number, number]> {
  if (factor <= 1) return points;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i += factor) {
    let worst = -Infinity;
    for (let j = i; j < Math.min(points.length, i + factor); j++) worst = Math.max(worst, (points[j] as [number, number])[1]);
    out.push([(points[i] as [number, number])[0], worst]);
  }
  return out;
}

function lagPlot(all: LagSeries[]): string {
  const drawn = [...all].sort((a, b) => b.worst - a.worst || a.key.localeCompare(b.key, 'en', { numeric: true })).slice(0, LAG_KEY_LIMIT);
  const totalPoints = drawn.reduce((n, s) => n + s.points.length, 0);
  const factor = Math.max(1, Math.ceil(totalPoints / LAG_POINT_LIMIT));
  let xMax = 1;
  let yMax = 0;
  for (const s of drawn) for (const [t, lag] of s.points) {
    xMax = Math.max(xMax, t);
    yMax = Math.max(yMax, lag);
  }
  const frame = makeFrame(xMax, 0, yMax > 0 ? yMax * 1.1 : 1, false);
  const lines: string[] = [];
  // worst keys last, so they are drawn on top
  for (let rank = drawn.length - 1; rank >= 0; rank--) {
    const s = drawn[rank] as LagSeries;
    const points = thin(s.points, factor);
    if (points.length === 0) continue;
    const named = rank < LEGEND_KEYS;
    const colour = named ? (PALETTE[rank % PALETTE.length] as string) : '#94a3b8';
    const coords = points.map(([t, lag]) => `${px(xPx(frame, t))},${px(yPx(frame, lag))}`);
    if (coords.length === 1) coords.push(coords[0] as string);
    const title = `key ${s.key}: worst lag ${s.worst.toFixed(3)} s`;
    lines.push(
      `<polyline class="lag" data-key="${escapeXml(s.key)}" points="${coords.join(' ')}" fill="none" stroke="${colour}" stroke-width="${named ? 1.8 : 1}" stroke-opacity="${named ? 1 : 0.6}"><title>${escapeXml(title)}</title></polyline>`,
    );
  }
  const entries: LegendEntry[] = drawn.slice(0, LEGEND_KEYS).map((s, rank) => ({
    label: clip(`key ${s.key} (${s.worst.toFixed(2)} s)`, 24),
    swatch: `<line x1="0" y1="0" x2="10" y2="0" stroke="${PALETTE[rank % PALETTE.length]}" stroke-width="2"/>`,
  }));
  if (drawn.length > LEGEND_KEYS) {
    entries.push({ label: `${drawn.length - LEGEND_KEYS} other keys (grey;`, swatch: '<line x1="0" y1="0" x2="10" y2="0" stroke="#94a3b8" stroke-width="1"/>' });
    entries.push({ label: 'hover for the key)', swatch: '' });
  }
  const title = `Realtime lag per key (${drawn.length} key${drawn.length === 1 ? '' : 's'}${factor > 1 ? `, every ${factor} points merged keeping the worst` : ''})`;
  const body =
    lines.length === 0
      ? `<text x="${px(frame.leftPx + 20)}" y="${px(frame.topPx + 30)}" class="note">no lag data (no polls after sends)</text>`
      : lines.join('');
  return svgOpen(frame, 'kafka-lag') + axes(frame, title, 'Time (s) of the poll', 'Lag (s)') + body + legend(frame, entries) + '</svg>';
}

/** The messages of one key in a kafka op's value, in words: "send 17→3", "poll [17 3] [18 4]". */
function mopsOnKey(op: Op, key: string): string {
  const parts: string[] = [];
  for (const mop of asArray(op.value)) {
    if (!Array.isArray(mop)) continue;
    const [f, k, v] = mop;
    if (f === 'send' && (k === key || showValue(k) === key)) {
      parts.push(Array.isArray(v) ? `sent ${showValue(v[1], 40)} at offset ${showValue(v[0], 20)}` : `sends ${showValue(v, 40)}`);
    } else if (f === 'poll' && isMap(k)) {
      const pairs = asArray(k[key]);
      if (pairs.length === 0) continue;
      const shown = pairs.slice(0, PAIRS_PER_OP).map((p) => (Array.isArray(p) ? `${showValue(p[0], 20)}:${showValue(p[1], 30)}` : showValue(p, 30)));
      parts.push(`polled offset:message ${shown.join(', ')}${pairs.length > PAIRS_PER_OP ? ` … (${pairs.length} in all)` : ''}`);
    }
  }
  return parts.length > 0 ? parts.join('; ') : `${op.f} (${clip(showValue(op.value, 60), 60)})`;
}

function describeKafkaOp(op: Op, key: string): string {
  return `op ${op.index}: process ${String(op.process)}, ${op.type} ${op.f} at ${seconds(op.time)}: ${mopsOnKey(op, key)}`;
}

function opsInWords(error: KafkaError, findOp: (index: number) => Op | undefined): string[] {
  const words: string[] = [];
  for (const index of error.ops.slice(0, OPS_PER_ERROR)) {
    const op = findOp(index);
    words.push(op ? clip(describeKafkaOp(op, error.key), 140) : `op ${index} (not in this history)`);
  }
  if (error.ops.length > OPS_PER_ERROR) words.push(`… and ${error.ops.length - OPS_PER_ERROR} more operations`);
  return words;
}

// ---------------------------------------------------------------------------------------------
// Filling in operations the checker's error does not name (inconsistent offsets, duplicates,
// unseen messages): one pass over the history, for the keys of the rows shown only.

interface KeyIndex {
  /** offset → ok ops that sent or polled that offset (at most OPS_PER_ERROR each) */
  opsAt: Map<number, number[]>;
  /** acknowledged sends: message JSON → [offset, op index] */
  sent: Map<string, [number | null, number]>;
  polled: Set<string>;
}

function keyText(key: Json | undefined): string {
  return typeof key === 'string' ? key : showValue(key);
}

export function indexKafkaHistory(history: readonly Op[], keys: ReadonlySet<string>): Map<string, KeyIndex> {
  const index = new Map<string, KeyIndex>();
  for (const key of keys) index.set(key, { opsAt: new Map(), sent: new Map(), polled: new Set() });
  const note = (entry: KeyIndex, offset: Json | undefined, opIndex: number): void => {
    if (typeof offset !== 'number') return;
    const list = entry.opsAt.get(offset) ?? [];
    if (list.length < OPS_PER_ERROR && list[list.length - 1] !== opIndex) list.push(opIndex);
    entry.opsAt.set(offset, list);
  };
  for (const op of history) {
    if (op.type !== 'ok' || typeof op.process !== 'number' || !Array.isArray(op.value)) continue;
    for (const mop of op.value) {
      if (!Array.isArray(mop)) continue;
      const [f, k, v] = mop;
      if (f === 'send') {
        const entry = index.get(keyText(k));
        if (entry === undefined || !Array.isArray(v)) continue;
        note(entry, v[0], op.index);
        entry.sent.set(JSON.stringify(v[1] ?? null), [typeof v[0] === 'number' ? v[0] : null, op.index]);
      } else if (f === 'poll' && isMap(k)) {
        for (const [key, pairs] of Object.entries(k)) {
          const entry = index.get(key);
          if (entry === undefined) continue;
          for (const pair of asArray(pairs)) {
            if (!Array.isArray(pair)) continue;
            note(entry, pair[0], op.index);
            entry.polled.add(JSON.stringify(pair[1] ?? null));
          }
        }
      }
    }
  }
  return index;
}

/** The error with operations (and, for unseen, offsets) found in the history when it names none. */
export function completeError(error: KafkaError, index: Map<string, KeyIndex>): KafkaError {
  const entry = index.get(error.key);
  if (entry === undefined || error.ops.length > 0) return error;
  if (error.type === 'unseen') {
    const never = [...entry.sent.entries()].filter(([message]) => !entry.polled.has(message));
    return {
      ...error,
      offsets: never.map(([, [offset]]) => offset).filter((o): o is number => o !== null),
      ops: never.map(([, [, opIndex]]) => opIndex),
    };
  }
  const ops = [...new Set(error.offsets.flatMap((offset) => entry.opsAt.get(offset) ?? []))].sort((a, b) => a - b);
  return { ...error, ops };
}

function countsTable(counts: JsonMap, shownByType: Map<string, number>, bad: Set<string>): string {
  const rows = Object.entries(counts)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([type, count]) => {
      const verdict = bad.has(type) ? '<span class="badge bad">invalidates</span>' : '<span class="badge good">allowed</span>';
      return `<tr><td class="l">${escapeXml(type)}</td><td>${escapeXml(String(count))}</td><td>${shownByType.get(type) ?? 0}</td><td class="l">${verdict}</td></tr>`;
    })
    .join('');
  return `<table class="view"><tr><th>error type</th><th>count</th><th>listed below</th><th>verdict</th></tr>${rows}</table>`;
}

function errorsTable(errors: KafkaError[], findOp: (index: number) => Op | undefined): string {
  const rows = errors
    .slice(0, ERROR_ROW_LIMIT)
    .map((e) => {
      const ops = opsInWords(e, findOp).map((w) => `<div>${escapeXml(w)}</div>`).join('');
      const offsets = e.offsets.length > 0 ? clip(e.offsets.join(', '), 120) : '—';
      return `<tr><td class="l">${escapeXml(e.type)}</td><td>${escapeXml(clip(e.key, 40))}</td><td>${escapeXml(offsets)}</td><td class="words">${escapeXml(clip(e.text, 600))}</td><td class="l ops">${ops || '—'}</td></tr>`;
    })
    .join('');
  return `<table class="view"><tr><th>type</th><th>key</th><th>offsets</th><th>what happened</th><th>operations involved</th></tr>${rows}</table>`;
}

/** The plot's caption: the checker's worst-realtime-lag, which is the plot's highest point. */
function worstLagCaption(worst: Json | undefined, series: readonly LagSeries[]): string {
  const w = asMap(worst);
  const lag = asNumber(w['lag']);
  const highest = series.reduce((m, s) => Math.max(m, s.worst), 0);
  if (lag === undefined) return `The highest point is ${highest.toFixed(3)} s.`;
  const where = asString(w['key']) === undefined ? '' : ` (key ${asString(w['key'])}, process ${String(asNumber(w['process']) ?? '?')}, poll at ${(asNumber(w['time']) ?? 0).toFixed(3)} s)`;
  return `worst-realtime-lag in results.json: ${lag.toFixed(3)} s${where}; the highest point drawn is ${highest.toFixed(3)} s.`;
}

function render(results: Results, context: ViewContext): string {
  const extra = asMap(results.glomers.workload);
  const parts: string[] = ['<h2>Kafka: realtime lag</h2>'];
  if (!isMap(results.glomers.workload)) {
    parts.push('<p class="note">The kafka checker left no report data (results.glomers.workload) for this run.</p>');
    return parts.join('\n');
  }
  const series = lagSeries(extra);
  parts.push(
    '<p class="explain">Realtime lag, as Jepsen computes it: right after each poll, for each key the polling process is assigned, how long ago the first message past the highest offset the polling process has now seen on that key became known (an operation completed that revealed it); 0 when the process is caught up. One line per key, the worst lag per 100 ms; a line that keeps rising means some process never caught up on that key. Hover a line for its key.</p>',
    `<div class="scroll">${lagPlot(series)}</div>`,
    `<p class="caption">${escapeXml(worstLagCaption(results.workload['worst-realtime-lag'], series))}</p>`,
    capNote(Math.min(series.length, LAG_KEY_LIMIT), series.length, 'keys (the ones with the worst lag are drawn)'),
  );
  const errors = errorList(extra);
  const counts = asMap(extra['error-counts']);
  const bad = new Set(asArray(results.workload['bad-error-types']).filter((t): t is string => typeof t === 'string'));
  parts.push('<h2>Kafka: errors</h2>');
  const unfinished = results.workload['valid?'] === 'unknown';
  if (unfinished) {
    parts.push(`<p class="note">${escapeXml(`The checker could not finish: ${asString(results.workload['error']) ?? 'no reason given'}`)}</p>`);
  }
  if (Object.keys(counts).length === 0 && errors.length === 0) {
    parts.push(`<p class="explain">${unfinished ? 'No errors were found before it stopped.' : 'The checker found no errors.'}</p>`);
    return parts.join('\n');
  }
  const shownByType = new Map<string, number>();
  for (const e of errors.slice(0, ERROR_ROW_LIMIT)) shownByType.set(e.type, (shownByType.get(e.type) ?? 0) + 1);
  parts.push(countsTable(counts, shownByType, bad));
  const total = Object.values(counts).reduce<number>((n, c) => n + (typeof c === 'number' ? c : 0), 0);
  parts.push(capNote(Math.min(errors.length, ERROR_ROW_LIMIT), Math.max(total, errors.length), 'errors'));
  const rows = errors.slice(0, ERROR_ROW_LIMIT);
  const index = indexKafkaHistory(context.history, new Set(rows.filter((e) => e.ops.length === 0).map((e) => e.key)));
  parts.push(errorsTable(rows.map((e) => completeError(e, index)), opFinder(context.history)));
  return parts.join('\n');
}

function summary(results: Results): string[] {
  const extra = results.glomers.workload;
  if (!isMap(extra)) return [];
  const errors = errorList(extra);
  const bad = new Set(asArray(results.workload['bad-error-types']).filter((t): t is string => typeof t === 'string'));
  const counts = asMap(extra['error-counts']);
  const total = Object.values(counts).reduce<number>((n, c) => n + (typeof c === 'number' ? c : 0), 0);
  if (total === 0 && errors.length === 0) return [];
  // errors that invalidate first, and one of each type before a second of any
  const nth = new Map<string, number>();
  const ranked = errors.map((e, i) => {
    const n = nth.get(e.type) ?? 0;
    nth.set(e.type, n + 1);
    return { e, n, i };
  });
  ranked.sort((a, b) => Number(!bad.has(a.e.type)) - Number(!bad.has(b.e.type)) || a.n - b.n || a.i - b.i);
  const countLine = `kafka: ${Object.entries(counts)
    .map(([type, count]) => `${type} ×${String(count)}${bad.has(type) ? '' : ' (allowed)'}`)
    .join(', ')}`;
  const lines = ranked.map(({ e }) => {
    const offsets = e.offsets.length > 0 ? ` at offset${e.offsets.length > 1 ? 's' : ''} ${clip(e.offsets.join(', '), 60)}` : '';
    return `kafka: ${e.type} on key ${clip(e.key, 30)}${offsets}: ${clip(e.text, 200)}`;
  });
  // error-counts may exceed the errors listed (the workload keeps 50 per type)
  return [countLine, ...boundLines(lines, SUMMARY_LINE_LIMIT - 1, Math.max(total, lines.length))];
}

export const kafkaView: WorkloadView = { render, summary };
