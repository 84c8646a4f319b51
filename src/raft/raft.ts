// Deterministic Raft core for the lin-kv node. No I/O, no clocks, no randomness of its own: every
// entry point takes the current time and returns what to persist, send and answer, and the caller
// must persist before it sends or answers (that ordering is what makes votes and acks durable).
//
// Protocol choices (see README of src/raft in the final report):
// - Leader election with pre-vote and leader stickiness: a node that heard from a leader within the
//   minimum election timeout refuses (pre-)votes, so a partitioned node rejoining cannot depose a
//   healthy leader. A leader that has not heard from a majority within checkQuorumMs steps down.
// - Appends go out on the heartbeat tick only (one message per follower per tick, carrying every new
//   entry): that batching is what bounds messages per operation.
// - Every client operation, reads included, goes through the log; the node the client asked (the
//   "origin") answers when it applies the entry, so no result ever travels back separately.
// - Followers do not forward with a message of their own: queued operations ride on their next
//   append acknowledgement to the leader.
// - Commitment by majority of matchIndex, only for entries of the current term (Raft §5.4.2); a new
//   leader appends a no-op so earlier entries commit promptly.
// - Compaction: once compactEvery entries are applied past the snapshot, the state machine is
//   snapshotted and the log prefix dropped; followers that need dropped entries get the snapshot.

import type { Json } from '../lib/index.js';
import { applyKv, restoreKv, snapshotKv, type KvOp, type KvResult, type KvSnapshot, type KvState } from './kv.js';

export type Command = { origin: string; rid: string; op: KvOp };
/** cmd null is a new leader's no-op. */
export type Entry = { term: number; cmd: Command | null };
export type Snapshot = { index: number; term: number; data: KvSnapshot };

export type PersistOp =
  | { kind: 'hardState'; term: number; votedFor: string | null }
  /** Drops every entry from fromIndex on, then appends entries (which start at fromIndex). */
  | { kind: 'append'; fromIndex: number; entries: Entry[] }
  /** Replaces everything: the snapshot and the entries that follow it. */
  | { kind: 'snapshot'; snapshot: Snapshot; entries: Entry[] };

export type PeerMessage =
  | { type: 'raft_pre_vote'; term: number; last_index: number; last_term: number }
  | { type: 'raft_pre_vote_reply'; term: number; granted: boolean }
  | { type: 'raft_vote'; term: number; last_index: number; last_term: number }
  | { type: 'raft_vote_reply'; term: number; granted: boolean }
  | { type: 'raft_append'; term: number; prev_index: number; prev_term: number; entries: Entry[]; commit: number }
  /** ok: match is the last index known to equal the leader's log; not ok: the follower's hint (retry after it). */
  | { type: 'raft_append_reply'; term: number; ok: boolean; match: number; ops?: Command[] }
  | { type: 'raft_snapshot'; term: number; snapshot: Snapshot; commit: number };

export const peerMessageTypes = [
  'raft_pre_vote',
  'raft_pre_vote_reply',
  'raft_vote',
  'raft_vote_reply',
  'raft_append',
  'raft_append_reply',
  'raft_snapshot',
] as const;

export type ClientAnswer = { rid: string; result: KvResult | { type: 'error'; code: 0 | 11; text: string } };

export interface Output {
  persist: PersistOp[];
  messages: Array<{ to: string; body: PeerMessage }>;
  answers: ClientAnswer[];
}

export interface RaftConfig {
  id: string;
  /** every node id, this one included */
  nodeIds: readonly string[];
  heartbeatMs: number;
  electionMinMs: number;
  electionMaxMs: number;
  /** a leader without acks from a majority for this long steps down */
  checkQuorumMs: number;
  /** a client request not answered by then gets an error (kept under the client's 1 s timeout) */
  requestTimeoutMs: number;
  maxPending: number;
  /** a leader refuses new entries while this many are uncommitted */
  maxUncommitted: number;
  maxEntriesPerAppend: number;
  maxOpsPerAck: number;
  compactEvery: number;
  /** uniform in [0, 1); injected so tests are deterministic */
  random: () => number;
}

export const defaultTimings = {
  heartbeatMs: 60,
  electionMinMs: 150,
  electionMaxMs: 300,
  checkQuorumMs: 300,
  requestTimeoutMs: 750,
};

export const defaultLimits = {
  maxPending: 2_000,
  maxUncommitted: 2_000,
  maxEntriesPerAppend: 500,
  maxOpsPerAck: 500,
  compactEvery: 1_000,
};

export type Role = 'follower' | 'candidate' | 'leader';

interface PendingRequest {
  op: KvOp;
  deadlineMs: number;
  /** handed to a leader (or into our own log): it may have taken effect */
  sent: boolean;
}

export interface RaftState {
  readonly config: RaftConfig;
  // persistent
  term: number;
  votedFor: string | null;
  snapshot: Snapshot;
  /** entries after snapshot.index: index i is entries[i - snapshot.index - 1] */
  entries: Entry[];
  // volatile
  role: Role;
  leaderId: string | null;
  lastLeaderContactMs: number;
  electionDeadlineMs: number;
  /** a pre-vote round in progress: who granted */
  preVotes: Set<string> | null;
  votes: Set<string>;
  commitIndex: number;
  lastApplied: number;
  kv: KvState;
  // leader
  nextIndex: Map<string, number>;
  matchIndex: Map<string, number>;
  lastAckMs: Map<string, number>;
  nextHeartbeatMs: number;
  /** last index written to storage by this node as leader (it counts itself only up to here) */
  persistedIndex: number;
  // client requests this node received
  pending: Map<string, PendingRequest>;
  /** rids not yet handed to a leader, oldest first */
  queue: string[];
}

export function emptyOutput(): Output {
  return { persist: [], messages: [], answers: [] };
}

export interface Durable {
  term: number;
  votedFor: string | null;
  snapshot: Snapshot;
  entries: Entry[];
}

export const emptyDurable = (): Durable => ({ term: 0, votedFor: null, snapshot: { index: 0, term: 0, data: [] }, entries: [] });

export function createRaft(config: RaftConfig, durable: Durable, nowMs: number): RaftState {
  const state: RaftState = {
    config,
    term: durable.term,
    votedFor: durable.votedFor,
    snapshot: durable.snapshot,
    entries: durable.entries,
    role: 'follower',
    leaderId: null,
    lastLeaderContactMs: Number.NEGATIVE_INFINITY,
    electionDeadlineMs: 0,
    preVotes: null,
    votes: new Set(),
    commitIndex: durable.snapshot.index,
    lastApplied: durable.snapshot.index,
    kv: restoreKv(durable.snapshot.data),
    nextIndex: new Map(),
    matchIndex: new Map(),
    lastAckMs: new Map(),
    nextHeartbeatMs: 0,
    persistedIndex: durable.snapshot.index + durable.entries.length,
    pending: new Map(),
    queue: [],
  };
  resetElectionTimer(state, nowMs);
  return state;
}

// ---- log helpers

export function lastIndex(state: RaftState): number {
  return state.snapshot.index + state.entries.length;
}

export function termAt(state: RaftState, index: number): number | undefined {
  if (index === state.snapshot.index) return state.snapshot.term;
  if (index < state.snapshot.index || index > lastIndex(state)) return undefined;
  return (state.entries[index - state.snapshot.index - 1] as Entry).term;
}

function lastTerm(state: RaftState): number {
  return termAt(state, lastIndex(state)) as number;
}

function entriesFrom(state: RaftState, fromIndex: number, max: number): Entry[] {
  const start = fromIndex - state.snapshot.index - 1;
  return state.entries.slice(start, start + max);
}

function majority(state: RaftState): number {
  return Math.floor(state.config.nodeIds.length / 2) + 1;
}

function peers(state: RaftState): string[] {
  return state.config.nodeIds.filter((id) => id !== state.config.id);
}

function logUpToDate(state: RaftState, candidateLastIndex: number, candidateLastTerm: number): boolean {
  const ourTerm = lastTerm(state);
  return candidateLastTerm > ourTerm || (candidateLastTerm === ourTerm && candidateLastIndex >= lastIndex(state));
}

function resetElectionTimer(state: RaftState, nowMs: number): void {
  const { electionMinMs, electionMaxMs, random } = state.config;
  state.electionDeadlineMs = nowMs + electionMinMs + random() * (electionMaxMs - electionMinMs);
}

function send(out: Output, to: string, body: PeerMessage): void {
  out.messages.push({ to, body });
}

function persistHardState(state: RaftState, out: Output): void {
  out.persist.push({ kind: 'hardState', term: state.term, votedFor: state.votedFor });
}

/** Whether a leader is known to be alive: then (pre-)votes are refused so it is not deposed needlessly. */
function leaderIsFresh(state: RaftState, nowMs: number): boolean {
  if (state.role === 'leader') return true;
  return state.leaderId !== null && nowMs - state.lastLeaderContactMs < state.config.electionMinMs;
}

// ---- role changes

function becomeFollower(state: RaftState, term: number, nowMs: number, out: Output): void {
  if (term > state.term) {
    state.term = term;
    state.votedFor = null;
    persistHardState(state, out);
  }
  if (state.role !== 'follower') resetElectionTimer(state, nowMs);
  if (state.role === 'leader') {
    state.leaderId = null;
    persistNewEntries(state, out);
  }
  state.role = 'follower';
  state.preVotes = null;
}

function startPreVote(state: RaftState, nowMs: number, out: Output): void {
  state.leaderId = null;
  state.preVotes = new Set([state.config.id]);
  resetElectionTimer(state, nowMs);
  for (const peer of peers(state)) {
    send(out, peer, { type: 'raft_pre_vote', term: state.term + 1, last_index: lastIndex(state), last_term: lastTerm(state) });
  }
  if (state.preVotes.size >= majority(state)) startElection(state, nowMs, out);
}

function startElection(state: RaftState, nowMs: number, out: Output): void {
  state.preVotes = null;
  state.role = 'candidate';
  state.term += 1;
  state.votedFor = state.config.id;
  state.leaderId = null;
  persistHardState(state, out);
  state.votes = new Set([state.config.id]);
  resetElectionTimer(state, nowMs);
  for (const peer of peers(state)) {
    send(out, peer, { type: 'raft_vote', term: state.term, last_index: lastIndex(state), last_term: lastTerm(state) });
  }
  if (state.votes.size >= majority(state)) becomeLeader(state, nowMs, out);
}

function becomeLeader(state: RaftState, nowMs: number, out: Output): void {
  state.role = 'leader';
  state.leaderId = state.config.id;
  for (const peer of peers(state)) {
    state.nextIndex.set(peer, lastIndex(state) + 1);
    state.matchIndex.set(peer, 0);
    state.lastAckMs.set(peer, nowMs);
  }
  // The no-op lets entries of earlier terms commit (they may not be counted directly, §5.4.2).
  state.entries.push({ term: state.term, cmd: null });
  takeQueuedIntoLog(state);
  heartbeat(state, nowMs, out);
}

// ---- client requests

/** A client request at this node; answers come back through Output.answers with the same rid. */
export function submit(state: RaftState, rid: string, op: KvOp, nowMs: number): Output {
  const out = emptyOutput();
  if (state.pending.size >= state.config.maxPending) {
    out.answers.push({ rid, result: { type: 'error', code: 11, text: 'too many requests in flight' } });
    return out;
  }
  state.pending.set(rid, { op, deadlineMs: nowMs + state.config.requestTimeoutMs, sent: false });
  state.queue.push(rid);
  if (state.role === 'leader') takeQueuedIntoLog(state);
  return out;
}

function uncommitted(state: RaftState): number {
  return lastIndex(state) - state.commitIndex;
}

function takeQueuedIntoLog(state: RaftState): void {
  while (state.queue.length > 0 && uncommitted(state) < state.config.maxUncommitted) {
    const rid = state.queue.shift() as string;
    const request = state.pending.get(rid);
    if (request === undefined) continue;
    request.sent = true;
    state.entries.push({ term: state.term, cmd: { origin: state.config.id, rid, op: request.op } });
  }
}

function appendForwarded(state: RaftState, ops: Command[]): void {
  for (const cmd of ops) {
    // Past the bound the op is dropped; its origin answers "timeout" (indefinite) at its deadline.
    if (uncommitted(state) >= state.config.maxUncommitted) return;
    state.entries.push({ term: state.term, cmd });
  }
}

/** Requests past their deadline get an error: 11 when they certainly did not happen. */
function expireRequests(state: RaftState, nowMs: number, out: Output): void {
  for (const [rid, request] of state.pending) {
    if (request.deadlineMs > nowMs) continue;
    state.pending.delete(rid);
    // A read changes nothing, so saying it did not happen is always true.
    const definite = !request.sent || request.op.f === 'read';
    out.answers.push({
      rid,
      result: definite
        ? { type: 'error', code: 11, text: state.leaderId === null ? 'no leader reachable' : 'not replicated in time' }
        : { type: 'error', code: 0, text: 'sent to the leader; outcome unknown' },
    });
  }
  if (state.queue.length > 0) state.queue = state.queue.filter((rid) => state.pending.has(rid));
}

// ---- time

export function tick(state: RaftState, nowMs: number): Output {
  const out = emptyOutput();
  expireRequests(state, nowMs, out);
  if (state.role === 'leader') {
    if (!hasQuorumContact(state, nowMs)) {
      becomeFollower(state, state.term, nowMs, out);
    } else if (nowMs >= state.nextHeartbeatMs) {
      heartbeat(state, nowMs, out);
    }
    return out;
  }
  if (nowMs >= state.electionDeadlineMs) startPreVote(state, nowMs, out);
  return out;
}

function hasQuorumContact(state: RaftState, nowMs: number): boolean {
  let heard = 1;
  for (const peer of peers(state)) {
    if (nowMs - (state.lastAckMs.get(peer) ?? Number.NEGATIVE_INFINITY) <= state.config.checkQuorumMs) heard += 1;
  }
  return heard >= majority(state);
}

/** Persists new entries, then sends every follower what it lacks (or an empty append). */
function heartbeat(state: RaftState, nowMs: number, out: Output): void {
  persistNewEntries(state, out);
  state.nextHeartbeatMs = nowMs + state.config.heartbeatMs;
  for (const peer of peers(state)) {
    const next = state.nextIndex.get(peer) ?? lastIndex(state) + 1;
    if (next <= state.snapshot.index) {
      send(out, peer, { type: 'raft_snapshot', term: state.term, snapshot: state.snapshot, commit: state.commitIndex });
      state.nextIndex.set(peer, state.snapshot.index + 1);
      continue;
    }
    const entries = entriesFrom(state, next, state.config.maxEntriesPerAppend);
    const prevIndex = next - 1;
    send(out, peer, {
      type: 'raft_append',
      term: state.term,
      prev_index: prevIndex,
      prev_term: termAt(state, prevIndex) as number,
      entries,
      commit: state.commitIndex,
    });
    // Optimistic: the next tick continues after these; a rejection moves nextIndex back.
    state.nextIndex.set(peer, next + entries.length);
  }
  advanceCommit(state, out);
}

/** A leader appends in memory and writes once per tick; every other role writes at once. */
function persistNewEntries(state: RaftState, out: Output): void {
  if (lastIndex(state) <= state.persistedIndex) return;
  const fromIndex = state.persistedIndex + 1;
  out.persist.push({ kind: 'append', fromIndex, entries: entriesFrom(state, fromIndex, Infinity) });
  state.persistedIndex = lastIndex(state);
}

function advanceCommit(state: RaftState, out: Output): void {
  const matches = [state.persistedIndex, ...peers(state).map((peer) => state.matchIndex.get(peer) ?? 0)].sort((a, b) => b - a);
  const candidate = matches[majority(state) - 1] as number;
  // Only an entry of the current term is committed by counting replicas (§5.4.2).
  if (candidate > state.commitIndex && termAt(state, candidate) === state.term) {
    state.commitIndex = candidate;
    applyCommitted(state, out);
  }
}

function applyCommitted(state: RaftState, out: Output): void {
  while (state.lastApplied < state.commitIndex) {
    state.lastApplied += 1;
    const entry = state.entries[state.lastApplied - state.snapshot.index - 1] as Entry;
    if (entry.cmd === null) continue;
    const result = applyKv(state.kv, entry.cmd.op);
    if (entry.cmd.origin === state.config.id && state.pending.delete(entry.cmd.rid)) {
      out.answers.push({ rid: entry.cmd.rid, result });
    }
  }
  maybeCompact(state, out);
}

function maybeCompact(state: RaftState, out: Output): void {
  if (state.lastApplied - state.snapshot.index < state.config.compactEvery) return;
  const index = state.lastApplied;
  const snapshot: Snapshot = { index, term: termAt(state, index) as number, data: snapshotKv(state.kv) };
  state.entries = state.entries.slice(index - state.snapshot.index);
  state.snapshot = snapshot;
  // The rewrite holds every entry we have, a leader's not yet written ones too.
  state.persistedIndex = lastIndex(state);
  out.persist.push({ kind: 'snapshot', snapshot, entries: state.entries.slice() });
}

// ---- messages

export function receive(state: RaftState, from: string, message: PeerMessage, nowMs: number): Output {
  const out = emptyOutput();
  if (!state.config.nodeIds.includes(from) || from === state.config.id) return out;
  switch (message.type) {
    case 'raft_pre_vote':
      onPreVote(state, from, message, nowMs, out);
      break;
    case 'raft_pre_vote_reply':
      onPreVoteReply(state, from, message, nowMs, out);
      break;
    case 'raft_vote':
      onVote(state, from, message, nowMs, out);
      break;
    case 'raft_vote_reply':
      onVoteReply(state, from, message, nowMs, out);
      break;
    case 'raft_append':
      onAppend(state, from, message, nowMs, out);
      break;
    case 'raft_append_reply':
      onAppendReply(state, from, message, nowMs, out);
      break;
    case 'raft_snapshot':
      onSnapshot(state, from, message, nowMs, out);
      break;
  }
  return out;
}

type Msg<T extends PeerMessage['type']> = Extract<PeerMessage, { type: T }>;

function onPreVote(state: RaftState, from: string, m: Msg<'raft_pre_vote'>, nowMs: number, out: Output): void {
  // No state changes here: a pre-vote only asks "would you vote for me in term m.term?".
  const granted = m.term > state.term && !leaderIsFresh(state, nowMs) && logUpToDate(state, m.last_index, m.last_term);
  send(out, from, { type: 'raft_pre_vote_reply', term: granted ? m.term : state.term, granted });
  // Two nodes that time out together would both win their pre-votes and split the real vote; the
  // one with the larger id steps aside so the other's election can finish in one round trip.
  if (granted && state.preVotes !== null && from < state.config.id) {
    state.preVotes = null;
    resetElectionTimer(state, nowMs);
  }
}

function onPreVoteReply(state: RaftState, from: string, m: Msg<'raft_pre_vote_reply'>, nowMs: number, out: Output): void {
  if (!m.granted) {
    if (m.term > state.term) becomeFollower(state, m.term, nowMs, out);
    return;
  }
  if (state.preVotes === null || state.role === 'leader' || m.term !== state.term + 1) return;
  state.preVotes.add(from);
  if (state.preVotes.size >= majority(state)) startElection(state, nowMs, out);
}

function onVote(state: RaftState, from: string, m: Msg<'raft_vote'>, nowMs: number, out: Output): void {
  if (m.term > state.term) {
    // Stickiness: while a live leader is known, a higher-term candidate is ignored outright.
    if (leaderIsFresh(state, nowMs)) {
      send(out, from, { type: 'raft_vote_reply', term: state.term, granted: false });
      return;
    }
    becomeFollower(state, m.term, nowMs, out);
  }
  const granted =
    m.term === state.term &&
    (state.votedFor === null || state.votedFor === from) &&
    logUpToDate(state, m.last_index, m.last_term);
  if (granted && state.votedFor !== from) {
    state.votedFor = from;
    persistHardState(state, out);
  }
  if (granted) resetElectionTimer(state, nowMs);
  send(out, from, { type: 'raft_vote_reply', term: state.term, granted });
}

function onVoteReply(state: RaftState, from: string, m: Msg<'raft_vote_reply'>, nowMs: number, out: Output): void {
  if (m.term > state.term) {
    becomeFollower(state, m.term, nowMs, out);
    return;
  }
  if (state.role !== 'candidate' || m.term !== state.term || !m.granted) return;
  state.votes.add(from);
  if (state.votes.size >= majority(state)) becomeLeader(state, nowMs, out);
}

/** Accepts `from` as leader of m.term; false when the message is from an older term. */
function acceptLeader(state: RaftState, from: string, term: number, nowMs: number, out: Output): boolean {
  if (term < state.term) return false;
  if (term > state.term || state.role !== 'follower') becomeFollower(state, term, nowMs, out);
  state.leaderId = from;
  state.lastLeaderContactMs = nowMs;
  state.preVotes = null;
  resetElectionTimer(state, nowMs);
  return true;
}

function onAppend(state: RaftState, from: string, m: Msg<'raft_append'>, nowMs: number, out: Output): void {
  if (!acceptLeader(state, from, m.term, nowMs, out)) {
    send(out, from, { type: 'raft_append_reply', term: state.term, ok: false, match: 0 });
    return;
  }
  let prevIndex = m.prev_index;
  let entries = m.entries;
  // Entries up to our snapshot are committed, hence equal to the leader's: skip them.
  if (prevIndex < state.snapshot.index) {
    entries = entries.slice(state.snapshot.index - prevIndex);
    prevIndex = state.snapshot.index;
    if (m.prev_index + m.entries.length < state.snapshot.index) {
      replyToLeader(state, from, true, state.snapshot.index, out);
      return;
    }
  } else if (prevIndex > lastIndex(state)) {
    replyToLeader(state, from, false, lastIndex(state), out);
    return;
  } else if (termAt(state, prevIndex) !== m.prev_term) {
    replyToLeader(state, from, false, conflictHint(state, prevIndex), out);
    return;
  }
  const match = prevIndex + entries.length;
  mergeEntries(state, prevIndex + 1, entries, out);
  const newCommit = Math.min(m.commit, match);
  if (newCommit > state.commitIndex) {
    state.commitIndex = newCommit;
    applyCommitted(state, out);
  }
  replyToLeader(state, from, true, match, out);
}

/** Where the leader should retry: just before the first entry of the conflicting term. */
function conflictHint(state: RaftState, prevIndex: number): number {
  const conflictTerm = termAt(state, prevIndex);
  let index = prevIndex;
  while (index - 1 > state.snapshot.index && termAt(state, index - 1) === conflictTerm) index -= 1;
  // Committed entries equal the leader's, so there is no need to go back past them.
  return Math.max(index - 1, Math.min(state.commitIndex, prevIndex - 1));
}

function mergeEntries(state: RaftState, firstIndex: number, entries: Entry[], out: Output): void {
  for (let k = 0; k < entries.length; k++) {
    const index = firstIndex + k;
    const entry = entries[k] as Entry;
    const existing = termAt(state, index);
    if (existing === entry.term) continue;
    if (existing !== undefined) {
      if (index <= state.commitIndex) throw new Error(`leader overwrote committed entry ${index}`);
      state.entries.length = index - state.snapshot.index - 1;
    }
    const rest = entries.slice(k);
    state.entries.push(...rest);
    state.persistedIndex = lastIndex(state);
    out.persist.push({ kind: 'append', fromIndex: index, entries: rest });
    return;
  }
}

function replyToLeader(state: RaftState, leader: string, ok: boolean, match: number, out: Output): void {
  const reply: Msg<'raft_append_reply'> = { type: 'raft_append_reply', term: state.term, ok, match };
  // Queued client requests ride on the ack: forwarding costs no message of its own.
  if (state.queue.length > 0 && state.leaderId === leader) {
    const rids = state.queue.splice(0, state.config.maxOpsPerAck);
    const ops: Command[] = [];
    for (const rid of rids) {
      const request = state.pending.get(rid);
      if (request === undefined) continue;
      request.sent = true;
      ops.push({ origin: state.config.id, rid, op: request.op });
    }
    if (ops.length > 0) reply.ops = ops;
  }
  send(out, leader, reply);
}

function onAppendReply(state: RaftState, from: string, m: Msg<'raft_append_reply'>, nowMs: number, out: Output): void {
  if (m.term > state.term) {
    becomeFollower(state, m.term, nowMs, out);
    return;
  }
  if (state.role !== 'leader' || m.term !== state.term) return;
  state.lastAckMs.set(from, nowMs);
  if (m.ops !== undefined) appendForwarded(state, m.ops);
  if (m.ok) {
    state.matchIndex.set(from, Math.max(state.matchIndex.get(from) ?? 0, m.match));
    state.nextIndex.set(from, Math.max(state.nextIndex.get(from) ?? 0, m.match + 1));
    advanceCommit(state, out);
  } else {
    state.nextIndex.set(from, Math.max(m.match, state.matchIndex.get(from) ?? 0) + 1);
  }
}

function onSnapshot(state: RaftState, from: string, m: Msg<'raft_snapshot'>, nowMs: number, out: Output): void {
  if (!acceptLeader(state, from, m.term, nowMs, out)) {
    send(out, from, { type: 'raft_append_reply', term: state.term, ok: false, match: 0 });
    return;
  }
  const snapshot = m.snapshot;
  if (snapshot.index <= state.commitIndex) {
    replyToLeader(state, from, true, Math.min(state.commitIndex, lastIndex(state)), out);
    return;
  }
  // Keep a suffix that agrees with the snapshot's last entry; otherwise the log is replaced.
  state.entries = termAt(state, snapshot.index) === snapshot.term ? state.entries.slice(snapshot.index - state.snapshot.index) : [];
  state.snapshot = snapshot;
  state.kv = restoreKv(snapshot.data);
  state.commitIndex = snapshot.index;
  state.lastApplied = snapshot.index;
  state.persistedIndex = lastIndex(state);
  out.persist.push({ kind: 'snapshot', snapshot, entries: state.entries.slice() });
  replyToLeader(state, from, true, snapshot.index, out);
}

/** For tests and logs: a compact view of the node. */
export function describe(state: RaftState): Record<string, Json> {
  return {
    role: state.role,
    term: state.term,
    leader: state.leaderId,
    last: lastIndex(state),
    commit: state.commitIndex,
    applied: state.lastApplied,
    snapshot: state.snapshot.index,
  };
}
