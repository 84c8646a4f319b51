// The transaction view (txn-rw-register, txn-list-append): every anomaly the checker explained,
// in words (which transaction wrote, which read, which edge is ww, wr or rw and why) and drawn
// the way Elle draws its cycles: transactions as boxes, dependency edges as labelled arrows.
// The data is results.glomers.workload.explanations (src/harness/check/checkers/elle/explain.ts),
// which holds Maelstrom's anomalies and our own findings (G0 under read-uncommitted, replies
// that drop or alter micro-ops, list-append reads answered as appends).

import type { Json, Op } from '../../types.js';
import type { Results } from '../../check/results-types.js';
import { escapeXml, px } from '../svg.js';
import { asArray, asMap, asNumber, asString, boundLines, capNote, clip, isMap, opFinder, showValue, SUMMARY_LINE_LIMIT, type JsonMap } from './common.js';
import type { ViewContext, WorkloadView } from './types.js';
import { nodeOfProcess } from '../../check/explain.js';

/** The node a client process's transactions went to. */
type NodeOf = (process: number) => string;
import type { GlomersEdge } from '../../check/checkers/elle/glomers.js';

/** Explanations listed in words, and of those, how many are drawn (per type and in all). */
export const LISTED_LIMIT = 200;
export const LISTED_PER_TYPE = 30;
export const DRAWN_LIMIT = 24;
const DRAWN_PER_TYPE = 3;
/** Cycles longer than this are explained in words only: a drawing of them would not be read. */
export const BOXES_PER_DRAWING = 12;
const MOPS_PER_BOX = 8;
/** Edges explained in words per cycle (a cycle may run through hundreds of transactions). */
export const EDGES_IN_WORDS = 20;
const MOP_CHARS = 30;
/** Micro-ops shown per side of a request/reply comparison. */
const MAX_MISMATCH_MOPS = 40;

const BOX_WIDTH_PX = 220;
const LINE_PX = 14;

const EDGE_COLOURS: { readonly [kind: string]: string } = {
  ww: '#b91c1c',
  wr: '#1d4ed8',
  rw: '#c2410c',
  realtime: '#475569',
  process: '#047857',
};

export interface TxnBox {
  index: number;
  process: Json;
  txn: Json;
}

/** An edge as the checker explains it (`glomers.workload.explanations[].edges`). */
export type TxnEdge = GlomersEdge;

export interface Explained {
  type: string;
  text: string;
  boxes: TxnBox[];
  edges: TxnEdge[];
  /** 'workload' for Maelstrom's (Elle's) anomalies, 'glomers' for our own findings */
  source: string;
  /** whether Maelstrom's anomaly-types lists this type (Elle also finds what the models allow) */
  reported: boolean;
}

export function readExplanations(extra: JsonMap): Explained[] {
  return asArray(extra['explanations'])
    .filter(isMap)
    .map((x) => ({
      type: asString(x['type']) ?? '?',
      text: asString(x['text']) ?? '',
      boxes: asArray(x['cycle'])
        .filter(isMap)
        .map((b) => ({ index: asNumber(b['index']) ?? -1, process: b['process'] ?? null, txn: b['txn'] ?? null })),
      edges: asArray(x['edges'])
        .filter(isMap)
        .map((e) => ({
          from: asNumber(e['from']) ?? -1,
          to: asNumber(e['to']) ?? -1,
          kind: asString(e['kind']) ?? '?',
          key: e['key'] ?? null,
          value: e['value'] ?? null,
          why: asString(e['why']) ?? '',
        })),
      source: asString(x['source']) ?? 'workload',
      reported: x['reported'] !== false,
    }));
}

/** Ours first, then what Maelstrom reports, then what Elle found that the models allow. */
function rank(x: Explained): number {
  return x.source === 'glomers' ? 0 : x.reported ? 1 : 2;
}

function ordered(all: Explained[]): Explained[] {
  return all.map((x, i) => ({ x, i })).sort((a, b) => rank(a.x) - rank(b.x) || a.x.type.localeCompare(b.x.type) || a.i - b.i).map(({ x }) => x);
}

// ---------------------------------------------------------------------------------------------
// Words

const T = (index: number): string => `T${index}`;
const k = (key: Json): string => showValue(key, 30);

/** An edge in a short phrase: "T12 wrote 3=1, T40 read it (wr)". */
export function edgePhrase(e: TxnEdge): string {
  switch (e.kind) {
    case 'wr':
      return `${T(e.from)} wrote ${k(e.key)}=${showValue(e.value, 30)}, ${T(e.to)} read it (wr)`;
    case 'ww':
      return `${T(e.from)} wrote key ${k(e.key)}, ${T(e.to)} overwrote it with ${k(e.key)}=${showValue(e.value, 30)} (ww)`;
    case 'rw':
      return `${T(e.from)} read key ${k(e.key)}, ${T(e.to)} then wrote ${k(e.key)}=${showValue(e.value, 30)}, which ${T(e.from)} did not see (rw)`;
    case 'realtime':
      return `${T(e.from)} finished before ${T(e.to)} began (realtime)`;
    case 'process':
      return `${T(e.from)} then ${T(e.to)} on one process (process)`;
    default:
      return `${T(e.from)} before ${T(e.to)} (${e.kind})`;
  }
}

function label(x: Explained): string {
  if (x.source === 'glomers') return `${x.type} (glomers finding)`;
  return x.reported ? x.type : `${x.type} (allowed by the models checked)`;
}

export function summaryLine(x: Explained): string {
  // the line is clipped anyway: phrase only the edges that can show
  const body = x.edges.length > 0 ? x.edges.slice(0, 8).map(edgePhrase).join('; ') : x.text;
  return clip(`${label(x)}: ${body}`, 300);
}

// ---------------------------------------------------------------------------------------------
// Drawing

function mopText(mop: Json): string {
  if (!Array.isArray(mop)) return showValue(mop, MOP_CHARS);
  const [f, key, value] = mop;
  const v = value === null ? 'nil' : showValue(value, MOP_CHARS);
  return clip(`${typeof f === 'string' ? f : showValue(f)} ${showValue(key, 12)} ${v}`, MOP_CHARS);
}

function boxLines(box: TxnBox): Array<{ text: string; mop: Json }> {
  const mops = Array.isArray(box.txn) ? box.txn : [box.txn];
  const lines = mops.slice(0, MOPS_PER_BOX).map((m) => ({ text: mopText(m), mop: m }));
  if (mops.length > MOPS_PER_BOX) lines.push({ text: `… ${mops.length - MOPS_PER_BOX} more`, mop: null });
  return lines;
}

const same = (a: Json | undefined, b: Json | undefined): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * How a micro-op takes part in the box's edges: 'exact' when it is on an edge's key with the
 * edge's value (the write or the read the edge is about; a list read counts if it holds the
 * value), 'key' when it is only on an edge's key.
 */
function involvement(mop: Json, edges: readonly TxnEdge[]): { edge: TxnEdge; exact: boolean } | undefined {
  if (!Array.isArray(mop)) return undefined;
  const [, key, value] = mop;
  const onKey = edges.filter((e) => e.key !== null && same(e.key, key));
  const exact = onKey.find((e) => same(e.value, value) || (Array.isArray(value) && value.some((v) => same(v, e.value))));
  if (exact) return { edge: exact, exact: true };
  return onKey[0] ? { edge: onKey[0], exact: false } : undefined;
}

interface Placed {
  box: TxnBox;
  cx: number;
  cy: number;
  w: number;
  h: number;
}

function boxHeight(box: TxnBox): number {
  return 30 + boxLines(box).length * LINE_PX;
}

/** Boxes in a row for one or two, on an ellipse (cycle order, clockwise) for more. */
function layout(boxes: TxnBox[]): { placed: Placed[]; width: number; height: number } {
  const hMax = Math.max(...boxes.map(boxHeight));
  const n = boxes.length;
  if (n <= 2) {
    const gap = 200;
    const width = n * BOX_WIDTH_PX + (n - 1) * gap + 40;
    const height = hMax + 110;
    const placed = boxes.map((box, i) => ({ box, cx: 20 + BOX_WIDTH_PX / 2 + i * (BOX_WIDTH_PX + gap), cy: height / 2, w: BOX_WIDTH_PX, h: boxHeight(box) }));
    return { placed, width, height };
  }
  // the ellipse's circumference leaves room for each box plus an arrow and its label
  const rx = Math.max(260, (n * (BOX_WIDTH_PX + 50)) / (2 * Math.PI) + 60);
  const ry = Math.max(150, (n * (hMax + 80)) / (2 * Math.PI) + 30);
  const width = 2 * rx + BOX_WIDTH_PX + 40;
  const height = 2 * ry + hMax + 40;
  const placed = boxes.map((box, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return { box, cx: width / 2 + rx * Math.cos(angle), cy: height / 2 + ry * Math.sin(angle), w: BOX_WIDTH_PX, h: boxHeight(box) };
  });
  return { placed, width, height };
}

/** Where the segment from the box centre towards (tx, ty) leaves the box. */
function borderPoint(p: Placed, tx: number, ty: number): [number, number] {
  const dx = tx - p.cx;
  const dy = ty - p.cy;
  const scale = 1 / Math.max(Math.abs(dx) / (p.w / 2 + 4), Math.abs(dy) / (p.h / 2 + 4), 1e-9);
  return [p.cx + dx * Math.min(1, scale), p.cy + dy * Math.min(1, scale)];
}

function drawBox(p: Placed, edges: readonly TxnEdge[], nodeOf: NodeOf): string {
  const x = p.cx - p.w / 2;
  const y = p.cy - p.h / 2;
  const head = `${T(p.box.index)} · process ${showValue(p.box.process, 12)}${typeof p.box.process === 'number' ? ` · ${nodeOf(p.box.process)}` : ''}`;
  const lines = boxLines(p.box)
    .map((line, i) => {
      const part = involvement(line.mop, edges);
      // inline style: the class's fill would beat a presentation attribute
      const style = part === undefined ? '' : part.exact ? ` style="font-weight:700;fill:${EDGE_COLOURS[part.edge.kind] ?? '#111'}"` : ' style="font-weight:700"';
      return `<text x="${px(x + 10)}" y="${px(y + 36 + i * LINE_PX)}" class="txmop"${style}>${escapeXml(line.text)}</text>`;
    })
    .join('');
  return (
    `<g class="tx" data-index="${p.box.index}"><title>${escapeXml(`${T(p.box.index)} (history index ${p.box.index}, process ${showValue(p.box.process)}${typeof p.box.process === 'number' ? ` via ${nodeOf(p.box.process)}` : ''}): ${showValue(p.box.txn, 400)}`)}</title>` +
    `<rect x="${px(x)}" y="${px(y)}" width="${px(p.w)}" height="${px(p.h)}" rx="6" class="txbox"/>` +
    `<text x="${px(x + 10)}" y="${px(y + 17)}" class="txhead">${escapeXml(head)}</text>${lines}</g>`
  );
}

function drawEdge(e: TxnEdge, from: Placed, to: Placed, bend: number, markerId: string): string {
  const colour = EDGE_COLOURS[e.kind] ?? '#6b21a8';
  // a control point off the centre line, so opposite edges between two boxes do not overlap
  const mx = (from.cx + to.cx) / 2;
  const my = (from.cy + to.cy) / 2;
  const dx = to.cx - from.cx;
  const dy = to.cy - from.cy;
  const length = Math.hypot(dx, dy) || 1;
  const cx = mx + (-dy / length) * bend;
  const cy = my + (dx / length) * bend;
  const [x1, y1] = borderPoint(from, cx, cy);
  const [x2, y2] = borderPoint(to, cx, cy);
  // the curve's midpoint, for the label
  const lx = 0.25 * x1 + 0.5 * cx + 0.25 * x2;
  const ly = 0.25 * y1 + 0.5 * cy + 0.25 * y2;
  const text = e.key === null || e.kind === 'realtime' || e.kind === 'process' ? e.kind : `${e.kind} ${clip(showValue(e.key, 12), 12)}`;
  const labelWidth = text.length * 7 + 8;
  return (
    `<g class="edge-${escapeXml(e.kind)}"><title>${escapeXml(e.why)}</title>` +
    `<path d="M${px(x1)} ${px(y1)}Q${px(cx)} ${px(cy)} ${px(x2)} ${px(y2)}" class="edge" stroke="${colour}" marker-end="url(#${markerId})"/>` +
    `<rect x="${px(lx - labelWidth / 2)}" y="${px(ly - 10)}" width="${labelWidth}" height="16" rx="3" class="edgebg"/>` +
    `<text x="${px(lx)}" y="${px(ly + 2)}" text-anchor="middle" class="edgelabel" fill="${colour}">${escapeXml(text)}</text></g>`
  );
}

/** The drawing of one explanation, or '' when there is nothing to draw. */
/** Elle's G1a and G1b entries name the reader first, then the writer it read from. */
const READ_FROM: { readonly [type: string]: string } = { G1a: 'read an aborted write', G1b: 'read an intermediate write' };

export function drawExplanation(explained: Explained, id: string, nodeOf: NodeOf = (process) => `p${process}`): string {
  const readFrom = READ_FROM[explained.type];
  const [reader, writer] = explained.boxes;
  const x: Explained =
    readFrom !== undefined && explained.edges.length === 0 && explained.boxes.length === 2 && reader !== undefined && writer !== undefined
      ? { ...explained, edges: [{ from: writer.index, to: reader.index, kind: readFrom, key: null, value: null, why: explained.text }] }
      : explained;
  if (x.boxes.length === 0 || x.boxes.length > BOXES_PER_DRAWING) return '';
  const { placed, width, height } = layout(x.boxes);
  const byIndex = new Map(placed.map((p) => [p.box.index, p]));
  const kinds = [...new Set(x.edges.map((e) => e.kind))];
  const markerId = (kind: string): string => `${id}-${kinds.indexOf(kind)}`;
  const defs = kinds
    .map(
      (kind) =>
        `<marker id="${markerId(kind)}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="${EDGE_COLOURS[kind] ?? '#6b21a8'}"/></marker>`,
    )
    .join('');
  const pairCount = new Map<string, number>();
  const edges = x.edges
    .map((e) => {
      const from = byIndex.get(e.from);
      const to = byIndex.get(e.to);
      if (from === undefined || to === undefined || from === to) return '';
      // several edges between one pair (either way) bend further apart
      const pair = [Math.min(e.from, e.to), Math.max(e.from, e.to)].join(':');
      const nth = pairCount.get(pair) ?? 0;
      pairCount.set(pair, nth + 1);
      const base = placed.length <= 2 ? 55 : 28;
      return drawEdge(e, from, to, base + nth * 34, markerId(e.kind));
    })
    .join('');
  const edgesOf = (index: number): TxnEdge[] => x.edges.filter((e) => e.from === index || e.to === index);
  const boxes = placed.map((p) => drawBox(p, edgesOf(p.box.index), nodeOf)).join('');
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return `<svg id="${escapeXml(id)}" class="cycle" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><defs>${defs}</defs>${boxes}${edges}</svg>`;
}

// ---------------------------------------------------------------------------------------------
// A reply that does not answer its request: the request and the reply side by side

/** The invocation of a completion: the same process's latest invoke before it. */
function invocationOf(history: readonly Op[], completionIndex: number): Op | undefined {
  const findOp = opFinder(history);
  const completion = findOp(completionIndex);
  if (completion === undefined) return undefined;
  const at = history[completionIndex] === completion ? completionIndex : history.indexOf(completion);
  // bounded walk: a process has one operation outstanding, so its invoke is never far back in practice
  for (let i = at - 1; i >= 0 && i >= at - 100_000; i--) {
    const op = history[i] as Op;
    if (op.process === completion.process) return op.type === 'invoke' ? op : undefined;
  }
  return undefined;
}

function signature(mop: Json): string {
  if (!Array.isArray(mop)) return JSON.stringify(mop);
  // a read's value is filled in by the reply; everything else must come back as asked
  return JSON.stringify(mop[0] === 'r' ? [mop[0], mop[1]] : mop);
}

/** Which entries of a and b a longest common subsequence keeps (the rest were dropped, added or moved). */
export function alignMops(a: readonly string[], b: readonly string[]): { aKept: boolean[]; bKept: boolean[] } {
  const n = a.length;
  const m = b.length;
  const table: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i]![j] = a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const aKept = new Array<boolean>(n).fill(false);
  const bKept = new Array<boolean>(m).fill(false);
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (a[i] === b[j]) {
      aKept[i++] = true;
      bKept[j++] = true;
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++;
    else j++;
  }
  return { aKept, bKept };
}

/** Request and reply as two boxes, the micro-ops that do not correspond in red. */
export function drawMismatch(asked: Op, answered: TxnBox, listAppend: boolean, id: string): string {
  const requested = (Array.isArray(asked.value) ? asked.value : []).slice(0, MAX_MISMATCH_MOPS);
  const replied = (Array.isArray(answered.txn) ? answered.txn : []).slice(0, MAX_MISMATCH_MOPS);
  const { aKept, bKept } = alignMops(requested.map(signature), replied.map(signature));
  // a list-append read must return a list (maelstrom#14: reads answered like appends)
  const badRead = (mop: Json): boolean => listAppend && Array.isArray(mop) && mop[0] === 'r' && mop[2] !== null && !Array.isArray(mop[2]);
  const column = (x: number, title: string, mops: Json[], kept: boolean[]): string => {
    const h = 30 + mops.length * LINE_PX;
    const lines = mops
      .map((mop, i) => {
        const wrong = !kept[i] || badRead(mop);
        const text = `${mopText(mop)}${wrong ? '  ✕' : ''}`;
        return `<text x="${x + 10}" y="${36 + 20 + i * LINE_PX}" class="txmop"${wrong ? ' style="font-weight:700;fill:#b91c1c"' : ''}>${escapeXml(text)}</text>`;
      })
      .join('');
    return `<rect x="${x}" y="20" width="${BOX_WIDTH_PX}" height="${h}" rx="6" class="txbox"/><text x="${x + 10}" y="${20 + 17}" class="txhead">${escapeXml(title)}</text>${lines}`;
  };
  const gap = 140;
  const height = 60 + Math.max(requested.length, replied.length, 1) * LINE_PX;
  const width = 2 * BOX_WIDTH_PX + gap + 40;
  const leftX = 20;
  const rightX = 20 + BOX_WIDTH_PX + gap;
  const arrowY = 20 + 12;
  return (
    `<svg id="${escapeXml(id)}" class="mismatch" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<defs><marker id="${escapeXml(id)}-a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0 0L10 5L0 10z" fill="#475569"/></marker></defs>` +
    column(leftX, `asked: op ${asked.index}, process ${showValue(asked.process, 12)}`, requested, aKept) +
    column(rightX, `answered: ${T(answered.index)}`, replied, bKept) +
    `<path d="M${leftX + BOX_WIDTH_PX + 6} ${arrowY}L${rightX - 6} ${arrowY}" class="edge" stroke="#475569" marker-end="url(#${escapeXml(id)}-a)"/>` +
    `<text x="${px(leftX + BOX_WIDTH_PX + gap / 2)}" y="${arrowY - 6}" text-anchor="middle" class="edgelabel" fill="#475569">txn_ok</text></svg>`
  );
}

// ---------------------------------------------------------------------------------------------
// The sections

/** A request/reply comparison for a reply that does not answer its request, else the cycle. */
function drawFor(x: Explained, id: string, context: ViewContext): string {
  const only = x.boxes[0];
  if (x.source === 'glomers' && x.edges.length === 0 && x.boxes.length === 1 && only !== undefined) {
    const asked = invocationOf(context.history, only.index);
    if (asked !== undefined) return drawMismatch(asked, only, context.opts.workload === 'txn-list-append', id);
  }
  return drawExplanation(x, id, (process) => nodeOfProcess(process, context.opts));
}

function card(x: Explained, drawing: string): string {
  const tags =
    (x.source === 'glomers' ? '<span class="tag extra">glomers finding</span>' : '') +
    (x.source !== 'glomers' && !x.reported ? '<span class="tag">allowed by the models checked</span>' : '') +
    (x.source !== 'glomers' && x.reported ? '<span class="tag bad">reported by Maelstrom</span>' : '');
  const words =
    x.edges.length > 0
      ? `<p>${escapeXml(`A cycle of ${x.boxes.length} transaction${x.boxes.length === 1 ? '' : 's'} that no order of execution allows:`)}</p><ul>${x.edges
          .slice(0, EDGES_IN_WORDS)
          .map((e) => `<li>${escapeXml(clip(e.why, 600))}</li>`)
          .join('')}${x.edges.length > EDGES_IN_WORDS ? `<li>${escapeXml(`… and ${x.edges.length - EDGES_IN_WORDS} more edges`)}</li>` : ''}</ul>`
      : `<p>${escapeXml(clip(x.text, 1200))}</p>`;
  const drawn = drawing === '' ? '' : `<div class="scroll">${drawing}</div>`;
  return `<div class="finding"><h3>${escapeXml(x.type)}${tags}</h3>${words}${drawn}</div>`;
}

function countsTable(all: Explained[]): string {
  const rows = new Map<string, { n: number; source: string; reported: boolean }>();
  for (const x of all) {
    const row = rows.get(x.type) ?? { n: 0, source: x.source, reported: x.reported };
    row.n++;
    rows.set(x.type, row);
  }
  const body = [...rows.entries()]
    .map(([type, r]) => `<tr><td class="l">${escapeXml(type)}</td><td>${r.n}</td><td class="l">${r.source === 'glomers' ? 'glomers finding' : r.reported ? 'reported by Maelstrom' : 'allowed by the models checked'}</td></tr>`)
    .join('');
  return `<table class="view"><tr><th>anomaly</th><th>explained</th><th>source</th></tr>${body}</table>`;
}

function glomersNote(extra: JsonMap): string {
  const types = asArray(extra['finding-types']).filter((t): t is string => typeof t === 'string');
  const strict = extra['strict'] === true;
  if (types.length === 0) {
    return '<p class="explain">Beyond Maelstrom\'s checks (G0 under read-uncommitted, replies that drop or alter micro-ops, list-append reads answered as appends): nothing found.</p>';
  }
  const counts = strict ? 'they count toward the verdict (--strict)' : 'they do not count toward the verdict without --strict, so the verdict stays Maelstrom\'s';
  return `<p class="explain">${escapeXml(`Beyond Maelstrom's checks glomers found ${types.join(', ')}; ${counts}.`)}</p>`;
}

function render(results: Results, context: ViewContext): string {
  const parts: string[] = ['<h2>Transactions: anomalies explained</h2>'];
  const extraJson = results.glomers.workload;
  if (!isMap(extraJson)) {
    parts.push('<p class="note">The transaction checker left no explanations (results.glomers.workload) for this run.</p>');
    return parts.join('\n');
  }
  const extra = asMap(extraJson);
  const error = asString(extra['error']);
  if (error !== undefined) parts.push(`<p class="note">${escapeXml(`The checker could not finish: ${error}`)}</p>`);
  parts.push(glomersNote(extra));
  const all = ordered(readExplanations(extra));
  if (all.length === 0) {
    parts.push('<p class="explain">No anomalies to explain.</p>');
    return parts.join('\n');
  }
  parts.push(
    '<p class="explain">Each box is a transaction (T&lt;history index&gt;, its process and its micro-ops; those on the keys of its edges in bold, the write or read an edge is about in the edge&#39;s colour). An arrow A → B means A must come before B: <b style="color:#b91c1c">ww</b> B overwrote what A wrote, <b style="color:#1d4ed8">wr</b> B read what A wrote, <b style="color:#c2410c">rw</b> A read a version that B then overwrote, <b style="color:#475569">realtime</b> A finished before B began, <b style="color:#047857">process</b> A came before B on one process. Hover an arrow for the reason.</p>',
    countsTable(all),
  );
  const main = all.filter((x) => rank(x) < 2);
  const allowed = all.filter((x) => rank(x) === 2);
  const listedPerType = new Map<string, number>();
  const drawnPerType = new Map<string, number>();
  let listed = 0;
  let drawn = 0;
  const cards = (xs: Explained[], drawAllowed: boolean): string[] => {
    const out: string[] = [];
    for (const x of xs) {
      const nType = listedPerType.get(x.type) ?? 0;
      if (listed >= LISTED_LIMIT || nType >= LISTED_PER_TYPE) continue;
      listedPerType.set(x.type, nType + 1);
      listed++;
      let drawing = '';
      const dType = drawnPerType.get(x.type) ?? 0;
      if (drawAllowed && drawn < DRAWN_LIMIT && dType < DRAWN_PER_TYPE) {
        drawing = drawFor(x, `txn-cycle-${listed}`, context);
        if (drawing !== '') {
          drawn++;
          drawnPerType.set(x.type, dType + 1);
        }
      }
      out.push(card(x, drawing));
    }
    return out;
  };
  parts.push(...cards(main, true));
  const mainListed = listed;
  if (allowed.length > 0) {
    const inner = cards(allowed, false);
    parts.push(
      `<details><summary>${escapeXml(`${allowed.length} more found by Elle's search that the consistency models checked allow (not in Maelstrom's anomaly-types)`)}</summary>${inner.join('')}${capNote(inner.length, allowed.length, 'of these')}</details>`,
    );
  }
  parts.push(capNote(mainListed, main.length, `explanations (at most ${LISTED_PER_TYPE} per anomaly type, ${DRAWN_PER_TYPE} per type and ${DRAWN_LIMIT} in all drawn)`));
  return parts.join('\n');
}

function summary(results: Results): string[] {
  const extra = results.glomers.workload;
  if (!isMap(extra)) return [];
  const main = ordered(readExplanations(extra)).filter((x) => rank(x) < 2);
  // one line per anomaly type first, so ten lines name as many types as there are
  const nth = new Map<string, number>();
  const withRound = main.map((x, i) => {
    const n = nth.get(x.type) ?? 0;
    nth.set(x.type, n + 1);
    return { x, round: n, i };
  });
  withRound.sort((a, b) => rank(a.x) - rank(b.x) || a.round - b.round || a.i - b.i);
  return boundLines(withRound.map(({ x }) => summaryLine(x)), SUMMARY_LINE_LIMIT);
}

export const txnView: WorkloadView = { render, summary };
