// Deterministic core of the kafka node: a replicated log per key with no coordination on the
// send path. No I/O and no clocks: every entry point takes the current time where it matters and
// returns what to persist and what to send, so the whole protocol is unit-testable.
//
// Offsets. Node i of N assigns offsets congruent to i mod N, each above the highest offset it
// knows for that key (`known`). Offsets are therefore unique across nodes without asking anyone,
// increase per key on every node (so one client's sends get increasing offsets), and stay small
// (about N times the number of sends to the key). They are sparse, which the checker allows.
//
// Replication. Each node's own entries form a stream numbered 1, 2, 3 ... per incarnation
// (epoch). Every flush interval a node sends each peer one `repl` message: the entries the peer
// has not been sent yet, the acknowledgement of the peer's stream, and "claims". Entries are
// resent (go-back-N from the last acknowledged one) when a peer makes no progress for retryMs.
//
// Visibility (why no poll can skip an offset). A claim (k, f) from peer P means "my `known` for
// k has reached f": every offset P assigns from then on is above f, and every offset P assigned
// before is in P's stream before the claim. The receiver accepts a claim only once it holds
// P's stream up to the point where the claim was made, so after that it holds every offset of
// P's that is <= f. An entry of P's own is an implicit claim of its offset. A node's frontier
// for k is the minimum over peers of their accepted claims; it has every offset <= frontier
// that exists or ever will exist (its own future offsets are above its `known`, which is above
// the frontier). Polls return only offsets up to the frontier, so every poll sees a prefix of
// one final log: no skip, no reordering, the same log for every poll. Claims go out whenever a
// received entry raises `known`, so frontiers catch up within about two flush intervals.
//
// Durability. Every call that adds data takes a `persist` callback and calls it with the
// records before changing anything; if it throws (the write failed), the call throws and the
// state is as before: no offset, entry or commit exists in memory that is not on disk, so a
// failed send leaves no offset to reuse and a failed replication batch is not acknowledged (the
// peer resends it). Acks to clients wait for whatever durability the caller promises; acks to
// peers ride on messages tick() returns after. A node that restarts from its records keeps its
// offsets above everything it ever claimed.
//
// Invariants (KafkaInvariantError when one breaks: a bug, never bad input): a new offset of
// ours is above the key's known one and not taken; each key's offsets strictly increase, match
// its messages one to one and end at its known offset; an accepted commit leaves the key's
// committed offset at least that high and never lower than before; our stream to a peer is
// acknowledged no further than it was sent, nor sent past its end. Each is checked where it
// could break, at the cost of the change itself. checkKafkaState checks them all over the whole
// state, with the counted size and what peers are owed, once after a restore (and in tests).
//
// Memory: the log itself, and per peer one pending claim and one pending commit per key and at
// most maxMidsOwed message ids; nothing grows with time or with the length of a partition.

import type { Json } from '../lib/index.js';
import { jsonLength } from '../lib/protocol.js';

export interface KafkaConfig {
  /** Resend to a peer that has made no progress for this long, at most once per retryMs. */
  retryMs: number;
  /** Upper bound on entries in one replication message. */
  maxBatchEntries: number;
  /** Upper bound on messages returned for one key by one poll. */
  maxPollPerKey: number;
  /** Upper bound on a poll reply's messages, in bytes as JSON (jsonLength plus the offset's allowance). */
  maxPollBytes: number;
}

/** Writes records durably or throws; called before the state changes. */
export type Persist = (records: readonly StoredRecord[]) => void;

export type StoredRecord =
  | { kind: 'entry'; key: string; offset: number; msg: Json }
  | { kind: 'commit'; key: string; offset: number };

/** One entry on the wire: [key, offset, msg]. */
export type WireEntry = [string, number, Json];

export type ReplBody = {
  type: 'repl';
  /** The sender's incarnation; a restarted node's is larger. */
  epoch: number;
  /** The receiver's incarnation as the sender knows it; acks below refer to it. */
  peer_epoch: number | null;
  /** How much of the receiver's stream the sender holds (contiguous). */
  ack: number;
  /** Length of the sender's stream when this was sent: claims hold once the receiver has it all. */
  end: number;
  /** Stream position of entries[0]. */
  from?: number;
  entries?: WireEntry[];
  /** Message id, present when the message carries claims or commits that need an ack. */
  mid?: number;
  claims?: Record<string, number>;
  commits?: Record<string, number>;
  /** Message ids of the receiver's whose claims and commits the sender applied. */
  mids?: number[];
};

export interface Outgoing {
  dest: string;
  body: ReplBody;
}

interface KeyLog {
  /** Sorted offsets present in the log. */
  offsets: number[];
  msgs: Map<number, Json>;
  /** Highest offset known for the key, -1 if none. */
  known: number;
  /** Highest committed offset, -1 if none. */
  committed: number;
}

interface Pending {
  offset: number;
  /** Message id it last went out in; 0 = not sent since it changed. */
  sentIn: number;
  sentAtMs: number;
}

interface PeerState {
  readonly id: string;
  readonly index: number;
  epoch: number | undefined;
  // Our stream to the peer.
  ackedThrough: number;
  sentThrough: number;
  claims: Map<string, Pending>;
  commits: Map<string, Pending>;
  nextMid: number;
  /** When the peer last acknowledged entries, or when we started waiting for it to. */
  entriesProgressMs: number;
  lastResendMs: number;
  // The peer's stream to us.
  receivedThrough: number;
  frontier: Map<string, number>;
  ackOwed: boolean;
  midsOwed: number[];
}

export interface KafkaState {
  readonly config: Readonly<KafkaConfig>;
  readonly id: string;
  readonly index: number;
  readonly nodeCount: number;
  readonly epoch: number;
  readonly logs: Map<string, KeyLog>;
  /** This node's own entries in assignment order: its replication stream. */
  readonly own: WireEntry[];
  readonly peers: Map<string, PeerState>;
  /** Size of every entry held, as entryBytes counts it: what the state-size limit bounds. */
  entryBytes: number;
}

/** Bound on message ids we owe a peer an ack for; older ones are simply resent by the peer. */
const maxMidsOwed = 64;

/** A kafka core invariant broke: a bug, never bad input, so the node must not carry on quietly. */
export class KafkaInvariantError extends Error {
  constructor(message: string) {
    super(`kafka invariant broken: ${message}`);
    this.name = 'KafkaInvariantError';
  }
}

export function validateConfig(config: KafkaConfig): string | undefined {
  if (!(config.retryMs > 0 && Number.isFinite(config.retryMs))) return 'retry interval must be a finite number > 0';
  if (!(Number.isInteger(config.maxBatchEntries) && config.maxBatchEntries >= 1)) return 'batch size must be an integer >= 1';
  if (!(Number.isInteger(config.maxPollPerKey) && config.maxPollPerKey >= 1)) return 'poll size must be an integer >= 1';
  if (!(Number.isInteger(config.maxPollBytes) && config.maxPollBytes >= 1)) return 'poll reply bytes must be an integer >= 1';
  return undefined;
}

/**
 * Feeds a node's persisted records, in the order they were written, to `apply`; a reader that
 * streams a file passes each record on as it reads it, so no second copy of the log is held.
 */
export type Restore = (apply: (record: StoredRecord) => void) => void;

/** A node's state, rebuilt from its persisted records. */
export function createKafka(config: KafkaConfig, id: string, nodeIds: readonly string[], epoch: number, restore: Restore = () => {}): KafkaState {
  const problem = validateConfig(config);
  if (problem !== undefined) throw new RangeError(problem);
  const index = nodeIds.indexOf(id);
  if (index < 0) throw new RangeError(`${id} is not among the node ids`);
  const state: KafkaState = { config, id, index, nodeCount: nodeIds.length, epoch, logs: new Map(), own: [], peers: new Map(), entryBytes: 0 };
  restore((record) => {
    if (!isOffset(record.offset)) throw new RangeError(`offset ${String(record.offset)} is not an integer >= 0`);
    if (record.kind === 'entry') addEntry(state, record.key, record.offset, record.msg);
    else raiseCommit(logOf(state, record.key), record.offset);
  });
  nodeIds.forEach((peerId, peerIndex) => {
    if (peerId === id) return;
    const peer: PeerState = {
      id: peerId,
      index: peerIndex,
      epoch: undefined,
      ackedThrough: 0,
      sentThrough: 0,
      claims: new Map(),
      commits: new Map(),
      nextMid: 1,
      entriesProgressMs: Number.NEGATIVE_INFINITY,
      lastResendMs: Number.NEGATIVE_INFINITY,
      receivedThrough: 0,
      frontier: new Map(),
      // A new incarnation says hello at its first flush, so peers learn its epoch and resend.
      ackOwed: true,
      midsOwed: [],
    };
    owePeerEverything(state, peer);
    state.peers.set(peerId, peer);
  });
  // Once per incarnation, as long as the restore itself: a record file that rebuilds a broken
  // state stops the node here rather than at some later send.
  checkKafkaState(state);
  return state;
}

function logOf(state: KafkaState, key: string): KeyLog {
  let log = state.logs.get(key);
  if (log === undefined) {
    log = { offsets: [], msgs: new Map(), known: -1, committed: -1 };
    state.logs.set(key, log);
  }
  return log;
}

/** First index in a sorted array whose value is >= target. */
function lowerBound(sorted: readonly number[], target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds an entry; returns true if it was new. Own entries join the replication stream. */
function addEntry(state: KafkaState, key: string, offset: number, msg: Json): boolean {
  const log = logOf(state, key);
  if (log.msgs.has(offset)) return false;
  log.msgs.set(offset, msg);
  state.entryBytes += entryBytes(key, msg);
  let at = log.offsets.length;
  if (offset > log.known) {
    log.offsets.push(offset);
    log.known = offset;
  } else {
    at = lowerBound(log.offsets, offset);
    log.offsets.splice(at, 0, offset);
  }
  checkInsertedOffset(log, key, at);
  if (originIndex(state, offset) === state.index) state.own.push([key, offset, msg]);
  return true;
}

/** The offset just placed at `at` sits strictly between its neighbours, and the log's counts agree. */
function checkInsertedOffset(log: KeyLog, key: string, at: number): void {
  const offset = log.offsets[at]!;
  const below = log.offsets[at - 1] ?? -1;
  const above = log.offsets[at + 1] ?? Number.POSITIVE_INFINITY;
  if (!(below < offset && offset < above)) throw new KafkaInvariantError(`offsets of ${key} not strictly increasing: ${below}, ${offset}, ${above}`);
  if (log.offsets.length !== log.msgs.size) throw new KafkaInvariantError(`${key} has ${log.offsets.length} offsets and ${log.msgs.size} messages`);
  if (log.known !== log.offsets.at(-1)) throw new KafkaInvariantError(`known offset of ${key} is ${log.known} but its last offset ${String(log.offsets.at(-1))}`);
}

function originIndex(state: KafkaState, offset: number): number {
  return offset % state.nodeCount;
}

function raiseCommit(log: KeyLog, offset: number): boolean {
  if (offset <= log.committed) return false;
  log.committed = offset;
  return true;
}

/** The smallest offset above `known` that belongs to node `index` of `count`. */
export function nextOffset(known: number, index: number, count: number): number {
  const base = known + 1;
  return base + ((((index - base) % count) + count) % count);
}

/** A peer (re)started: it gets our whole stream again and every claim and commit we hold. */
function owePeerEverything(state: KafkaState, peer: PeerState): void {
  peer.ackedThrough = 0;
  peer.sentThrough = 0;
  peer.receivedThrough = 0;
  peer.midsOwed = [];
  peer.claims.clear();
  peer.commits.clear();
  for (const [key, log] of state.logs) {
    if (log.known >= 0) peer.claims.set(key, { offset: log.known, sentIn: 0, sentAtMs: 0 });
    if (log.committed >= 0) peer.commits.set(key, { offset: log.committed, sentIn: 0, sentAtMs: 0 });
  }
}

// ---- client operations ----

/**
 * Memory an entry is reckoned to take, for the state limit: its key and message as JSON plus
 * what holding it costs beyond that (map slot, offset, stream entry, parsed value). Measured:
 * about 146 bytes of heap per entry with integer messages (docs/storage.md §2). It is also more
 * than the entry's record in the file (JSON + 36 bytes) for ASCII text, so the limit bounds the
 * file's live records too.
 */
export function entryBytes(key: string, msg: Json): number {
  return jsonLength(key) + jsonLength(msg) + entryOverheadBytes;
}

const entryOverheadBytes = 160;

/** Whether the node holds anything (an entry or a commit) under this key. */
export function hasKey(state: KafkaState, key: string): boolean {
  return state.logs.has(key);
}

/**
 * A client send: assigns the next offset of ours for the key, once persist() has written the
 * record. If persist throws, so does this, and no offset was assigned.
 */
export function send(state: KafkaState, key: string, msg: Json, persist: Persist): { offset: number } {
  const known = state.logs.get(key)?.known ?? -1;
  const offset = nextOffset(known, state.index, state.nodeCount);
  // Unique across nodes and increasing per key: the whole visibility argument rests on it.
  if (!(offset > known && originIndex(state, offset) === state.index)) throw new KafkaInvariantError(`offset ${offset} for ${state.id} after ${known}`);
  if (state.logs.get(key)?.msgs.has(offset) === true) throw new KafkaInvariantError(`offset ${offset} of ${key} assigned twice`);
  persist([{ kind: 'entry', key, offset, msg }]);
  addEntry(state, key, offset, msg);
  return { offset };
}

/** Highest offset of `key` below which this node holds every offset that exists or ever will. */
export function visibleThrough(state: KafkaState, key: string): number {
  let bound = Number.POSITIVE_INFINITY;
  for (const peer of state.peers.values()) bound = Math.min(bound, peer.frontier.get(key) ?? -1);
  return bound;
}

/** Messages from each requested offset up to the visible bound; keys with none are left out. */
export function poll(state: KafkaState, offsets: Readonly<Record<string, number>>): Record<string, Array<[number, Json]>> {
  const result: Record<string, Array<[number, Json]>> = {};
  let replyBytes = 0;
  for (const [key, from] of Object.entries(offsets)) {
    const log = state.logs.get(key);
    if (log === undefined) continue;
    const bound = visibleThrough(state, key);
    const pairs: Array<[number, Json]> = [];
    for (let i = lowerBound(log.offsets, from); i < log.offsets.length && pairs.length < state.config.maxPollPerKey; i += 1) {
      const offset = log.offsets[i]!;
      if (offset > bound) break;
      const msg = log.msgs.get(offset)!;
      replyBytes += jsonLength(msg) + 24;
      // A reply stops short rather than grow past its bound; the client polls on from there.
      if (replyBytes > state.config.maxPollBytes && (pairs.length > 0 || Object.keys(result).length > 0)) break;
      pairs.push([offset, msg]);
    }
    if (pairs.length > 0) result[key] = pairs;
    if (replyBytes > state.config.maxPollBytes) break;
  }
  return result;
}

/** Committed offsets only move forward; the raised ones are persisted, then applied. */
export function commit(state: KafkaState, offsets: Readonly<Record<string, number>>, persist: Persist): void {
  const requested = Object.entries(offsets);
  const was = committedOf(state, requested);
  const raised = requested.filter(([key, offset]) => offset > (state.logs.get(key)?.committed ?? -1));
  persist(raised.map(([key, offset]) => ({ kind: 'commit', key, offset })));
  for (const [key, offset] of raised) applyCommit(state, key, offset);
  checkCommitsHeld(state, requested, was);
}

function committedOf(state: KafkaState, pairs: ReadonlyArray<readonly [string, number]>): number[] {
  return pairs.map(([key]) => state.logs.get(key)?.committed ?? -1);
}

/** After commits were applied: each key's committed offset is at least what was asked and what it was. */
function checkCommitsHeld(state: KafkaState, requested: ReadonlyArray<readonly [string, number]>, was: readonly number[]): void {
  requested.forEach(([key, offset], i) => {
    const now = state.logs.get(key)?.committed ?? -1;
    if (now < offset || now < was[i]!) throw new KafkaInvariantError(`${key} committed through ${now} after a commit of ${offset} (it was ${was[i]!})`);
  });
}

function applyCommit(state: KafkaState, key: string, offset: number): boolean {
  if (!raiseCommit(logOf(state, key), offset)) return false;
  for (const peer of state.peers.values()) peer.commits.set(key, { offset, sentIn: 0, sentAtMs: 0 });
  return true;
}

/** What a node holds, as records: every entry (per key in offset order) and each key's commit. */
export function* liveRecords(state: KafkaState): Generator<StoredRecord> {
  for (const [key, log] of state.logs) {
    for (const offset of log.offsets) yield { kind: 'entry', key, offset, msg: log.msgs.get(offset)! };
    if (log.committed >= 0) yield { kind: 'commit', key, offset: log.committed };
  }
}

export function listCommitted(state: KafkaState, keys: readonly string[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const key of keys) {
    const committed = state.logs.get(key)?.committed ?? -1;
    if (committed >= 0) result[key] = committed;
  }
  return result;
}

// ---- replication ----

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function offsetMap(value: unknown): Array<[string, number]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).filter((pair): pair is [string, number] => isOffset(pair[1]));
}

/**
 * A replication message from a peer. Malformed parts are ignored. The entries and commits it
 * brings are persisted before any of them is applied; if persist throws, so does this, nothing
 * of the message's data is kept, and it is not acknowledged, so the peer sends it again.
 */
export function receive(state: KafkaState, from: string, body: Readonly<Record<string, unknown>>, nowMs: number, persist: Persist): void {
  const peer = state.peers.get(from);
  if (peer === undefined || !isOffset(body['epoch'])) return;
  // Epochs grow with each incarnation: a late message from an earlier one is ignored.
  if (peer.epoch !== undefined && body['epoch'] < peer.epoch) return;
  if (peer.epoch !== body['epoch']) {
    // A new incarnation: its stream starts again at 1, and it may have lost what we sent.
    if (peer.epoch !== undefined) owePeerEverything(state, peer);
    peer.epoch = body['epoch'];
  }
  if (body['peer_epoch'] === state.epoch) applyAcks(peer, body, nowMs);

  const entries = body['entries'];
  const hasEntries = Array.isArray(entries) && entries.length > 0 && isOffset(body['from']);
  const accepted = hasEntries ? acceptedEntries(state, peer, body['from'] as number, entries) : [];
  const claims = body['claims'] === undefined ? [] : offsetMap(body['claims']);
  const commits = body['commits'] === undefined ? [] : offsetMap(body['commits']);
  const committedWas = committedOf(state, commits);
  const raisedCommits = commits.filter(([key, offset]) => offset > (state.logs.get(key)?.committed ?? -1));
  persist([
    ...accepted.filter(([key, offset]) => state.logs.get(key)?.msgs.has(offset) !== true).map(([key, offset, msg]): StoredRecord => ({ kind: 'entry', key, offset, msg })),
    ...raisedCommits.map(([key, offset]): StoredRecord => ({ kind: 'commit', key, offset })),
  ]);

  // Persisted: from here on nothing fails.
  applyEntries(state, peer, accepted);
  let complete = true;
  // Claims hold only once we have every entry the peer had assigned when it made them.
  if (claims.length > 0 && isOffset(body['end']) && peer.receivedThrough >= body['end']) {
    for (const [key, offset] of claims) raiseFrontier(peer, key, offset);
  } else if (claims.length > 0) {
    complete = false;
  }
  for (const [key, offset] of raisedCommits) applyCommit(state, key, offset);
  checkCommitsHeld(state, commits, committedWas);
  // A commit not raised here still counts as payload: the peer waits for its ack.
  const payload = hasEntries || claims.length > 0 || commits.length > 0;
  if (payload) {
    peer.ackOwed = true;
    const mid = body['mid'];
    if (complete && isOffset(mid) && !peer.midsOwed.includes(mid)) {
      peer.midsOwed.push(mid);
      if (peer.midsOwed.length > maxMidsOwed) peer.midsOwed.shift();
    }
  }
  checkPeerStream(state, peer);
}

function applyAcks(peer: PeerState, body: Readonly<Record<string, unknown>>, nowMs: number): void {
  const ack = body['ack'];
  if (isOffset(ack) && ack > peer.ackedThrough) {
    peer.ackedThrough = Math.min(ack, peer.sentThrough);
    peer.entriesProgressMs = nowMs;
  }
  const mids = body['mids'];
  if (Array.isArray(mids) && mids.length > 0) {
    const acked = new Set(mids.filter(isOffset));
    for (const pending of [peer.claims, peer.commits]) {
      for (const [key, item] of pending) if (item.sentIn > 0 && acked.has(item.sentIn)) pending.delete(key);
    }
  }
}

/**
 * The entries of a batch that continue the peer's stream where we are, up to the first
 * malformed one. Go-back-N: a batch that starts past what we hold leaves a gap, so none of it
 * is taken; the sender resends.
 */
function acceptedEntries(state: KafkaState, peer: PeerState, from: number, entries: readonly unknown[]): WireEntry[] {
  const accepted: WireEntry[] = [];
  if (from > peer.receivedThrough + 1) return accepted;
  for (let i = peer.receivedThrough + 1 - from; i < entries.length; i += 1) {
    const entry = entries[i];
    if (!Array.isArray(entry) || entry.length !== 3) break;
    const [key, offset, msg] = entry as unknown[];
    if (typeof key !== 'string' || !isOffset(offset) || originIndex(state, offset) !== peer.index) break;
    accepted.push([key, offset, msg as Json]);
  }
  return accepted;
}

/** Applies entries that follow the peer's stream directly (from acceptedEntries). */
function applyEntries(state: KafkaState, peer: PeerState, accepted: readonly WireEntry[]): void {
  for (const [key, offset, msg] of accepted) {
    const raisesKnown = offset > (state.logs.get(key)?.known ?? -1);
    if (addEntry(state, key, offset, msg) && raisesKnown) {
      for (const other of state.peers.values()) other.claims.set(key, { offset, sentIn: 0, sentAtMs: 0 });
    }
    // Its own entry is a claim: everything it assigned before is earlier in its stream.
    raiseFrontier(peer, key, offset);
    peer.receivedThrough += 1;
  }
}

function raiseFrontier(peer: PeerState, key: string, offset: number): void {
  if (offset > (peer.frontier.get(key) ?? -1)) peer.frontier.set(key, offset);
}

/** Periodic flush: one message per peer that has something new, something due again, or an ack owed. */
export function tick(state: KafkaState, nowMs: number): Outgoing[] {
  const out: Outgoing[] = [];
  for (const peer of state.peers.values()) {
    const body = flushPeer(state, peer, nowMs);
    checkPeerStream(state, peer);
    if (body !== undefined) out.push({ dest: peer.id, body });
  }
  return out;
}

/** Our stream to a peer is acknowledged no further than sent and sent no further than it goes. */
function checkPeerStream(state: KafkaState, peer: PeerState): void {
  const { ackedThrough, sentThrough } = peer;
  if (!(ackedThrough >= 0 && ackedThrough <= sentThrough && sentThrough <= state.own.length)) {
    throw new KafkaInvariantError(`stream to ${peer.id}: acknowledged through ${ackedThrough}, sent through ${sentThrough}, ${state.own.length} long`);
  }
  if (peer.midsOwed.length > maxMidsOwed) throw new KafkaInvariantError(`${peer.midsOwed.length} message ids owed to ${peer.id}, at most ${maxMidsOwed}`);
}

/** The peer made no progress on what we sent for retryMs: entries unacknowledged, or a claim or commit. */
function isStalled(state: KafkaState, peer: PeerState, nowMs: number): boolean {
  const { retryMs } = state.config;
  if (peer.ackedThrough < peer.sentThrough && nowMs - peer.entriesProgressMs >= retryMs) return true;
  for (const pending of [peer.claims, peer.commits]) {
    for (const item of pending.values()) if (item.sentIn > 0 && nowMs - item.sentAtMs >= retryMs) return true;
  }
  return false;
}

function flushPeer(state: KafkaState, peer: PeerState, nowMs: number): ReplBody | undefined {
  const { retryMs, maxBatchEntries } = state.config;
  if (peer.ackedThrough >= peer.sentThrough) peer.entriesProgressMs = nowMs;
  // A stalled peer is cut off, dead, or lost a message. Everything unacknowledged goes again,
  // but at most once per retryMs, so a dead peer costs one message per retry interval rather
  // than one per flush; fresh entries wait for that slot too.
  const stalled = isStalled(state, peer, nowMs);
  const resend = stalled && nowMs - peer.lastResendMs >= retryMs;
  const body: ReplBody = { type: 'repl', epoch: state.epoch, peer_epoch: peer.epoch ?? null, ack: peer.receivedThrough, end: state.own.length };
  if (!stalled || resend) {
    const from = (resend ? peer.ackedThrough : peer.sentThrough) + 1;
    const entries = state.own.slice(from - 1, from - 1 + maxBatchEntries);
    if (entries.length > 0) {
      body.from = from;
      body.entries = entries;
      if (peer.ackedThrough >= peer.sentThrough) peer.entriesProgressMs = nowMs;
      peer.sentThrough = Math.max(peer.sentThrough, from + entries.length - 1);
    }
    const mid = peer.nextMid;
    const claims = takePending(peer.claims, mid, resend, nowMs);
    const commits = takePending(peer.commits, mid, resend, nowMs);
    if (claims !== undefined || commits !== undefined) {
      body.mid = mid;
      peer.nextMid += 1;
      if (claims !== undefined) body.claims = claims;
      if (commits !== undefined) body.commits = commits;
    }
  }
  if (peer.midsOwed.length > 0) body.mids = peer.midsOwed.splice(0, peer.midsOwed.length);
  const hasPayload = body.entries !== undefined || body.mid !== undefined;
  if (!hasPayload && !peer.ackOwed) return undefined;
  peer.ackOwed = false;
  if (resend) peer.lastResendMs = nowMs;
  return body;
}

/** Pending items not sent since they changed (or all of them on a resend), marked as sent in `mid`. */
function takePending(pending: Map<string, Pending>, mid: number, all: boolean, nowMs: number): Record<string, number> | undefined {
  let taken: Record<string, number> | undefined;
  for (const [key, item] of pending) {
    if (item.sentIn !== 0 && !all) continue;
    taken ??= {};
    taken[key] = item.offset;
    item.sentIn = mid;
    item.sentAtMs = nowMs;
  }
  return taken;
}

// ---- the whole state's invariants

/**
 * Every invariant over the whole state, in time linear in its size: what the cheap checks above
 * keep step by step, plus the counted size (entryBytes), our own stream against the log, and
 * each peer's pending claims and commits against what we hold. Throws KafkaInvariantError.
 */
export function checkKafkaState(state: KafkaState): void {
  let countedBytes = 0;
  let ownOffsets = 0;
  for (const [key, log] of state.logs) {
    checkKeyLog(key, log);
    for (const [offset, msg] of log.msgs) {
      countedBytes += entryBytes(key, msg);
      if (originIndex(state, offset) === state.index) ownOffsets += 1;
    }
  }
  if (countedBytes !== state.entryBytes) throw new KafkaInvariantError(`entries take ${countedBytes} bytes as counted, the state says ${state.entryBytes}`);
  if (ownOffsets !== state.own.length) throw new KafkaInvariantError(`${ownOffsets} entries of ours in the log, ${state.own.length} in our stream`);
  for (const [key, offset, msg] of state.own) {
    if (originIndex(state, offset) !== state.index) throw new KafkaInvariantError(`offset ${offset} of ${key} in our stream belongs to node ${originIndex(state, offset)}`);
    if (state.logs.get(key)?.msgs.get(offset) !== msg) throw new KafkaInvariantError(`offset ${offset} of ${key} in our stream is not the log's entry`);
  }
  for (const peer of state.peers.values()) checkPeerPending(state, peer);
}

function checkKeyLog(key: string, log: KeyLog): void {
  if (log.offsets.length !== log.msgs.size) throw new KafkaInvariantError(`${key} has ${log.offsets.length} offsets and ${log.msgs.size} messages`);
  log.offsets.forEach((offset, i) => {
    if (i > 0 && !(log.offsets[i - 1]! < offset)) throw new KafkaInvariantError(`offsets of ${key} not strictly increasing: ${log.offsets[i - 1]!}, ${offset}`);
    if (!log.msgs.has(offset)) throw new KafkaInvariantError(`offset ${offset} of ${key} has no message`);
  });
  if (log.known !== (log.offsets.at(-1) ?? -1)) throw new KafkaInvariantError(`known offset of ${key} is ${log.known} but its last offset ${String(log.offsets.at(-1))}`);
  if (!(Number.isSafeInteger(log.committed) && log.committed >= -1)) throw new KafkaInvariantError(`committed offset of ${key} is ${log.committed}`);
}

/** What we still owe a peer never claims more than we know nor commits more than we committed. */
function checkPeerPending(state: KafkaState, peer: PeerState): void {
  checkPeerStream(state, peer);
  for (const [key, claim] of peer.claims) {
    const known = state.logs.get(key)?.known ?? -1;
    if (claim.offset > known) throw new KafkaInvariantError(`claim of ${key} through ${claim.offset} pending to ${peer.id}, above our known ${known}`);
  }
  for (const [key, pending] of peer.commits) {
    const committed = state.logs.get(key)?.committed ?? -1;
    if (pending.offset > committed) throw new KafkaInvariantError(`commit of ${key} through ${pending.offset} pending to ${peer.id}, above ours ${committed}`);
  }
}
