// The pure core of the counter's memory mode: a state-based PN-counter (docs/counters.md). No I/O
// and no clocks: the server passes the time in and sends what tick() returns.
//
// Each process of each node ("n1:<incarnation>") owns one entry {p, n}: the sum of its positive
// and of its negated negative adds. Entries only grow, so merging is a per-entry maximum and a
// read is the sum of p - n over the entries. A new process starts a new entry, so a restarted node
// never collides with what its predecessor's entry reached at some peer.
//
// Messages carry the sender's whole table (a few entries) and whether the sender thinks the
// receiver lacks something (then the receiver answers once, so the sender learns it arrived).
// A node sends to a peer at its round only if that peer lacks something it has not been sent, owes
// an answer, or lacks something sent retryMs ago without an answer (a lost message). A quiet
// counter sends nothing.
//
// Guarantee: an add is acknowledged once it is in the node's memory. A kill loses the adds its
// process took since its last message that reached a peer; partitions lose nothing.
//
// Bounds: at most maxEntries entries (processes) in a table; every entry's p and n within
// entryBound, chosen so that any sum over a full table is a safe integer.

export interface CrdtConfig {
  /** how often a node looks at what its peers lack */
  roundMs: number;
  /** a peer that lacks something sent this long ago without an answer gets it again */
  retryMs: number;
  /** most entries (node processes) a table holds; a message that would add more is cut to fit */
  maxEntries: number;
}

export const defaultCrdtConfig: CrdtConfig = { roundMs: 2000, retryMs: 4000, maxEntries: 3072 };

export interface Entry {
  p: number;
  n: number;
}

/** holder -> [p, n] */
export type EntriesJson = { [holder: string]: [number, number] };

export interface CountsMessage {
  type: 'pn';
  entries: EntriesJson;
  /** the sender thinks the receiver lacks something: answer once */
  answer: boolean;
}

interface PeerBook {
  /** what it told us it holds (a lower bound of what it holds now) */
  reported: Map<string, Entry>;
  /** what we last sent it; undefined before the first message */
  sent: Map<string, Entry> | undefined;
  lastSentMs: number;
  answerOwed: boolean;
}

export interface CrdtState {
  readonly config: CrdtConfig;
  readonly holder: string;
  /** largest p or n of one entry */
  readonly entryBound: number;
  readonly entries: Map<string, Entry>;
  readonly peers: ReadonlyMap<string, PeerBook>;
}

/** Any maxEntries entries within it sum to a safe integer, positive and negative parts alike. */
export function entryBoundFor(config: CrdtConfig): number {
  return Math.floor(Number.MAX_SAFE_INTEGER / config.maxEntries);
}

export function createCrdt(config: CrdtConfig, self: string, nodes: readonly string[], incarnation: string): CrdtState {
  const peers = new Map<string, PeerBook>();
  for (const node of nodes) if (node !== self) peers.set(node, { reported: new Map(), sent: undefined, lastSentMs: -Infinity, answerOwed: false });
  const holder = `${self}:${incarnation}`;
  const state: CrdtState = { config, holder, entryBound: entryBoundFor(config), entries: new Map([[holder, { p: 0, n: 0 }]]), peers };
  return state;
}

function own(state: CrdtState): Entry {
  return state.entries.get(state.holder) as Entry;
}

/** Whether `delta` fits this process's entry (false: refuse the add with 12). */
export function fitsEntry(state: CrdtState, delta: number): boolean {
  if (!Number.isSafeInteger(delta)) return false;
  const entry = own(state);
  return delta >= 0 ? entry.p + delta <= state.entryBound : entry.n - delta <= state.entryBound;
}

export function addDelta(state: CrdtState, delta: number): void {
  if (!fitsEntry(state, delta)) throw new Error(`invariant: delta ${delta} does not fit the entry`);
  const entry = own(state);
  if (delta >= 0) entry.p += delta;
  else entry.n -= delta;
}

export function readValue(state: CrdtState): number {
  let total = 0;
  for (const { p, n } of state.entries.values()) total += p - n;
  if (!Number.isSafeInteger(total)) throw new Error(`invariant: total ${total} over ${state.entries.size} entries is not a safe integer`);
  return total;
}

/** The message in `body`, or what is wrong with it. Entries must name a known node's process. */
export function parseCounts(body: { [key: string]: unknown }, nodes: readonly string[], state: CrdtState): CountsMessage | string {
  const { entries, answer } = body;
  if (typeof answer !== 'boolean') return 'answer is not a boolean';
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return 'entries is not an object';
  const list = Object.entries(entries as object);
  if (list.length > state.config.maxEntries) return `more than ${state.config.maxEntries} entries`;
  for (const [holder, value] of list) {
    if (holder.length > 200 || !nodes.some((node) => holder.startsWith(`${node}:`))) return `entry ${holder.slice(0, 40)} names no known node`;
    if (!Array.isArray(value) || value.length !== 2) return 'an entry is not [p, n]';
    if (!value.every((part) => Number.isSafeInteger(part) && part >= 0 && part <= state.entryBound)) return `an entry part is not an integer in 0..${state.entryBound}`;
  }
  return { type: 'pn', entries: entries as EntriesJson, answer };
}

/** Raises `table`'s entries to `entries`' (room permitting); returns whether anything grew. */
function mergeInto(table: Map<string, Entry>, entries: EntriesJson, maxEntries: number): boolean {
  let grew = false;
  for (const [holder, [p, n]] of Object.entries(entries)) {
    const known = table.get(holder);
    if (known === undefined) {
      if (table.size >= maxEntries) continue;
      table.set(holder, { p, n });
      grew = true;
      continue;
    }
    if (p > known.p) (known.p = p), (grew = true);
    if (n > known.n) (known.n = n), (grew = true);
  }
  return grew;
}

export function receive(state: CrdtState, peer: string, message: CountsMessage): void {
  const book = state.peers.get(peer);
  if (book === undefined) return;
  mergeInto(state.entries, message.entries, state.config.maxEntries);
  mergeInto(book.reported, message.entries, state.config.maxEntries);
  if (message.answer) book.answerOwed = true;
}

/** Whether `table` has an entry above `floor`'s (what `floor` would gain from it). */
function exceeds(table: ReadonlyMap<string, Entry>, floor: ReadonlyMap<string, Entry> | undefined): boolean {
  for (const [holder, { p, n }] of table) {
    const known = floor?.get(holder);
    if (known === undefined || p > known.p || n > known.n) return true;
  }
  return false;
}

function entriesJson(table: ReadonlyMap<string, Entry>): EntriesJson {
  const json: EntriesJson = {};
  for (const [holder, { p, n }] of table) json[holder] = [p, n];
  return json;
}

/** One round: a message to each peer that lacks news, owes nothing, or is due a resend. */
export function tick(state: CrdtState, nowMs: number): Array<{ dest: string; body: CountsMessage }> {
  const out: Array<{ dest: string; body: CountsMessage }> = [];
  for (const [peer, book] of state.peers) {
    const lacks = exceeds(state.entries, book.reported);
    const fresh = exceeds(state.entries, book.sent);
    const resend = lacks && nowMs - book.lastSentMs >= state.config.retryMs;
    if (!book.answerOwed && !(lacks && fresh) && !resend) continue;
    book.sent = new Map([...state.entries].map(([holder, entry]) => [holder, { ...entry }]));
    book.lastSentMs = nowMs;
    book.answerOwed = false;
    out.push({ dest: peer, body: { type: 'pn', entries: entriesJson(state.entries), answer: lacks } });
  }
  return out;
}
