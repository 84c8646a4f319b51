// The message-flow (Lamport) diagrams of report.html: the first messages of the load (init and
// setup traffic left out), and small windows of the journal around the moments an explanation
// names (a lost value's broadcast, a duplicate id), read back from net-journal.jsonl. Clients
// share one lane, and columns narrow with the node count, so 25+ nodes fit the page.

import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { JournalEvent, Json } from '../types.js';
import type { Fact } from '../check/explain.js';
import { escapeXml, px } from './svg.js';

/** How many messages the main flow diagram shows (Maelstrom truncates its messages.svg too). */
export const MESSAGE_DIAGRAM_LIMIT = 300;
/** Messages in one window around a fact. */
export const WINDOW_MESSAGE_LIMIT = 80;
/** Facts that get a window of their own. */
export const WINDOW_LIMIT = 6;
/** How much of the journal a window covers around its fact: a little before, more after. */
const WINDOW_BEFORE_NS = 20e6;
const WINDOW_AFTER_NS = 1_000e6;
/** Message types of the harness's setup: init, and the topology broadcast gets before load. */
export const SETUP_TYPES: ReadonlySet<string> = new Set(['init', 'init_ok', 'topology', 'topology_ok']);
const CLIENT_LANE = 'clients';
const NS_PER_MS = 1e6;

export interface DiagramMessage {
  /** true: the message carries the value its window's fact is about */
  carries?: boolean;
  id: number;
  src: string;
  dest: string;
  type: string;
  bodyJson: string;
  sendNs: number;
  recvNs: number | undefined;
}

/** A window of the journal around one fact of the explanation. */
export interface MessageWindow {
  /** the fact's position in the explanation (its anchor is #messages-<factIndex>) */
  factIndex: number;
  fact: Fact;
  fromNs: number;
  toNs: number;
  /** the nodes whose messages it shows (all when empty) */
  nodes: string[];
  messages: DiagramMessage[];
}

function messageType(event: JournalEvent): string {
  return typeof event.body?.type === 'string' ? event.body.type : '?';
}

/** Messages from the journal's events (sends paired with their deliveries), up to `limit`, chosen by `keep`. */
export function diagramMessages(journal: Iterable<JournalEvent>, limit: number, keep: (event: JournalEvent) => boolean = () => true): DiagramMessage[] {
  const chosen = new Map<number, DiagramMessage>();
  for (const event of journal) {
    if (event.kind === 'send') {
      if (chosen.size >= limit || chosen.has(event.id) || !keep(event)) continue;
      chosen.set(event.id, { id: event.id, src: event.src, dest: event.dest, type: messageType(event), bodyJson: JSON.stringify(event.body) ?? '', sendNs: event.timeNs, recvNs: undefined });
    } else {
      const message = chosen.get(event.id);
      if (message && message.recvNs === undefined) message.recvNs = event.timeNs;
    }
  }
  return [...chosen.values()];
}

export function isSetupMessage(event: JournalEvent): boolean {
  return SETUP_TYPES.has(messageType(event));
}

/** The windows worth drawing: the first facts that have a time. */
export function plannedWindows(facts: readonly Fact[]): Array<Omit<MessageWindow, 'messages'>> {
  const windows: Array<Omit<MessageWindow, 'messages'>> = [];
  facts.forEach((fact, factIndex) => {
    if (fact.atNs === undefined || windows.length >= WINDOW_LIMIT) return;
    windows.push({ factIndex, fact, fromNs: Math.max(0, fact.atNs - WINDOW_BEFORE_NS), toNs: fact.atNs + WINDOW_AFTER_NS, nodes: fact.nodes ?? [] });
  });
  return windows;
}

function touches(event: JournalEvent, nodes: readonly string[]): boolean {
  return nodes.length === 0 || nodes.includes(event.src) || nodes.includes(event.dest);
}

/** Collects the windows' messages from journal events fed in order (the file's lines, or the head kept in memory). */
export function windowCollector(planned: ReadonlyArray<Omit<MessageWindow, 'messages'>>): { add(event: JournalEvent): void; windows(): MessageWindow[] } {
  const windows = planned.map((w) => ({ ...w, chosen: new Map<number, DiagramMessage>() }));
  return {
    add(event) {
      for (const w of windows) {
        if (event.kind === 'recv') {
          const message = w.chosen.get(event.id);
          if (message !== undefined && message.recvNs === undefined) message.recvNs = event.timeNs;
          continue;
        }
        if (event.timeNs < w.fromNs || event.timeNs > w.toNs || w.chosen.size >= WINDOW_MESSAGE_LIMIT || isSetupMessage(event) || !touches(event, w.nodes)) continue;
        const message: DiagramMessage = { id: event.id, src: event.src, dest: event.dest, type: messageType(event), bodyJson: JSON.stringify(event.body) ?? '', sendNs: event.timeNs, recvNs: undefined };
        if (w.fact.value !== undefined && carries(event.body, w.fact.value)) message.carries = true;
        w.chosen.set(event.id, message);
      }
    },
    windows: () => windows.map(({ chosen, ...w }) => ({ ...w, messages: [...chosen.values()] })),
  };
}

/** Protocol fields that number messages rather than carry data. */
const ENVELOPE_FIELDS = new Set(['type', 'msg_id', 'in_reply_to']);

/** Whether a body carries `value` in one of its data fields, at any depth (a gossip batch too). */
export function carries(body: unknown, value: Json, depth = 0): boolean {
  if (depth > 4 || body === null || body === undefined) return false;
  if (JSON.stringify(body) === JSON.stringify(value)) return true;
  if (Array.isArray(body)) return body.some((item) => carries(item, value, depth + 1));
  if (typeof body !== 'object') return false;
  return Object.entries(body).some(([key, item]) => (depth > 0 || !ENVELOPE_FIELDS.has(key)) && carries(item, value, depth + 1));
}

const TIME_FIELD = /"timeNs":(\d+)/;

/** Journal events from net-journal.jsonl within [fromNs, toNs], parsed only when their time is in range. */
export async function* journalEventsBetween(file: string, fromNs: number, toNs: number): AsyncGenerator<JournalEvent> {
  if (!existsSync(file)) return;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    const time = TIME_FIELD.exec(line);
    if (time === null) continue;
    const t = Number(time[1]);
    if (t < fromNs) continue;
    // Deliveries come after their sends; a window's last sends may be delivered a little later.
    if (t > toNs + 5_000e6) break;
    try {
      yield JSON.parse(line) as JournalEvent;
    } catch {
      // a torn last line of an interrupted run
    }
  }
}

/** Servers first (n0, n1, … in numeric order), then services, then the clients' lane. */
function participantOrder(a: string, b: string): number {
  const rank = (id: string): number => (id === CLIENT_LANE ? 2 : /^n\d/.test(id) ? 0 : 1);
  return rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true });
}

function lane(id: string): string {
  return id.startsWith('c') ? CLIENT_LANE : id;
}

/** One diagram: lanes per node (clients share one), rows in event order. */
export function messageDiagramSvg(messages: readonly DiagramMessage[], svgId: string, title: string): string {
  const participants = [...new Set(messages.flatMap((m) => [lane(m.src), lane(m.dest)]))].sort(participantOrder);
  const times = [...new Set(messages.flatMap((m) => (m.recvNs === undefined ? [m.sendNs] : [m.sendNs, m.recvNs])))].sort((a, b) => a - b);
  const rowOf = new Map(times.map((t, i) => [t, i]));
  const rowPx = 9;
  const columnPx = Math.max(34, Math.min(150, 1150 / Math.max(1, participants.length)));
  const leftPx = 90;
  const topPx = 60;
  const widthPx = Math.ceil(leftPx + columnPx * Math.max(1, participants.length) + 40);
  const heightPx = topPx + (times.length + 3) * rowPx + 20;
  const colX = (id: string): number => leftPx + columnPx * (participants.indexOf(lane(id)) + 0.5);
  const rowY = (t: number): number => topPx + 10 + (rowOf.get(t) ?? 0) * rowPx;
  const parts: string[] = [
    `<svg id="${escapeXml(svgId)}" xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${widthPx} ${heightPx}">`,
    '<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="context-stroke"/></marker></defs>',
    `<text x="10" y="20" class="title">${escapeXml(title)}</text>`,
  ];
  if (messages.length === 0) parts.push(`<text x="20" y="50" class="note">no messages</text>`);
  for (const id of participants) {
    const x = px(colX(id));
    parts.push(`<text x="${x}" y="${topPx - 8}" text-anchor="middle" class="node">${escapeXml(id)}</text>`);
    parts.push(`<line x1="${x}" y1="${topPx}" x2="${x}" y2="${heightPx - 10}" class="lifeline"/>`);
  }
  // tick labels are taller than a row: every second row at least, and at most 60 in all
  const labelEvery = Math.max(Math.ceil(12 / rowPx), Math.ceil(times.length / 60));
  times.forEach((t, i) => {
    if (i % labelEvery === 0) parts.push(`<text x="${leftPx - 8}" y="${px(rowY(t))}" dy="3" text-anchor="end" class="tick">${(t / NS_PER_MS).toFixed(1)} ms</text>`);
  });
  for (const m of messages) parts.push(arrow(m, colX, rowY, rowPx, columnPx));
  parts.push('</svg>');
  return parts.join('');
}

function arrow(m: DiagramMessage, colX: (id: string) => number, rowY: (t: number) => number, rowPx: number, columnPx: number): string {
  const x1 = colX(m.src);
  const y1 = rowY(m.sendNs);
  const dropped = m.recvNs === undefined;
  const x2 = dropped ? x1 + (colX(m.dest) - x1) * 0.4 : colX(m.dest);
  const y2 = dropped ? y1 + rowPx * 2 : rowY(m.recvNs as number);
  const latency = dropped ? 'dropped' : `${(((m.recvNs as number) - m.sendNs) / NS_PER_MS).toFixed(2)} ms`;
  const tooltip = `${m.src} → ${m.dest} (${latency}) ${m.bodyJson.length > 400 ? m.bodyJson.slice(0, 400) + '…' : m.bodyJson}`;
  const cls = (dropped ? 'msg dropped' : m.src.startsWith('c') || m.dest.startsWith('c') ? 'msg client' : 'msg') + (m.carries === true ? ' carries' : '');
  // Narrow columns leave no room for labels on short arrows.
  const label = Math.abs(x2 - x1) >= Math.min(60, columnPx) ? `<text x="${px((x1 + x2) / 2)}" y="${px((y1 + y2) / 2 - 2)}" text-anchor="middle" class="msglabel">${escapeXml(m.type)}</text>` : '';
  return (
    `<g class="${cls}"><title>${escapeXml(tooltip)}</title>` +
    `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" marker-end="url(#arrowhead)"/>` +
    (dropped ? `<text x="${px(x2 + 3)}" y="${px(y2 + 4)}" class="drop">✕</text>` : '') +
    label +
    '</g>'
  );
}

/** The main diagram: the first messages after setup (init and topology are left out). */
export function mainDiagramHtml(journalHead: readonly JournalEvent[], totalSends: number): string {
  if (journalHead.length === 0) return '<p>No messages to draw: none were journaled here (a Maelstrom store folder keeps its journal as fressian, which glomers does not read).</p>';
  const setupSends = journalHead.filter((e) => e.kind === 'send' && isSetupMessage(e)).length;
  const messages = diagramMessages(journalHead, MESSAGE_DIAGRAM_LIMIT, (e) => !isSetupMessage(e));
  const loadSends = totalSends - setupSends;
  const shown = messages.length < loadSends ? `first ${messages.length} of ${loadSends} messages` : `${messages.length} messages`;
  const title = `Message flow (${shown} after ${setupSends} init and setup messages; rows are event order, not to scale)`;
  return `<div class="scroll">${messageDiagramSvg(messages, 'messages', title)}</div>`;
}

/** A window's diagram, anchored so the explanation's facts can link to it. */
export function windowHtml(window: MessageWindow): string {
  const nodes = window.nodes.length > 0 ? ` to and from ${window.nodes.join(', ')}` : '';
  const title = `Messages${nodes}, ${(window.fromNs / 1e9).toFixed(3)}–${(window.toNs / 1e9).toFixed(3)} s (${window.messages.length}${window.messages.length >= WINDOW_MESSAGE_LIMIT ? ', cut' : ''})`;
  const between = window.messages.filter((m) => window.nodes.includes(m.src) && !m.dest.startsWith('c'));
  const passedOn =
    window.nodes.length === 0
      ? ''
      : `<p class="fact">${escapeXml(`${window.nodes.join(', ')} sent ${between.length} message${between.length === 1 ? '' : 's'} to other nodes or services in this window.`)}</p>`;
  const carrying = window.fact.value === undefined ? '' : `<p class="fact">${escapeXml(`Messages carrying ${JSON.stringify(window.fact.value)} are drawn thick and orange (${window.messages.filter((m) => m.carries === true).length} here).`)}</p>`;
  return (
    `<h3 id="messages-${window.factIndex}">${escapeXml(`Around fact ${window.factIndex + 1}`)}</h3>` +
    `<p class="fact">${escapeXml(window.fact.text)}</p>` +
    passedOn +
    carrying +
    `<div class="scroll">${messageDiagramSvg(window.messages, `messages-svg-${window.factIndex}`, title)}</div>`
  );
}
