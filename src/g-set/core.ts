// The pure core of bin/g-set, a grow-only set of integers (Maelstrom's g-set workload). No I/O and
// no clocks: the server passes the time in and sends what tick() returns. Design: docs/counters.md.
//
// Elements are kept per origin (one process of one node, "n1:<incarnation>") in the order that
// process took them, so what a peer holds of an origin is one number (how many of its elements),
// and what it lacks is the tail after that number. Every message carries the sender's knowledge:
// for each holder, how much of each origin it is known to hold. That one table acknowledges data
// (the receiver's own row), relays who holds what (other rows), and tells the sender what to send.
//
// Routing: a star. Leaves send to the hub (the first node), the hub to every leaf, in rounds at
// multiples of roundMs (the hub hubDelayMs later, so what leaves sent goes on in the same round).
// A message goes only to a peer that lacks data or has not heard what we hold (an acknowledgement),
// so a quiet set costs nothing.
//
// Cuts: every message carries the sender's clock (`at`) and, relayed, which of whose messages each
// node got (`heard`), so a node learns that a message of its own arrived even when the answer can
// only come round through the other node. A peer that lacks something and has got none of our data
// sent suspectMs ago is silent: rounds skip it (the hub still sends it its round message, one
// cut-off leaf a round, as its probe), and a leaf probes it half a round after its own round, so a
// cut link is tried every probeMs and a heal is found within about that. The first message through
// after a heal is answered at once (answerBack) with what the peer lacks, and what it brought goes
// on at once to the peers still reachable. A leaf sends to the other leaf directly while the hub is
// silent (once that leaf is known to get our messages; probes find out) or while the hub names it
// cut off (the hub hears it but cannot reach it); otherwise it only acknowledges what that leaf sent
// it directly (a bare acknowledgement, which asks for none back).
//
// Bounds: a message carries at most maxBatchElements elements (the rest go next round). In a round
// a node sends at most what it sends on a healthy star (the hub one message per leaf, a leaf one),
// plus one probe, plus the answers of a heal (at most one per peer it hears back from); a node
// takes at most maxElements client elements and knows at most maxOrigins origins. Memory is the set
// itself (each element once per origin that took it, with the time it arrived) plus per peer a few
// numbers per origin and at most MAX_UNACKED send times; a partition adds nothing, since what a
// peer lacks is always the tail after its acknowledged count.

export interface GsetConfig {
  /** rounds start at multiples of this (wall clock), so every leaf sends at the same moment */
  roundMs: number;
  /** the hub's round starts this much after the leaves', to pass on what they sent in the same round */
  hubDelayMs: number;
  /** unacknowledged data is resent to a peer at most this often */
  retryMs: number;
  /** a peer that has got none of our data sent this long ago is silent (cut off from us) */
  suspectMs: number;
  /** a silent link is tried every probeMs: leaves probe in the odd slots of this length, the hub in its rounds */
  probeMs: number;
  /** most elements one message carries */
  maxBatchElements: number;
  /** most elements a node takes from clients (beyond: error 11) */
  maxElements: number;
  /** most origins (node processes) a node keeps track of */
  maxOrigins: number;
}

export const defaultGsetConfig: GsetConfig = {
  roundMs: 4000,
  hubDelayMs: 200,
  retryMs: 6000,
  // Longer than a round and the hub's delay (what a healthy peer's acknowledgement can take),
  // with room for timers firing late.
  suspectMs: 5000,
  // Half a round: a cut link is tried every 2 s (the hub's round, then the leaf's probe).
  probeMs: 2000,
  maxBatchElements: 10_000,
  maxElements: 1_000_000,
  maxOrigins: 1000,
};

/** origin -> how many of its elements */
type Counts = Map<string, number>;

/** knowledge as it travels: holder -> origin -> count */
export type KnowledgeJson = { [holder: string]: { [origin: string]: number } };

export interface GsetMessage {
  type: 'gset';
  /** the sender's holder id (node:incarnation) */
  from: string;
  /** [origin, index of the first element, elements] */
  data: Array<[string, number, number[]]>;
  know: KnowledgeJson;
  /** from the hub: the leaves it hears from but cannot reach (they serve each other directly) */
  cut: string[];
  /** the sender's wall clock when it sent this message */
  at: number;
  /** receiver -> sender -> the `at` of the latest message from sender that receiver got (relayed) */
  heard: HeardJson;
}

export type HeardJson = { [receiver: string]: { [sender: string]: number } };

export interface Outgoing {
  dest: string;
  body: GsetMessage;
}

interface Origin {
  elements: number[];
  heldAtMs: number[];
}

/** Undelivered messages remembered per peer; past it the second oldest is forgotten (the oldest keeps its time). */
const MAX_UNACKED = 4;

interface PeerBook {
  /** the peer's current holder id, once heard from */
  holder: string | undefined;
  /** how far each origin was sent to it (possibly beyond what it acknowledged) */
  sentUpTo: Counts;
  lastDataSentMs: number;
  /** what it told us it knows; what we last told it we hold (undefined: never told anything) */
  reported: Map<string, Counts>;
  told: Counts | undefined;
  /** the hub's cut list as we last sent it to this peer */
  toldCut: string;
  /** it sent us data we have not acknowledged yet */
  ackOwed: boolean;
  /** when our data messages to it were sent that it is not known to have got (heard), oldest first, at most MAX_UNACKED */
  unacked: number[];
  /** when its last message arrived */
  lastHeardMs: number;
}

export interface GsetState {
  readonly config: GsetConfig;
  readonly self: string;
  /** this process's holder and origin id */
  readonly holder: string;
  readonly hub: string;
  readonly peers: ReadonlyMap<string, PeerBook>;
  readonly origins: Map<string, Origin>;
  readonly members: Set<number>;
  /** holder -> origin -> count it is known to hold; this process's row is exact */
  readonly knowledge: Map<string, Counts>;
  /** at a leaf: the hub's latest cut list */
  hubCut: ReadonlySet<string>;
  /** receiver -> sender -> `at` of the latest message it got from sender: which links carry messages */
  readonly heard: Map<string, Map<string, number>>;
  /** messages sent in rounds and probes within this node's current round (see spend) */
  readonly spent: { round: number; rounds: number; probes: number };
}

export function createGset(config: GsetConfig, self: string, nodes: readonly string[], incarnation: string): GsetState {
  if (!nodes.includes(self)) throw new Error(`${self} is not among ${nodes.join(',')}`);
  const holder = `${self}:${incarnation}`;
  const peers = new Map<string, PeerBook>();
  for (const node of nodes) {
    if (node === self) continue;
    peers.set(node, freshBook(undefined));
  }
  const state: GsetState = { config, self, holder, hub: nodes[0] as string, peers, origins: new Map(), members: new Set(), knowledge: new Map(), hubCut: new Set(), heard: new Map(), spent: { round: -1, rounds: 0, probes: 0 } };
  state.knowledge.set(holder, new Map());
  return state;
}

function freshBook(holder: string | undefined): PeerBook {
  return { holder, sentUpTo: new Map(), lastDataSentMs: -Infinity, reported: new Map(), told: undefined, toldCut: '', ackOwed: false, unacked: [], lastHeardMs: -Infinity };
}

/**
 * Holder ids are `node:<start time base 36>-<random>`; the later start is the node's current
 * process. Ids that do not parse sort first.
 */
function startedMs(holder: string): number {
  const value = parseInt(holder.slice(holder.indexOf(':') + 1).split('-')[0] ?? '', 36);
  return Number.isFinite(value) ? value : -1;
}

/** Takes `holder` as the peer's current process if it is newer than the one on file (a restart resets the book). */
function adoptHolder(book: PeerBook, holder: string): void {
  if (book.holder === holder) return;
  if (book.holder !== undefined && (startedMs(holder) < startedMs(book.holder) || (startedMs(holder) === startedMs(book.holder) && holder < book.holder))) return;
  // Before its first message, what we sent went to whichever process it runs: that still counts,
  // so a first message after a cut is a heal (receive). A restart starts the book afresh.
  Object.assign(book, book.holder === undefined ? { holder } : freshBook(holder));
}

export type AddOutcome = 'added' | 'present' | 'full';

export function addElement(state: GsetState, element: number, nowMs: number): AddOutcome {
  if (!Number.isSafeInteger(element)) throw new Error(`invariant: element ${element} is not a safe integer`);
  if (state.members.has(element)) return 'present';
  const own = state.origins.get(state.holder)?.elements.length ?? 0;
  if (own >= state.config.maxElements) return 'full';
  append(state, state.holder, element, nowMs);
  return 'added';
}

export function readElements(state: GsetState): number[] {
  return [...state.members];
}

function append(state: GsetState, originId: string, element: number, nowMs: number): void {
  let origin = state.origins.get(originId);
  if (origin === undefined) {
    origin = { elements: [], heldAtMs: [] };
    state.origins.set(originId, origin);
  }
  origin.elements.push(element);
  origin.heldAtMs.push(nowMs);
  state.members.add(element);
  ownRow(state).set(originId, origin.elements.length);
  if (origin.heldAtMs.length !== origin.elements.length) throw new Error(`invariant: ${originId} has ${origin.elements.length} elements and ${origin.heldAtMs.length} arrival times`);
}

function ownRow(state: GsetState): Counts {
  return state.knowledge.get(state.holder) as Counts;
}

function rowOf(table: Map<string, Counts>, holder: string): Counts {
  let row = table.get(holder);
  if (row === undefined) {
    row = new Map();
    table.set(holder, row);
  }
  return row;
}

function raise(row: Counts, origin: string, count: number): boolean {
  if ((row.get(origin) ?? 0) >= count) return false;
  row.set(origin, count);
  return true;
}

// --- receiving ----------------------------------------------------------------------------------

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isHolderOf = (id: unknown, nodes: readonly string[]): id is string =>
  typeof id === 'string' && id.length <= 200 && nodes.some((node) => id.startsWith(`${node}:`));

/** The message in `body`, or what is wrong with it. Nothing in a peer's message is trusted. */
export function parseMessage(body: { [key: string]: unknown }, nodes: readonly string[], config: GsetConfig): GsetMessage | string {
  const { from, data, know, cut, at, heard } = body;
  if (!isCount(at)) return 'at is not a time';
  const heardError = checkHeard(heard, nodes);
  if (heardError !== undefined) return heardError;
  if (!Array.isArray(cut) || cut.length > nodes.length || !cut.every((node) => typeof node === 'string' && nodes.includes(node))) {
    return 'cut is not a list of node ids';
  }
  if (!isHolderOf(from, nodes)) return 'from is not a holder id of a known node';
  if (!Array.isArray(data) || data.length > config.maxOrigins) return 'data is not a list of at most maxOrigins entries';
  let elementCount = 0;
  for (const entry of data as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) return 'a data entry is not [origin, start, elements]';
    const [origin, start, elements] = entry as unknown[];
    if (!isHolderOf(origin, nodes) || !isCount(start) || !Array.isArray(elements)) return 'a data entry has a bad origin, start or element list';
    elementCount += elements.length;
    if (elementCount > config.maxBatchElements) return `more than ${config.maxBatchElements} elements`;
    if (!elements.every((element) => Number.isSafeInteger(element))) return 'an element is not a safe integer';
  }
  if (know === null || typeof know !== 'object' || Array.isArray(know)) return 'know is not an object';
  const holders = Object.entries(know as object);
  if (holders.length > config.maxOrigins) return 'know names too many holders';
  for (const [holder, row] of holders) {
    if (!isHolderOf(holder, nodes) || row === null || typeof row !== 'object' || Array.isArray(row)) return 'know has a bad row';
    const counts = Object.entries(row as object);
    if (counts.length > config.maxOrigins) return 'a know row names too many origins';
    if (!counts.every(([origin, count]) => isHolderOf(origin, nodes) && isCount(count))) return 'know has a bad count';
  }
  return { type: 'gset', from, data: data as GsetMessage['data'], know: know as KnowledgeJson, cut: cut as string[], at, heard: heard as HeardJson };
}

function checkHeard(heard: unknown, nodes: readonly string[]): string | undefined {
  if (heard === null || typeof heard !== 'object' || Array.isArray(heard)) return 'heard is not an object';
  for (const [receiver, row] of Object.entries(heard)) {
    if (!nodes.includes(receiver) || row === null || typeof row !== 'object' || Array.isArray(row)) return 'heard has a bad row';
    if (!Object.entries(row as object).every(([sender, at]) => nodes.includes(sender) && isCount(at))) return 'heard has a bad entry';
  }
  return undefined;
}

/**
 * Merges a peer's message (already parsed). Returns true when the link to the peer was cut and is
 * back: the caller answers at once (answerBack) rather than at the next round.
 */
export function receive(state: GsetState, peer: string, message: GsetMessage, nowMs: number): boolean {
  const book = state.peers.get(peer);
  if (book === undefined || !message.from.startsWith(`${peer}:`)) return false;
  adoptHolder(book, message.from);
  // A late message of an earlier process of that node tells nothing about the current one.
  if (book.holder !== message.from) return false;
  const heardBeforeMs = book.lastHeardMs;
  const oldestUnackedMs = book.unacked[0];
  book.lastHeardMs = nowMs;
  if (peer === state.hub) state.hubCut = new Set(message.cut);
  if (message.data.length > 0) book.ackOwed = true;
  // Its report below is what it holds: send on from there (anything lost in between goes again).
  book.sentUpTo = new Map();
  let stale = false;
  for (const [origin, start, elements] of message.data) {
    if (start < (ownRow(state).get(origin) ?? 0)) stale = true;
    mergeData(state, origin, start, elements, nowMs);
    // It holds what it sent.
    const senderRow = knowledgeRow(state, message.from);
    if (senderRow !== undefined && knowsOrigin(state, origin)) raise(senderRow, origin, start + elements.length);
  }
  for (const [holder, row] of Object.entries(message.know)) {
    // Relayed rows also name other nodes' current processes.
    const other = state.peers.get(holder.slice(0, holder.indexOf(':')));
    if (other !== undefined && other !== book) adoptHolder(other, holder);
    if (!book.reported.has(holder) && book.reported.size >= state.config.maxOrigins) continue;
    const reported = rowOf(book.reported, holder);
    const known = holder === state.holder ? undefined : knowledgeRow(state, holder);
    for (const [origin, count] of Object.entries(row)) {
      raise(reported, origin, count);
      if (known !== undefined && knowsOrigin(state, origin)) raise(known, origin, count);
    }
  }
  // It sent us what we had: our acknowledgement was lost, so tell it again what we hold.
  if (stale) book.told = undefined;
  mergeHeard(state, peer, message);
  for (const [other, otherBook] of state.peers) {
    const got = state.heard.get(other)?.get(state.self) ?? -Infinity;
    otherBook.unacked = otherBook.unacked.filter((sentMs) => sentMs > got);
  }
  // Heard again after suspectMs of quiet, for the first time since our oldest message it had not
  // got, which went out suspectMs ago or more (it was silent): the link was cut both ways and has
  // healed. (Having heard it meanwhile, the cut was one-way and may still be.)
  if (nowMs - heardBeforeMs < state.config.suspectMs) return false;
  const since = oldestUnackedMs;
  if (since !== undefined) return heardBeforeMs < since && nowMs - since >= state.config.suspectMs;
  // A leaf we never sent to, heard while the hub is cut off from us: the two leaves serve each other.
  return peer !== state.hub && state.self !== state.hub && silent(state, state.hub, nowMs);
}

/** Records that this node got `message` from `peer`, and takes in what the sender knows of who got what. */
function mergeHeard(state: GsetState, peer: string, message: GsetMessage): void {
  for (const [receiver, row] of [[state.self, { [peer]: message.at }] as const, ...Object.entries(message.heard)]) {
    const mine = rowOf(state.heard, receiver);
    for (const [sender, at] of Object.entries(row)) raise(mine, sender, at);
  }
}

/** The knowledge row of a holder, created unless maxOrigins holders are known already. */
function knowledgeRow(state: GsetState, holder: string): Counts | undefined {
  if (!state.knowledge.has(holder) && state.knowledge.size >= state.config.maxOrigins) return undefined;
  return rowOf(state.knowledge, holder);
}

function knowsOrigin(state: GsetState, origin: string): boolean {
  return state.origins.has(origin) || state.origins.size < state.config.maxOrigins;
}

function mergeData(state: GsetState, originId: string, start: number, elements: readonly number[], nowMs: number): void {
  if (!knowsOrigin(state, originId)) return;
  const held = state.origins.get(originId)?.elements.length ?? 0;
  // A gap (an earlier message lost): keep nothing past it; the sender resends from what we acknowledged.
  if (start > held) return;
  for (let index = held - start; index < elements.length; index += 1) append(state, originId, elements[index] as number, nowMs);
}

// --- sending ------------------------------------------------------------------------------------

/** Milliseconds until this node's next round: aligned to roundMs on the shared clock, the hub later. */
export function nextRoundDelayMs(state: GsetState, wallClockMs: number): number {
  const { roundMs, hubDelayMs } = state.config;
  return untilNextMultipleMs(roundMs, wallClockMs - (state.self === state.hub ? hubDelayMs : 0));
}

/** Milliseconds until a leaf's next probe slot: the odd multiples of probeMs on the shared clock (see probe). */
export function nextProbeDelayMs(state: GsetState, wallClockMs: number): number {
  const { probeMs } = state.config;
  return untilNextMultipleMs(2 * probeMs, wallClockMs - probeMs);
}

/** Milliseconds from `wallClockMs` to the next multiple of `periodMs` (a whole period when on one). */
function untilNextMultipleMs(periodMs: number, wallClockMs: number): number {
  const delay = (((-wallClockMs) % periodMs) + periodMs) % periodMs;
  return delay === 0 ? periodMs : delay;
}

/** What peer `peer` is known to hold of each origin. */
function heldBy(state: GsetState, book: PeerBook): Counts {
  return (book.holder === undefined ? undefined : state.knowledge.get(book.holder)) ?? new Map();
}

/** How long the oldest element `peer` lacks has been held here (0 if it lacks nothing). */
export function lackAgeMs(state: GsetState, peer: string | PeerBook, nowMs: number): number {
  const book = typeof peer === 'string' ? state.peers.get(peer) : peer;
  if (book === undefined) return 0;
  const held = heldBy(state, book);
  let oldest = nowMs;
  for (const [originId, origin] of state.origins) {
    const count = held.get(originId) ?? 0;
    if (count < origin.elements.length) oldest = Math.min(oldest, origin.heldAtMs[count] as number);
  }
  return nowMs - oldest;
}

type Route = 'open' | 'ack-only' | 'closed';

/** What this node may send to `peer` in a round: the star, or a leaf-to-leaf detour (see the top). */
function route(state: GsetState, peer: string, book: PeerBook, nowMs: number): Route {
  // The hub's round message to a silent leaf is its probe of that link (tick picks one a round).
  if (state.self !== state.hub && silent(state, peer, nowMs)) return 'closed';
  return starRoute(state, peer, book, nowMs);
}

/** Whether a leaf with a lower id than this one was heard from lately (heardWithin): it probes the hub for both. */
function lowerLeafHeard(state: GsetState, nowMs: number): boolean {
  return [...state.peers].some(([peer, book]) => peer !== state.hub && peer < state.self && heardWithin(state, book, nowMs));
}

/** Whether `peer` got one of our messages sent within twice suspectMs (as it told us, or another node relayed). */
function deliveredWithin(state: GsetState, peer: string, nowMs: number): boolean {
  return nowMs - (state.heard.get(peer)?.get(state.self) ?? -Infinity) < 2 * state.config.suspectMs;
}

/** Whether a message of the peer's arrived within twice suspectMs (peers that cannot reach us send rarely). */
function heardWithin(state: GsetState, book: PeerBook | undefined, nowMs: number): boolean {
  return book !== undefined && nowMs - book.lastHeardMs < 2 * state.config.suspectMs;
}

/**
 * A leaf's probe slot (the odd slots of probeMs on the wall clock, half a round after its round):
 * at most one message a round, to a silent peer, so a cut link is tried by the hub's round and by
 * the leaf's probe in turn. The first message through is answered at once (answerBack).
 */
export function probe(state: GsetState, nowMs: number): Outgoing[] {
  const slot = Math.floor(nowMs / state.config.probeMs);
  if (state.self === state.hub || slot % 2 !== 1 || !mayAfford(state, nowMs, 'probe')) return [];
  const turn = Math.floor(slot / 2);
  const hubSilent = silent(state, state.hub, nowMs);
  const hubHeard = heardWithin(state, state.peers.get(state.hub), nowMs);
  const due = [...state.peers].filter(([peer, book]) => {
    if (peer === state.hub) {
      // Unless a lower leaf we hear from probes it for both of us; on every other turn while the hub
      // still reaches us (only our way to it is cut, and our data goes round through the other leaf).
      return hubSilent && !lowerLeafHeard(state, nowMs) && (!hubHeard || turn % 2 === 1);
    }
    // Another leaf only while the hub is silent, until that leaf is known to get our messages (then
    // rounds go to it); on every fourth turn if our data reaches it anyway (round through the hub)
    // or if the hub does not reach us either (we are more likely cut off ourselves).
    if (lackAgeMs(state, book, nowMs) < state.config.suspectMs && turn % 4 !== 0) return false;
    return hubSilent && (silent(state, peer, nowMs) || !deliveredWithin(state, peer, nowMs)) && (hubHeard || turn % 4 === 0);
  });
  // The hub first, except on the other leaf's turns (every other turn while the hub still reaches
  // us, for the way round; else every fourth, to find a leaf that is cut off from the hub as we are).
  const order = (hubHeard && turn % 2 === 0) || turn % 4 === 0 ? [...due].reverse() : due;
  const chosen = order[0];
  if (chosen === undefined) return [];
  const message = messageFor(state, chosen[0], chosen[1], cutList(state, nowMs), nowMs, 'data-only');
  return message === undefined ? [] : [spend(state, message, 'probe')];
}

/** The star's rule alone: leaves through the hub, unless the hub looks cut off from one of them. */
function starRoute(state: GsetState, peer: string, book: PeerBook, nowMs: number): Route {
  if (state.self === state.hub || peer === state.hub) return 'open';
  if (state.hubCut.has(peer)) return 'open';
  if (silent(state, state.hub, nowMs) && deliveredWithin(state, peer, nowMs)) return 'open';
  return book.ackOwed ? 'ack-only' : 'closed';
}

/**
 * A peer that lacks something and has got none of the data we sent it suspectMs ago or earlier:
 * our messages to it are lost (a cut, or a one-way cut where we may still hear it). A healthy peer
 * acknowledges within a round.
 */
function silent(state: GsetState, peer: string, nowMs: number): boolean {
  const book = state.peers.get(peer);
  const since = book?.unacked[0];
  if (book === undefined || since === undefined || nowMs - since < state.config.suspectMs || lackAgeMs(state, book, nowMs) === 0) return false;
  // Deliveries still confirmed by way of another node (it relays who got what, a round or two late)
  // while we do not hear the peer itself: the link works and only the answers take the long way
  // round, as in a ring of one-way cuts.
  const deliveredMs = state.heard.get(peer)?.get(state.self) ?? -Infinity;
  return !(book.lastHeardMs < since && nowMs - deliveredMs < 2 * state.config.roundMs);
}

/**
 * At the hub: the silent leaves it still hears from (only its way to them is cut), which the other
 * leaf serves directly.
 */
function cutList(state: GsetState, nowMs: number): string[] {
  if (state.self !== state.hub) return [];
  return [...state.peers].filter(([peer, book]) => silent(state, peer, nowMs) && heardWithin(state, book, nowMs)).map(([peer]) => peer);
}

/**
 * Whether the peer has something to hear besides data: that we exist (never told), what we hold
 * now (acknowledging what it sent), or a changed cut list. Other rows of our knowledge ride along
 * but never cause a message, so a quiet set stays quiet.
 */
function news(state: GsetState, book: PeerBook, cut: string): boolean {
  if (book.told === undefined || cut !== book.toldCut) return true;
  const reported = book.reported.get(state.holder);
  for (const [origin, count] of ownRow(state)) {
    if (count > Math.max(reported?.get(origin) ?? 0, book.told.get(origin) ?? 0)) return true;
  }
  return false;
}

/** The data for a peer: from what it acknowledged when a resend is due, else from what was sent. */
function dataFor(state: GsetState, book: PeerBook, nowMs: number): GsetMessage['data'] {
  const held = heldBy(state, book);
  let lacking = false;
  for (const [originId, origin] of state.origins) if ((held.get(originId) ?? 0) < origin.elements.length) lacking = true;
  // Resend from what it acknowledged when a retry is due, or when what it lacks is old (it was cut
  // off, and may be back: nothing sent meanwhile is known to have arrived).
  const resend = lacking && (nowMs - book.lastDataSentMs >= state.config.retryMs || lackAgeMs(state, book, nowMs) >= state.config.suspectMs);
  const data: GsetMessage['data'] = [];
  let room = state.config.maxBatchElements;
  for (const [originId, origin] of state.origins) {
    const acked = held.get(originId) ?? 0;
    const from = resend ? acked : Math.max(acked, book.sentUpTo.get(originId) ?? 0);
    const upTo = Math.min(origin.elements.length, from + room);
    if (upTo <= from) continue;
    data.push([originId, from, origin.elements.slice(from, upTo)]);
    room -= upTo - from;
  }
  return data;
}

function heardJson(state: GsetState): HeardJson {
  const heard: HeardJson = {};
  for (const [receiver, row] of state.heard) heard[receiver] = Object.fromEntries(row);
  return heard;
}

function knowledgeJson(state: GsetState): KnowledgeJson {
  const know: KnowledgeJson = {};
  for (const [holder, row] of state.knowledge) know[holder] = Object.fromEntries(row);
  return know;
}

/**
 * One round of this node: a message to every peer that lacks data or knowledge and may be sent to.
 * The hub sends to one silent leaf a round, in turn, as its probe (a heal reconnects them all).
 */
export function tick(state: GsetState, nowMs: number): Outgoing[] {
  const cut = cutList(state, nowMs);
  const out: Outgoing[] = [];
  const silentLeaves = state.self === state.hub ? [...state.peers.keys()].filter((peer) => silent(state, peer, nowMs)) : [];
  const probed = silentLeaves[Math.floor(nowMs / state.config.roundMs) % Math.max(1, silentLeaves.length)];
  for (const [peer, book] of state.peers) {
    if (silentLeaves.includes(peer) && peer !== probed) continue;
    if (!mayAfford(state, nowMs, 'round')) break;
    const message = messageFor(state, peer, book, cut, nowMs);
    if (message !== undefined) out.push(spend(state, message, 'round'));
  }
  return out;
}

type Spending = 'round' | 'probe';

/**
 * Whether this node may send one more message of a kind in its current round: in rounds, as many
 * as on a healthy star (the hub one per leaf, a leaf one), so detours replace round messages rather
 * than add to them; one probe. Answers at a heal (answerBack) are not counted.
 */
function mayAfford(state: GsetState, nowMs: number, kind: Spending): boolean {
  const round = Math.floor((nowMs - (state.self === state.hub ? state.config.hubDelayMs : 0)) / state.config.roundMs);
  if (round !== state.spent.round) Object.assign(state.spent, { round, rounds: 0, probes: 0 });
  if (kind === 'probe') return state.spent.probes < 1;
  return state.spent.rounds < (state.self === state.hub ? state.peers.size : 1);
}

function spend(state: GsetState, message: Outgoing, kind: Spending): Outgoing {
  if (kind === 'probe') state.spent.probes += 1;
  else state.spent.rounds += 1;
  return message;
}

/**
 * What to send at once when `peer`, silent until now, is heard again (receive returned true): the
 * link is back. The peer gets what it lacks; the other peers get what it brought that they lack,
 * unless it is the hub (which passes it on itself when it hears our answer). Acknowledgements wait
 * for the next round. A peer is heard back at most once per silence (receive asks suspectMs of
 * quiet first), so this adds at most a message per peer a heal.
 */
export function answerBack(state: GsetState, peer: string, nowMs: number): Outgoing[] {
  const back = state.peers.get(peer);
  if (back === undefined) return [];
  // Not to peers still silent: their probe (or ours) finds the heal and is answered then.
  const others = peer === state.hub ? [] : [...state.peers].filter(([other, book]) => other !== peer && starRoute(state, other, book, nowMs) === 'open' && !silent(state, other, nowMs));
  const candidates: Array<[string, PeerBook]> = [[peer, back], ...others];
  const targets = candidates.filter(([, book]) => dataFor(state, book, nowMs).length > 0);
  // The link is back: acknowledgements are awaited afresh from these messages on (and the hub's
  // cut list, which goes with them, no longer names their receivers).
  back.unacked = [];
  for (const [, book] of targets) book.unacked = [];
  const cut = cutList(state, nowMs);
  return targets.flatMap(([other, book]) => messageFor(state, other, book, cut, nowMs, 'data-only') ?? []);
}

/**
 * The message for one peer, if it is due one: in a round, by the route; `data-only` (a probe, or a
 * heal's answer), by nothing but the peer lacking data.
 */
function messageFor(state: GsetState, peer: string, book: PeerBook, cut: string[], nowMs: number, mode: 'round' | 'data-only' = 'round'): Outgoing | undefined {
  const cutKey = cut.join(',');
  const way = mode === 'data-only' ? 'open' : route(state, peer, book, nowMs);
  if (way === 'closed') return undefined;
  const data = way === 'open' ? dataFor(state, book, nowMs) : [];
  if (data.length === 0 && (mode === 'data-only' || !news(state, book, cutKey))) return undefined;
  book.ackOwed = false;
  // Data is acknowledged by the receiver's next message; a bare acknowledgement asks for nothing.
  for (const [originId, start, elements] of data) {
    const held = state.origins.get(originId)?.elements.length ?? 0;
    if (start < 0 || start + elements.length > held) throw new Error(`invariant: sending ${originId} ${start}+${elements.length} of ${held}`);
    book.sentUpTo.set(originId, start + elements.length);
  }
  if (data.length > 0) {
    book.unacked.push(nowMs);
    if (book.unacked.length > MAX_UNACKED) book.unacked.splice(1, 1);
    book.lastDataSentMs = nowMs;
  }
  book.told = new Map(ownRow(state));
  book.toldCut = cutKey;
  return { dest: peer, body: { type: 'gset', from: state.holder, data, know: knowledgeJson(state), cut, at: nowMs, heard: heardJson(state) } };
}
