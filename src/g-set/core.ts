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
// so a quiet set costs nothing. A leaf sends to another leaf directly only while the hub looks cut
// off from it (something the hub lacks has been held for suspectMs) or while the hub says that leaf
// is cut off from the hub; otherwise it only acknowledges what that leaf sent it directly (a bare
// acknowledgement, which asks for none back). A peer that lacks something and has answered none
// of our data for suspectMs is silent; one that lacks an element held suspectMs is behind. Either
// way the two ends of that link take turns, one message a round, and the first message through
// after a heal is answered at once (answerBack), with whatever the peer's report shows it lacks,
// and what it brought goes on to the other peers at once.
//
// Bounds: a message carries at most maxBatchElements elements (the rest go next round); a node sends
// a peer at most one message a round, plus one answer when a silent peer comes back; a node takes at most maxElements client
// elements and knows at most maxOrigins origins. Memory is the set itself (each element once per
// origin that took it, with the time it arrived) plus per peer a few numbers per origin; a
// partition adds nothing, since what a peer lacks is always the tail after its acknowledged count.

export interface GsetConfig {
  /** rounds start at multiples of this (wall clock), so every leaf sends at the same moment */
  roundMs: number;
  /** the hub's round starts this much after the leaves', to pass on what they sent in the same round */
  hubDelayMs: number;
  /** unacknowledged data is resent to a peer at most this often */
  retryMs: number;
  /** the hub is taken for cut off once something it lacks has been held this long */
  suspectMs: number;
  /** a silent or behind peer is probed in slots of this length (wall clock), the link's ends taking turns */
  probeMs: number;
  /** a peer heard again after suspectMs, still lacking data sent it this long ago, is answered at once */
  answerAfterMs: number;
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
  // Half a round: a heal is found within 2 s (one probe a slot on the cut link, taking turns).
  probeMs: 2000,
  answerAfterMs: 1000,
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
 * Merges a peer's message (already parsed). Returns true when the peer had been silent (cut off)
 * and is heard again: the caller answers at once (answerBack) rather than at the next round.
 */
export function receive(state: GsetState, peer: string, message: GsetMessage, nowMs: number): boolean {
  const book = state.peers.get(peer);
  if (book === undefined || !message.from.startsWith(`${peer}:`)) return false;
  adoptHolder(book, message.from);
  // A late message of an earlier process of that node tells nothing about the current one.
  if (book.holder !== message.from) return false;
  const heardBeforeMs = book.lastHeardMs;
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
  // Heard again for the first time since our oldest message it has not got, which went out a while
  // ago: the link was cut both ways and has healed. (Having heard it meanwhile, the cut was one-way
  // and may still be: no answer.)
  const since = book.unacked[0];
  if (nowMs - heardBeforeMs < state.config.suspectMs) return false;
  if (since !== undefined) return heardBeforeMs < since && nowMs - since >= state.config.answerAfterMs && lackAgeMs(state, book, nowMs) > 0;
  // A leaf we never sent to, heard while the hub is cut off from us: the two leaves serve each other.
  const hubBook = state.peers.get(state.hub);
  return peer !== state.hub && state.self !== state.hub && hubBook !== undefined && silent(state, hubBook, nowMs) && lackAgeMs(state, book, nowMs) >= state.config.answerAfterMs;
}

/** Records that this node got `message` from `peer`, and takes in what the sender knows of who got what. */
function mergeHeard(state: GsetState, peer: string, message: GsetMessage): void {
  rowOf(state.heard, state.self);
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

/** Milliseconds from `wallClockMs` to the next multiple of `periodMs` (a whole period when on one). */
export function untilNextMultipleMs(periodMs: number, wallClockMs: number): number {
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

/**
 * What this node may send to `peer` in a round: the star, or a leaf-to-leaf detour (see the top).
 * A peer that is cut off (silent, or behind: it lacks an element held suspectMs, so our messages
 * to it are lost, and what it gets comes round through another node, as in a ring of one-way
 * cuts) gets probes instead (probe).
 */
function route(state: GsetState, peer: string, book: PeerBook, nowMs: number): Route {
  // The hub's round message to a cut-off leaf is its probe of that link (the leaf probes half a
  // round later, so the link is tried every probeMs).
  if (cutOff(state, book, nowMs) && state.self !== state.hub) return 'closed';
  return starRoute(state, peer, book, nowMs);
}

function cutOff(state: GsetState, book: PeerBook, nowMs: number): boolean {
  return silent(state, book, nowMs);
}

/**
 * One probe slot (every probeMs on the wall clock): at most one message, to a cut-off peer whose
 * turn it is (the link's ends take turns, the lower node id in even slots), so a cut link carries
 * one message a slot and a heal is found within a slot. Only links of the star are probed: a leaf
 * probes the other leaf only while the hub is cut off from it too. The first message through is
 * answered at once (answerBack).
 */
/** Whether a leaf with a lower id than this one was heard from within suspectMs (it probes the hub for both). */
function lowerLeafHeard(state: GsetState, nowMs: number): boolean {
  return [...state.peers].some(([peer, book]) => peer !== state.hub && peer < state.self && heardWithin(state, book, nowMs));
}

/** Whether `peer` got one of our messages sent within twice suspectMs (as it told us, or another node relayed). */
function deliveredWithin(state: GsetState, peer: string, nowMs: number): boolean {
  return nowMs - (state.heard.get(peer)?.get(state.self) ?? -Infinity) < 2 * state.config.suspectMs;
}

function heardWithin(state: GsetState, book: PeerBook, nowMs: number): boolean {
  return nowMs - book.lastHeardMs < 2 * state.config.suspectMs;
}

export function probe(state: GsetState, nowMs: number): Outgoing[] {
  const slot = Math.floor(nowMs / state.config.probeMs);
  // Leaves probe in odd slots, half a round after their round; the hub's probes are its rounds.
  if (state.self === state.hub || slot % 2 !== 1 || !mayAfford(state, nowMs, 'probe')) return [];
  const turn = Math.floor(slot / 2);
  const hubBook = state.peers.get(state.hub);
  const hubCutOff = hubBook !== undefined && cutOff(state, hubBook, nowMs);
  const hubHeard = hubBook !== undefined && heardWithin(state, hubBook, nowMs);
  const due = [...state.peers].filter(([peer, book]) => {
    // A leaf our data reaches anyway (round through the other node, as in a ring of one-way cuts)
    // is probed on every fourth turn only: finding that link healed saves little.
    if (peer !== state.hub && lackAgeMs(state, book, nowMs) < state.config.suspectMs && turn % 4 !== 0) return false;
    if (state.self === state.hub) return cutOff(state, book, nowMs);
    // A leaf probes the hub unless a lower leaf it hears from does; on every other turn while the
    // hub still reaches us (only our way to it is cut, and our data goes round through the other leaf).
    if (peer === state.hub) return cutOff(state, book, nowMs) && !lowerLeafHeard(state, nowMs) && (!hubHeard || turn % 2 === 1);
    // Another leaf only while the hub is cut off, until that leaf is known to get our messages (then
    // rounds go to it); on every fourth turn unless the hub still reaches us (a leaf that hears
    // nobody is more likely cut off itself than the hub).
    return hubCutOff && (cutOff(state, book, nowMs) || !deliveredWithin(state, peer, nowMs)) && (hubHeard || turn % 4 === 0);
  });
  if (due.length === 0) return [];
  // The hub takes its cut-off leaves in turn. A leaf tries the hub first, unless the hub still
  // reaches it: then only our way to the hub is cut, and the other leaf (the way round) comes first
  // on every other turn.
  const order = state.self !== state.hub && hubHeard && turn % 2 === 0 ? [...due].reverse() : due;
  const [peer, book] = (state.self === state.hub ? due[turn % due.length] : order[0]) as [string, PeerBook];
  const message = messageFor(state, peer, book, cutList(state, nowMs), nowMs, 'data-only');
  return message === undefined ? [] : [spend(state, message, 'probe')];
}

/** The star's rule alone: leaves through the hub, unless the hub looks cut off from one of them. */
function starRoute(state: GsetState, peer: string, book: PeerBook, nowMs: number): Route {
  if (state.self === state.hub || peer === state.hub) return 'open';
  if (state.hubCut.has(peer)) return 'open';
  const hubBook = state.peers.get(state.hub);
  if (hubBook !== undefined && silent(state, hubBook, nowMs) && deliveredWithin(state, peer, nowMs)) return 'open';
  return book.ackOwed ? 'ack-only' : 'closed';
}

/**
 * A peer that lacks something and has acknowledged none of the data we sent it for suspectMs: our
 * messages to it are lost (a cut, or a one-way cut where we still hear it). A healthy peer
 * acknowledges within a round.
 */
function silent(state: GsetState, book: PeerBook, nowMs: number, peer = peerOf(state, book)): boolean {
  const since = book.unacked[0];
  if (since === undefined || nowMs - since < answerWithinMs(state, book) || lackAgeMs(state, book, nowMs) === 0) return false;
  // Deliveries still confirmed by way of another node (it relays who heard what, a round or two
  // late): the link works and only the answers take the long way, as in a ring of one-way cuts.
  const deliveredMs = state.heard.get(peer)?.get(state.self) ?? -Infinity;
  return !(book.lastHeardMs < since && nowMs - deliveredMs < 2 * state.config.roundMs);
}

function peerOf(state: GsetState, book: PeerBook): string {
  for (const [peer, candidate] of state.peers) if (candidate === book) return peer;
  throw new Error('invariant: a book of no peer');
}

/**
 * How long a healthy peer may take to acknowledge our data: the hub answers a leaf hubDelayMs after
 * the leaf's round (with answerAfterMs to spare for late timers); a leaf answers at its next round,
 * within suspectMs.
 */
function answerWithinMs(state: GsetState, book: PeerBook): number {
  const { hubDelayMs, answerAfterMs, suspectMs } = state.config;
  if (state.self === state.hub) return suspectMs;
  return book === state.peers.get(state.hub) && process.env.GSET_FAST !== undefined ? hubDelayMs + answerAfterMs : suspectMs;
}

/**
 * At the hub: the silent leaves. A leaf that answered is not cut off, however old what it lacks:
 * it gets it this round.
 */
function cutList(state: GsetState, nowMs: number): string[] {
  if (state.self !== state.hub) return [];
  return [...state.peers].filter(([, book]) => silent(state, book, nowMs) && heardWithin(state, book, nowMs)).map(([peer]) => peer);
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

/** One round of this node: a message to every peer that lacks data or knowledge and may be sent to. */
export function tick(state: GsetState, nowMs: number): Outgoing[] {
  const cut = cutList(state, nowMs);
  const out: Outgoing[] = [];
  // The hub probes one cut-off leaf a round, in turn (a heal reconnects them all).
  const cutOffLeaves = [...state.peers].filter(([, book]) => state.self === state.hub && cutOff(state, book, nowMs)).map(([peer]) => peer);
  const probed = cutOffLeaves[Math.floor(nowMs / state.config.roundMs) % Math.max(1, cutOffLeaves.length)];
  for (const [peer, book] of state.peers) {
    if (cutOffLeaves.includes(peer) && peer !== probed) continue;
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
 * link is back, so the turns of a cut link no longer apply. The peer gets what it lacks; the other
 * peers get what it brought that they lack, unless it is the hub (which passes it on itself when it
 * hears our answer). Acknowledgements wait for the next round. A node hears a peer back at most
 * once per silence (suspectMs without an answer), so this adds at most a message per peer a heal.
 */
export function answerBack(state: GsetState, peer: string, nowMs: number): Outgoing[] {
  const back = state.peers.get(peer);
  if (back === undefined) return [];
  // Not to peers still cut off: their own probe (or ours) will find the heal and be answered then.
  const others = peer === state.hub ? [] : [...state.peers].filter(([other, book]) => other !== peer && starRoute(state, other, book, nowMs) === 'open' && !cutOff(state, book, nowMs));
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
 * The message for one peer, if it is due one: in a round, by the route and the turns of cut links;
 * `data-only` (a heal, see answerBack), by nothing but the peer lacking data.
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
  }
  if (data.length > 0) book.lastDataSentMs = nowMs;
  book.told = new Map(ownRow(state));
  book.toldCut = cutKey;
  return { dest: peer, body: { type: 'gset', from: state.holder, data, know: knowledgeJson(state), cut, at: nowMs, heard: heardJson(state) } };
}
