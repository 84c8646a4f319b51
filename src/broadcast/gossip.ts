// Deterministic gossip core for the broadcast node. No I/O and no clocks: every entry point
// takes the current time and returns the messages to send, so the whole protocol is
// unit-testable without processes.
//
// Protocol, per neighbour N:
// - pending(N): values N is not known to have. A value enters when we learn it (unless we
//   learned it from N) and leaves when N acknowledges it or sends it to us.
// - Values go out in batches: at most maxBatchValues per message, fresh ones first.
// - A sent value is resent once retryMs has passed without an ack, and N is sent resends at
//   most once per retryMs. A neighbour that ignored a resend for retryMs/2 is suspected
//   (partitioned, most likely): it stops getting fresh batches until its next resend slot.
//   When it answers again, everything sent to it while it was quiet is treated as lost and goes
//   out at the next flush, and the per-neighbour resend limit is lifted, so recovery after a
//   heal takes one retry interval, not two.
// - Acks are not sent per message. What N sent us is acknowledged in the next message we send
//   N anyway; a standalone ack goes only when N marks a message as a resend (it is waiting)
//   or after ackDelayMs.
// Memory: known, every pending(N) and every ack set hold values only (no per-message timers
// or callbacks), so each is bounded by the number of distinct values ever broadcast, however
// long a partition lasts.

import { decodeRanges, encodeRanges, type RangeList } from './ranges.js';
import type { Overlay } from './overlay.js';

export interface GossipConfig {
  /** How often batches are flushed; 0 sends as soon as a value is learned. */
  flushIntervalMs: number;
  /** Minimum time before an unacknowledged value is sent again, and between resends to one neighbour. */
  retryMs: number;
  /** Upper bound on values carried by one message. */
  maxBatchValues: number;
  /** Longest an ack waits for a message to ride on before it is sent alone; Infinity = only on request. */
  ackDelayMs: number;
}

export type GossipBody = {
  type: 'gossip';
  /** Values for the receiver. */
  values?: RangeList;
  /** Values the receiver sent us that we now hold. */
  ack?: RangeList;
  /** Set when the message repeats values already sent: the receiver should ack promptly. */
  resend?: true;
};

/** What receive() reads from a peer's body; contents are checked there, not trusted. */
export interface IncomingGossip {
  values?: unknown;
  ack?: unknown;
  resend?: unknown;
}

export interface Outgoing {
  dest: string;
  body: GossipBody;
}

/** Marks a pending value that has never been sent. */
const neverSent = -1;
/** Bound on how many integers one incoming range list may expand to. */
const maxDecodedValues = 1 << 20;

interface PeerState {
  /** value -> time it was last sent to this peer, or neverSent. */
  pending: Map<number, number>;
  /** Values this peer sent us that we have not acknowledged yet. */
  ackOwed: Set<number>;
  ackOwedSinceMs: number;
  ackUrgent: boolean;
  lastHeardMs: number;
  lastResendMs: number;
}

export interface GossipState {
  /** Replaced only by setFlushInterval (a node may learn its role from the topology message). */
  config: Readonly<GossipConfig>;
  readonly known: Set<number>;
  neighbours: string[];
  relay: boolean;
  readonly peers: Map<string, PeerState>;
}

export function validateConfig(config: GossipConfig): string | undefined {
  if (!(config.flushIntervalMs >= 0 && Number.isFinite(config.flushIntervalMs))) return 'flush interval must be a finite number >= 0';
  if (!(config.retryMs > 0 && Number.isFinite(config.retryMs))) return 'retry interval must be a finite number > 0';
  if (!(Number.isInteger(config.maxBatchValues) && config.maxBatchValues >= 1)) return 'batch size must be an integer >= 1';
  if (!(config.ackDelayMs >= 0)) return 'ack delay must be >= 0 (or Infinity)';
  return undefined;
}

export function createGossip(config: GossipConfig, overlay?: Overlay): GossipState {
  const problem = validateConfig(config);
  if (problem !== undefined) throw new RangeError(problem);
  const state: GossipState = { config, known: new Set(), neighbours: [], relay: true, peers: new Map() };
  if (overlay !== undefined) setOverlay(state, overlay);
  return state;
}

function peerOf(state: GossipState, id: string): PeerState {
  let peer = state.peers.get(id);
  if (peer === undefined) {
    peer = {
      pending: new Map(),
      ackOwed: new Set(),
      ackOwedSinceMs: 0,
      ackUrgent: false,
      lastHeardMs: Number.NEGATIVE_INFINITY,
      lastResendMs: Number.NEGATIVE_INFINITY,
    };
    state.peers.set(id, peer);
  }
  return peer;
}

/** Replaces the neighbour set. New neighbours are owed everything we know. */
export function setOverlay(state: GossipState, overlay: Overlay): void {
  const previous = new Set(state.neighbours);
  state.neighbours = [...new Set(overlay.neighbours)];
  state.relay = overlay.relay;
  const current = new Set(state.neighbours);
  for (const id of previous) {
    if (!current.has(id)) state.peers.get(id)?.pending.clear();
  }
  for (const id of state.neighbours) {
    if (previous.has(id)) continue;
    const peer = peerOf(state, id);
    for (const value of state.known) if (!peer.pending.has(value)) peer.pending.set(value, neverSent);
  }
}

export function setFlushInterval(state: GossipState, flushIntervalMs: number): void {
  const config = { ...state.config, flushIntervalMs };
  const problem = validateConfig(config);
  if (problem !== undefined) throw new RangeError(problem);
  state.config = config;
}

/** All values this node holds, as the integers clients broadcast. */
export function readValues(state: GossipState): number[] {
  return [...state.known];
}

function learn(state: GossipState, value: number, from: string | undefined): void {
  if (state.known.has(value)) return;
  state.known.add(value);
  // Relaying is off in a complete graph: the origin reaches everyone itself.
  if (from !== undefined && !state.relay) return;
  for (const id of state.neighbours) {
    if (id !== from) peerOf(state, id).pending.set(value, neverSent);
  }
}

/** A client broadcast. Returns what to send now (only when flushing immediately). */
export function addClientValue(state: GossipState, value: number, nowMs: number): Outgoing[] {
  learn(state, value, undefined);
  return state.config.flushIntervalMs === 0 ? flush(state, nowMs) : [];
}

/** A gossip message from a peer. Malformed parts are ignored. */
export function receive(state: GossipState, from: string, body: IncomingGossip, nowMs: number): Outgoing[] {
  const peer = peerOf(state, from);
  // We resent to this peer and it had gone quiet: it was cut off, so whatever we sent it since
  // it went quiet is lost too. Those values go out again on the next flush rather than waiting
  // for their own retry slot, which bounds recovery after a heal by one retry interval.
  const wasQuiet = peer.lastResendMs > peer.lastHeardMs;
  const quietSinceMs = peer.lastHeardMs;
  peer.lastHeardMs = nowMs;
  const acked = body.ack === undefined ? [] : decodeRanges(body.ack, maxDecodedValues) ?? [];
  for (const value of acked) peer.pending.delete(value);
  if (wasQuiet) {
    for (const [value, sentMs] of peer.pending) if (sentMs > quietSinceMs) peer.pending.set(value, neverSent);
    // It is reachable again: the once-per-retry limit on resends, meant for a cut-off peer, no
    // longer applies, so values still unacknowledged go again as soon as they are due.
    peer.lastResendMs = Number.NEGATIVE_INFINITY;
  }
  const values = body.values === undefined ? [] : decodeRanges(body.values, maxDecodedValues) ?? [];
  if (values.length > 0) {
    if (peer.ackOwed.size === 0) peer.ackOwedSinceMs = nowMs;
    for (const value of values) {
      // The sender holds these, so it needs no copy back.
      peer.pending.delete(value);
      peer.ackOwed.add(value);
      learn(state, value, from);
    }
    if (body.resend === true) peer.ackUrgent = true;
  }
  if (state.config.flushIntervalMs === 0) return flush(state, nowMs);
  // The sender is waiting on this ack; answer it without flushing everyone else's batches early.
  return peer.ackUrgent ? flush(state, nowMs, from) : [];
}

/** Periodic flush: batches, due resends and delayed acks. */
export function tick(state: GossipState, nowMs: number): Outgoing[] {
  return flush(state, nowMs);
}

function flush(state: GossipState, nowMs: number, onlyPeer?: string): Outgoing[] {
  const { retryMs, maxBatchValues, ackDelayMs } = state.config;
  const out: Outgoing[] = [];
  for (const [id, peer] of state.peers) {
    if (onlyPeer !== undefined && id !== onlyPeer) continue;
    const resendAllowed = nowMs - peer.lastResendMs >= retryMs;
    // A neighbour that has not answered a resend is probably cut off: keep its fresh values
    // for the next resend slot instead of sending it a batch every flush.
    const suspected = peer.lastResendMs > peer.lastHeardMs && nowMs - peer.lastResendMs >= retryMs / 2 && !resendAllowed;
    const fresh: number[] = [];
    const due: number[] = [];
    if (!suspected) {
      for (const [value, sentMs] of peer.pending) {
        if (sentMs === neverSent) {
          if (fresh.length < maxBatchValues) fresh.push(value);
        } else if (resendAllowed && nowMs - sentMs >= retryMs && due.length < maxBatchValues) {
          due.push(value);
        }
      }
    }
    const batch = fresh.concat(due.slice(0, Math.max(0, maxBatchValues - fresh.length)));
    const isResend = batch.length > fresh.length;
    const ackReady =
      peer.ackOwed.size > 0 && (peer.ackUrgent || nowMs - peer.ackOwedSinceMs >= ackDelayMs);
    if (batch.length === 0 && !ackReady) continue;
    const body: GossipBody = { type: 'gossip' };
    if (batch.length > 0) body.values = encodeRanges(batch);
    if (peer.ackOwed.size > 0) {
      body.ack = encodeRanges(peer.ackOwed);
      peer.ackOwed.clear();
    }
    peer.ackUrgent = false;
    if (isResend) {
      body.resend = true;
      peer.lastResendMs = nowMs;
    }
    for (const value of batch) peer.pending.set(value, nowMs);
    out.push({ dest: id, body });
  }
  return out;
}

/** Counts for tests and logs. */
export function pendingCount(state: GossipState, peer: string): number {
  return state.peers.get(peer)?.pending.size ?? 0;
}
