// Deterministic Raft core for the lin-kv node. No I/O, no clocks, no randomness of its own: every
// entry point takes the current time and returns what to persist, send and answer, and the caller
// must persist before it sends or answers (that ordering is what makes votes and acks durable).
//
// Protocol choices (src/raft/README.md has the reasoning and the figures):
// - Leader election with pre-vote and leader stickiness: a node that heard from a leader within the
//   minimum election timeout refuses (pre-)votes, so a partitioned node rejoining cannot depose a
//   healthy leader. A leader that has not heard from a majority within checkQuorumMs steps down.
// - Appends go out when there is something to send, not on a timer: a follower's request goes to
//   the leader at once, and the leader sends new entries at once to the followers that must have
//   them. One acknowledged append is in flight per follower; what arrives meanwhile is batched
//   behind it. Heartbeats go only to a follower that has been sent nothing for heartbeatMs.
// - The node the client asked (the "origin") answers when it applies the entry, so no result
//   travels back separately. Every append carries `seq`; every follower message echoes the
//   highest seq it has seen from the leader.
// - Where leader + one follower are a majority (clusters of up to 3), a follower that holds an
//   entry of the current term (verified against the leader's log) knows it is committed: the
//   leader wrote it before sending it, so two nodes have it. It commits and answers at once, and
//   the leader needs no acknowledgement for such an append ("lazy": answered with the follower's
//   next message). Larger clusters count acknowledgements at the leader and send a commit notice
//   to the origin.
// - Reads do not go through the log (ReadIndex): the leader records its last index r and answers
//   (or grants the origin follower the right to answer) once a majority has confirmed, with a
//   message sent after r was recorded, that it is still the leader of its term; the read is then
//   served when the reader has applied r. No clocks, no leases. r is the leader's last index, not
//   its commit index, because a follower may already have answered an entry the leader does not
//   yet know is committed.
// - Commitment by majority of matchIndex, only for entries of the current term (Raft §5.4.2); a new
//   leader appends a no-op so earlier entries commit promptly and reads have an entry of its term.
// - Compaction: once compactEvery entries are applied past the snapshot, the state machine is
//   snapshotted and the log prefix dropped; followers that need dropped entries get the snapshot.
// - Invariants (terms and commit index never decrease, commit index <= last index, a leader never
//   truncates its own log) are checked after every step and throw RaftInvariantError.

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

/** A read the leader lets a follower answer once it has applied `index`: [rid, index]. */
export type ReadGrant = [string, number];

export type PeerMessage =
  | { type: 'raft_pre_vote'; term: number; last_index: number; last_term: number }
  | { type: 'raft_pre_vote_reply'; term: number; granted: boolean }
  | { type: 'raft_vote'; term: number; last_index: number; last_term: number }
  | { type: 'raft_vote_reply'; term: number; granted: boolean }
  | {
      type: 'raft_append';
      term: number;
      prev_index: number;
      prev_term: number;
      entries: Entry[];
      commit: number;
      /** the leader's send sequence number (echoed back) */
      seq?: number;
      /** the leader does not need an acknowledgement now: the follower answers with its next message */
      lazy?: boolean;
      reads?: ReadGrant[];
    }
  /**
   * A follower's message to the leader: an acknowledgement, and/or requests. ok: match is the last
   * index known to equal the leader's log; not ok: the follower's hint (retry after it).
   */
  | { type: 'raft_append_reply'; term: number; ok: boolean; match: number; seq?: number; ops?: Command[]; reads?: string[] }
  | { type: 'raft_snapshot'; term: number; snapshot: Snapshot; commit: number; seq?: number };

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
  /** a follower sent nothing for this long gets a heartbeat; also the retry time of an unanswered append */
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
  heartbeatMs: 100,
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
  /** a read allowed to be answered once lastApplied reaches this index */
  readIndex?: number;
}

/** A read waiting for the leader's confirmation round: answerable after a majority echoes a seq > seq. */
interface ReadRound {
  index: number;
  seq: number;
  /** undefined: the leader's own client; else the follower to grant it to */
  peer: string | undefined;
  rids: string[];
}

interface InFlight {
  seq: number;
  sentMs: number;
  /** last index the append carried */
  end: number;
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
  // follower
  /** last index verified (by an append of this term) to equal the current leader's log */
  verifiedMatch: number;
  /** highest seq seen from the current leader */
  leaderSeq: number;
  // leader
  nextIndex: Map<string, number>;
  matchIndex: Map<string, number>;
  /** last message of any kind from the peer in this term (check-quorum) */
  lastAckMs: Map<string, number>;
  /** highest seq the peer has echoed */
  ackSeq: Map<string, number>;
  inFlight: Map<string, InFlight>;
  lastSentMs: Map<string, number>;
  /** highest index of an entry the peer originated (it must receive it to answer) */
  owed: Map<string, number>;
  /** larger clusters: the commit index a peer waits to hear about, and what it was last told */
  wantCommit: Map<string, number>;
  commitSent: Map<string, number>;
  grants: Map<string, ReadGrant[]>;
  /** peers whose last append was rejected: repaired at once */
  repair: Set<string>;
  readRounds: ReadRound[];
  sendSeq: number;
  /** highest index the leader itself waits on (its no-op, its clients' entries and reads) */
  leaderNeeds: number;
  /** last index written to storage by this node as leader (it counts itself only up to here) */
  persistedIndex: number;
  // client requests this node received
  pending: Map<string, PendingRequest>;
  /** rids not yet handed to a leader, oldest first */
  queue: string[];
  /** reads with a readIndex, waiting to be applied that far */
  grantedReads: Set<string>;
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

/** A broken Raft invariant: a bug, never a condition to recover from. */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant broken: ${message}`);
    this.name = 'RaftInvariantError';
  }
}

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
    verifiedMatch: 0,
    leaderSeq: 0,
    nextIndex: new Map(),
    matchIndex: new Map(),
    lastAckMs: new Map(),
    ackSeq: new Map(),
    inFlight: new Map(),
    lastSentMs: new Map(),
    owed: new Map(),
    wantCommit: new Map(),
    commitSent: new Map(),
    grants: new Map(),
    repair: new Set(),
    readRounds: [],
    sendSeq: 0,
    leaderNeeds: 0,
    persistedIndex: durable.snapshot.index + durable.entries.length,
    pending: new Map(),
    queue: [],
    grantedReads: new Set(),
  };
  resetElectionTimer(state, nowMs);
  // A cluster that has never had a leader (term 0 everywhere) elects one sooner: no leader can be
  // disturbed, and clients are already waiting. Pre-vote still keeps a lone early node harmless.
  if (state.term === 0) state.electionDeadlineMs = nowMs + (config.electionMinMs / 5) * (1 + config.random());
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

/** Leader + one follower are a majority: followers can tell for themselves that an entry is committed. */
function followersInfer(state: RaftState): boolean {
  return majority(state) <= 2;
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

// ---- invariants

export interface Before {
  term: number;
  commitIndex: number;
  role: Role;
  lastIndex: number;
  lastTerm: number;
}

export function before(state: RaftState): Before {
  return { term: state.term, commitIndex: state.commitIndex, role: state.role, lastIndex: lastIndex(state), lastTerm: lastTerm(state) };
}

/** Throws RaftInvariantError if the step from `was` to `state` broke an invariant (exported for tests). */
export function checkInvariants(state: RaftState, was: Before): void {
  const fail = (what: string): never => {
    throw new RaftInvariantError(`${state.config.id}: ${what}`);
  };
  if (state.term < was.term) fail(`term went down from ${was.term} to ${state.term}`);
  if (state.commitIndex < was.commitIndex) fail(`commit index went down from ${was.commitIndex} to ${state.commitIndex}`);
  if (state.commitIndex > lastIndex(state)) fail(`commit index ${state.commitIndex} beyond last index ${lastIndex(state)}`);
  if (state.lastApplied > state.commitIndex) fail(`applied ${state.lastApplied} beyond commit index ${state.commitIndex}`);
  if (was.role === 'leader' && state.role === 'leader' && state.term === was.term) {
    const termNow = termAt(state, was.lastIndex);
    if (lastIndex(state) < was.lastIndex || (termNow !== undefined && termNow !== was.lastTerm)) {
      fail(`leader of term ${state.term} truncated its own log (last index ${was.lastIndex} -> ${lastIndex(state)})`);
    }
  }
}

/** Runs one step and checks the invariants after it. */
function step(state: RaftState, nowMs: number, body: (out: Output) => void): Output {
  const was = before(state);
  const out = emptyOutput();
  body(out);
  progress(state, nowMs, out);
  checkInvariants(state, was);
  return out;
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
    // Our own unconfirmed reads go to the next leader; reads of followers are theirs to retry.
    const mine = state.readRounds.filter((round) => round.peer === undefined).flatMap((round) => round.rids);
    for (const rid of mine) {
      const request = state.pending.get(rid);
      if (request !== undefined) request.sent = false;
    }
    state.queue = [...mine.filter((rid) => state.pending.has(rid)), ...state.queue];
    state.readRounds = [];
    state.grants.clear();
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
  if (state.votes.size >= majority(state)) becomeLeader(state, nowMs);
}

function becomeLeader(state: RaftState, nowMs: number): void {
  state.role = 'leader';
  state.leaderId = state.config.id;
  for (const map of [state.nextIndex, state.matchIndex, state.lastAckMs, state.ackSeq, state.inFlight, state.lastSentMs, state.owed, state.wantCommit, state.commitSent, state.grants]) {
    map.clear();
  }
  state.repair.clear();
  state.readRounds = [];
  state.sendSeq = 0;
  for (const peer of peers(state)) {
    state.nextIndex.set(peer, lastIndex(state) + 1);
    state.matchIndex.set(peer, 0);
    state.lastAckMs.set(peer, nowMs);
  }
  // The no-op lets entries of earlier terms commit (they may not be counted directly, §5.4.2), and
  // gives reads an entry of this term to wait for. Every follower hears of it at once (progress).
  state.entries.push({ term: state.term, cmd: null });
  state.leaderNeeds = lastIndex(state);
  requeueReads(state);
}

/** Reads handed to a previous leader and not granted may be lost with it; asking again is safe. */
function requeueReads(state: RaftState): void {
  for (const [rid, request] of state.pending) {
    if (request.op.f === 'read' && request.sent && request.readIndex === undefined && !state.queue.includes(rid)) {
      request.sent = false;
      state.queue.push(rid);
    }
  }
}

// ---- client requests

/** A client request at this node; answers come back through Output.answers with the same rid. */
export function submit(state: RaftState, rid: string, op: KvOp, nowMs: number): Output {
  return step(state, nowMs, (out) => {
    if (state.pending.size >= state.config.maxPending) {
      out.answers.push({ rid, result: { type: 'error', code: 11, text: 'too many requests in flight' } });
      return;
    }
    state.pending.set(rid, { op, deadlineMs: nowMs + state.config.requestTimeoutMs, sent: false });
    state.queue.push(rid);
  });
}

function uncommitted(state: RaftState): number {
  return lastIndex(state) - state.commitIndex;
}

/** Leader: our clients' writes go into the log, their reads into a confirmation round. */
function takeQueuedIntoLog(state: RaftState): void {
  const reads: string[] = [];
  while (state.queue.length > 0) {
    const rid = state.queue[0] as string;
    const request = state.pending.get(rid);
    if (request === undefined) {
      state.queue.shift();
      continue;
    }
    if (request.op.f === 'read') {
      state.queue.shift();
      request.sent = true;
      reads.push(rid);
      continue;
    }
    if (uncommitted(state) >= state.config.maxUncommitted) break;
    state.queue.shift();
    request.sent = true;
    state.entries.push({ term: state.term, cmd: { origin: state.config.id, rid, op: request.op } });
    state.leaderNeeds = lastIndex(state);
  }
  if (reads.length > 0) {
    state.readRounds.push({ index: lastIndex(state), seq: state.sendSeq, peer: undefined, rids: reads });
    state.leaderNeeds = Math.max(state.leaderNeeds, lastIndex(state));
  }
}

function appendForwarded(state: RaftState, from: string, ops: Command[]): void {
  for (const cmd of ops) {
    // Past the bound the op is dropped; its origin answers "timeout" (indefinite) at its deadline.
    if (uncommitted(state) >= state.config.maxUncommitted) return;
    state.entries.push({ term: state.term, cmd });
    state.owed.set(from, lastIndex(state));
    if (!followersInfer(state)) state.wantCommit.set(from, lastIndex(state));
  }
}

/** Requests past their deadline get an error: 11 when they certainly did not happen. */
function expireRequests(state: RaftState, nowMs: number, out: Output): void {
  let expired = false;
  for (const [rid, request] of state.pending) {
    if (request.deadlineMs > nowMs) continue;
    state.pending.delete(rid);
    state.grantedReads.delete(rid);
    expired = true;
    // A read changes nothing, so saying it did not happen is always true.
    const definite = !request.sent || request.op.f === 'read';
    out.answers.push({
      rid,
      result: definite
        ? { type: 'error', code: 11, text: state.leaderId === null ? 'no leader reachable' : 'not replicated in time' }
        : { type: 'error', code: 0, text: 'sent to the leader; outcome unknown' },
    });
  }
  if (expired && state.queue.length > 0) state.queue = state.queue.filter((rid) => state.pending.has(rid));
}

/** Answers reads whose index has been applied. */
function answerReads(state: RaftState, out: Output): void {
  for (const rid of state.grantedReads) {
    const request = state.pending.get(rid);
    if (request === undefined || request.readIndex === undefined) {
      state.grantedReads.delete(rid);
      continue;
    }
    if (request.readIndex > state.lastApplied) continue;
    state.grantedReads.delete(rid);
    state.pending.delete(rid);
    out.answers.push({ rid, result: applyKv(state.kv, request.op) });
  }
}

// ---- after every event

function progress(state: RaftState, nowMs: number, out: Output): void {
  if (state.role === 'leader') {
    takeQueuedIntoLog(state);
    persistNewEntries(state, out);
    advanceCommit(state, out);
    confirmReads(state);
    pump(state, nowMs, out);
  } else if (state.role === 'follower' && state.leaderId !== null && state.queue.length > 0) {
    sendToLeader(state, state.leaderId, true, state.verifiedMatch, out);
  }
  answerReads(state, out);
}

// ---- time

export function tick(state: RaftState, nowMs: number): Output {
  return step(state, nowMs, (out) => {
    expireRequests(state, nowMs, out);
    if (state.role === 'leader') {
      if (!hasQuorumContact(state, nowMs)) becomeFollower(state, state.term, nowMs, out);
      return;
    }
    if (nowMs >= state.electionDeadlineMs) startPreVote(state, nowMs, out);
  });
}

function hasQuorumContact(state: RaftState, nowMs: number): boolean {
  let heard = 1;
  for (const peer of peers(state)) {
    if (nowMs - (state.lastAckMs.get(peer) ?? Number.NEGATIVE_INFINITY) <= state.config.checkQuorumMs) heard += 1;
  }
  return heard >= majority(state);
}

/** A leader appends in memory and writes once per step; every other role writes at once. */
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

/** How many peers (other than `except`) have echoed a seq above `seq`: they were ours after it. */
function confirmations(state: RaftState, seq: number, except?: string): number {
  let count = 0;
  for (const peer of peers(state)) if (peer !== except && (state.ackSeq.get(peer) ?? 0) > seq) count += 1;
  return count;
}

/** Reads whose leadership round is complete: ours wait to be applied, followers' are granted. */
function confirmReads(state: RaftState): void {
  if (state.readRounds.length === 0) return;
  const need = majority(state) - 1;
  state.readRounds = state.readRounds.filter((round) => {
    // A follower's own receipt of the grant (sent after the round began) is one of the confirmations.
    const confirmed = round.peer === undefined ? confirmations(state, round.seq) >= need : confirmations(state, round.seq, round.peer) + 1 >= need;
    if (!confirmed) return true;
    if (round.peer === undefined) {
      for (const rid of round.rids) {
        const request = state.pending.get(rid);
        if (request === undefined) continue;
        request.readIndex = round.index;
        state.grantedReads.add(rid);
      }
    } else {
      const grants = state.grants.get(round.peer) ?? [];
      for (const rid of round.rids) grants.push([rid, round.index]);
      state.grants.set(round.peer, grants);
      if (!followersInfer(state)) state.wantCommit.set(round.peer, Math.max(state.wantCommit.get(round.peer) ?? 0, round.index));
    }
    return false;
  });
}

/**
 * Leader: decides who gets an append now, and whether it must be acknowledged at once.
 * - entries the leader waits on (its no-op, its clients' writes and reads; in larger clusters
 *   everything) go to enough followers for a majority, acknowledged, one append in flight each;
 * - a follower gets at once the entries it originated, its read grants and (larger clusters) the
 *   commit notice it waits for, lazily;
 * - reads in a confirmation round need a majority to echo a seq sent after the round began;
 * - a follower sent nothing for heartbeatMs gets a heartbeat, acknowledged if it has been silent.
 */
function pump(state: RaftState, nowMs: number, out: Output): void {
  const { heartbeatMs } = state.config;
  const all = peers(state);
  const last = lastIndex(state);
  const plan = new Map<string, boolean>();
  const live = (peer: string): InFlight | undefined => {
    const flight = state.inFlight.get(peer);
    return flight !== undefined && nowMs - flight.sentMs < heartbeatMs ? flight : undefined;
  };
  const heardRecently = (peer: string): boolean => nowMs - (state.lastAckMs.get(peer) ?? Number.NEGATIVE_INFINITY) <= heartbeatMs;
  /** Idle followers not yet planned, the ones heard from recently and furthest along first. */
  const candidates = (skip: (peer: string) => boolean): string[] =>
    all
      .filter((peer) => !plan.has(peer) && live(peer) === undefined && !skip(peer))
      .sort(
        (a, b) =>
          Number(heardRecently(b)) - Number(heardRecently(a)) ||
          (state.matchIndex.get(b) ?? 0) - (state.matchIndex.get(a) ?? 0) ||
          (a < b ? -1 : 1),
      );

  for (const peer of state.repair) if (live(peer) === undefined) plan.set(peer, true);
  state.repair.clear();

  // 1. Entries someone waits on, to a majority, acknowledged.
  const target = followersInfer(state) ? Math.min(state.leaderNeeds, last) : last;
  if (target > state.commitIndex) {
    const has = (peer: string): boolean => (state.matchIndex.get(peer) ?? 0) >= target || (live(peer)?.end ?? 0) >= target || plan.get(peer) === true;
    let need = majority(state) - 1 - all.filter(has).length;
    for (const peer of candidates(has)) {
      if (need <= 0) break;
      plan.set(peer, true);
      need -= 1;
    }
  }

  // 2. Confirmation rounds for reads (a follower's own read counts its receipt of the grant).
  for (const round of state.readRounds) {
    const covers = (peer: string): boolean =>
      peer === round.peer || (state.ackSeq.get(peer) ?? 0) > round.seq || (live(peer)?.seq ?? 0) > round.seq || plan.get(peer) === true;
    let need = majority(state) - 1 - all.filter(covers).length;
    for (const peer of candidates(covers)) {
      if (need <= 0) break;
      plan.set(peer, true);
      need -= 1;
    }
  }

  for (const peer of all) {
    if (plan.has(peer)) continue;
    // 3. What a follower waits on for its own clients, lazily.
    const owed = (state.owed.get(peer) ?? 0) >= (state.nextIndex.get(peer) ?? last + 1);
    const granted = (state.grants.get(peer)?.length ?? 0) > 0;
    const commitDue = Math.min(state.wantCommit.get(peer) ?? 0, state.commitIndex) > (state.commitSent.get(peer) ?? 0);
    if (owed || granted || commitDue) {
      plan.set(peer, false);
      continue;
    }
    // 4. Heartbeats: they keep the follower's election timer back; an acknowledgement is asked for
    // only when the follower has been silent for half the check-quorum time.
    if (nowMs - (state.lastSentMs.get(peer) ?? Number.NEGATIVE_INFINITY) >= heartbeatMs) {
      const wantAck = nowMs - (state.lastAckMs.get(peer) ?? Number.NEGATIVE_INFINITY) > state.config.checkQuorumMs / 2;
      if (!wantAck || live(peer) === undefined) plan.set(peer, wantAck);
    }
  }

  for (const [peer, ack] of plan) sendAppend(state, peer, ack, nowMs, out);
}

function sendAppend(state: RaftState, peer: string, ack: boolean, nowMs: number, out: Output): void {
  const next = state.nextIndex.get(peer) ?? lastIndex(state) + 1;
  state.sendSeq += 1;
  const seq = state.sendSeq;
  state.lastSentMs.set(peer, nowMs);
  state.commitSent.set(peer, state.commitIndex);
  if (next <= state.snapshot.index) {
    send(out, peer, { type: 'raft_snapshot', term: state.term, snapshot: state.snapshot, commit: state.commitIndex, seq });
    state.nextIndex.set(peer, state.snapshot.index + 1);
    state.inFlight.set(peer, { seq, sentMs: nowMs, end: state.snapshot.index });
    return;
  }
  const entries = entriesFrom(state, next, state.config.maxEntriesPerAppend);
  const prevIndex = next - 1;
  const body: Extract<PeerMessage, { type: 'raft_append' }> = {
    type: 'raft_append',
    term: state.term,
    prev_index: prevIndex,
    prev_term: termAt(state, prevIndex) as number,
    entries,
    commit: state.commitIndex,
    seq,
  };
  if (!ack) body.lazy = true;
  const grants = state.grants.get(peer);
  if (grants !== undefined && grants.length > 0) {
    body.reads = grants;
    state.grants.delete(peer);
  }
  send(out, peer, body);
  // Optimistic: the next append continues after these; a rejection moves nextIndex back.
  state.nextIndex.set(peer, next + entries.length);
  if (ack) state.inFlight.set(peer, { seq, sentMs: nowMs, end: next + entries.length - 1 });
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
  if (!state.config.nodeIds.includes(from) || from === state.config.id) return emptyOutput();
  return step(state, nowMs, (out) => {
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
  });
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
  if (state.votes.size >= majority(state)) becomeLeader(state, nowMs);
}

/** Accepts `from` as leader of m.term; false when the message is from an older term. */
function acceptLeader(state: RaftState, from: string, term: number, nowMs: number, out: Output): boolean {
  if (term < state.term) return false;
  if (term > state.term || state.role !== 'follower') becomeFollower(state, term, nowMs, out);
  if (state.leaderId !== from) {
    // A new leader: nothing of ours is verified against its log yet, and its seqs start afresh.
    state.verifiedMatch = 0;
    state.leaderSeq = 0;
    requeueReads(state);
  }
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
  state.leaderSeq = Math.max(state.leaderSeq, m.seq ?? 0);
  // A grant is valid whatever the log check says: the leader sent it after its read round began,
  // and we are still in its term, so together we are a majority that was its after the round began.
  for (const [rid, index] of m.reads ?? []) {
    const request = state.pending.get(rid);
    if (request === undefined || request.op.f !== 'read') continue;
    request.readIndex = index;
    state.grantedReads.add(rid);
  }
  let prevIndex = m.prev_index;
  let entries = m.entries;
  // Entries up to our snapshot are committed, hence equal to the leader's: skip them.
  if (prevIndex < state.snapshot.index) {
    entries = entries.slice(state.snapshot.index - prevIndex);
    prevIndex = state.snapshot.index;
    if (m.prev_index + m.entries.length < state.snapshot.index) {
      verified(state, state.snapshot.index, m.commit, out);
      sendToLeader(state, from, true, state.verifiedMatch, out);
      return;
    }
  } else if (prevIndex > lastIndex(state)) {
    sendToLeader(state, from, false, lastIndex(state), out);
    return;
  } else if (termAt(state, prevIndex) !== m.prev_term) {
    sendToLeader(state, from, false, conflictHint(state, prevIndex), out);
    return;
  }
  mergeEntries(state, prevIndex + 1, entries, out);
  verified(state, prevIndex + entries.length, m.commit, out);
  // A lazy append is acknowledged by our next message to the leader, whenever that is.
  if (m.lazy !== true || state.queue.length > 0) sendToLeader(state, from, true, state.verifiedMatch, out);
}

/** The log up to `match` equals the leader's: commit what the leader says, or what we can tell. */
function verified(state: RaftState, match: number, leaderCommit: number, out: Output): void {
  state.verifiedMatch = Math.max(state.verifiedMatch, match);
  let commit = Math.min(leaderCommit, state.verifiedMatch);
  // Leader + us are a majority, and both hold every entry up to verifiedMatch: an entry of the
  // leader's own term there is committed, and so is everything before it.
  if (followersInfer(state) && termAt(state, state.verifiedMatch) === state.term) commit = Math.max(commit, state.verifiedMatch);
  if (commit > state.commitIndex) {
    state.commitIndex = commit;
    applyCommitted(state, out);
  }
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
      if (index <= state.commitIndex) throw new RaftInvariantError(`${state.config.id}: leader overwrote committed entry ${index}`);
      if (state.role === 'leader') throw new RaftInvariantError(`${state.config.id}: a leader truncating its own log at ${index}`);
      state.entries.length = index - state.snapshot.index - 1;
    }
    const rest = entries.slice(k);
    state.entries.push(...rest);
    state.persistedIndex = lastIndex(state);
    out.persist.push({ kind: 'append', fromIndex: index, entries: rest });
    return;
  }
}

/** A follower's message to the leader: the ack (ok and match, or the retry hint) and queued requests. */
function sendToLeader(state: RaftState, leader: string, ok: boolean, match: number, out: Output): void {
  const reply: Msg<'raft_append_reply'> = { type: 'raft_append_reply', term: state.term, ok, match, seq: state.leaderSeq };
  if (state.queue.length > 0 && state.leaderId === leader) {
    const rids = state.queue.splice(0, state.config.maxOpsPerAck);
    const ops: Command[] = [];
    const reads: string[] = [];
    for (const rid of rids) {
      const request = state.pending.get(rid);
      if (request === undefined) continue;
      request.sent = true;
      if (request.op.f === 'read') reads.push(rid);
      else ops.push({ origin: state.config.id, rid, op: request.op });
    }
    if (ops.length > 0) reply.ops = ops;
    if (reads.length > 0) reply.reads = reads;
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
  const seq = m.seq ?? 0;
  if (seq > (state.ackSeq.get(from) ?? 0)) state.ackSeq.set(from, seq);
  const flight = state.inFlight.get(from);
  if (flight !== undefined && seq >= flight.seq) state.inFlight.delete(from);
  if (m.ops !== undefined) appendForwarded(state, from, m.ops);
  if (m.reads !== undefined && m.reads.length > 0 && state.readRounds.length < state.config.maxPending) {
    state.readRounds.push({ index: lastIndex(state), seq: state.sendSeq, peer: from, rids: m.reads });
  }
  if (m.ok) {
    state.matchIndex.set(from, Math.max(state.matchIndex.get(from) ?? 0, m.match));
    state.nextIndex.set(from, Math.max(state.nextIndex.get(from) ?? 0, m.match + 1));
  } else {
    state.nextIndex.set(from, Math.max(m.match, state.matchIndex.get(from) ?? 0) + 1);
    state.inFlight.delete(from);
    state.repair.add(from);
  }
}

function onSnapshot(state: RaftState, from: string, m: Msg<'raft_snapshot'>, nowMs: number, out: Output): void {
  if (!acceptLeader(state, from, m.term, nowMs, out)) {
    send(out, from, { type: 'raft_append_reply', term: state.term, ok: false, match: 0 });
    return;
  }
  state.leaderSeq = Math.max(state.leaderSeq, m.seq ?? 0);
  const snapshot = m.snapshot;
  if (snapshot.index <= state.commitIndex) {
    // Our committed prefix equals the leader's up to here.
    state.verifiedMatch = Math.max(state.verifiedMatch, Math.min(state.commitIndex, lastIndex(state)));
    sendToLeader(state, from, true, state.verifiedMatch, out);
    return;
  }
  // Keep a suffix that agrees with the snapshot's last entry; otherwise the log is replaced.
  state.entries = termAt(state, snapshot.index) === snapshot.term ? state.entries.slice(snapshot.index - state.snapshot.index) : [];
  state.snapshot = snapshot;
  state.kv = restoreKv(snapshot.data);
  state.commitIndex = snapshot.index;
  state.lastApplied = snapshot.index;
  state.persistedIndex = lastIndex(state);
  state.verifiedMatch = Math.max(state.verifiedMatch, snapshot.index);
  out.persist.push({ kind: 'snapshot', snapshot, entries: state.entries.slice() });
  sendToLeader(state, from, true, snapshot.index, out);
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
