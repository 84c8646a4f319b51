// Replication of committed writes between txn nodes: pure state, no I/O, no clocks (every entry
// point takes the time and returns the messages to send).
//
// Every node sends its own committed writes straight to every peer (no relaying). Per peer:
// - open: writes committed since the last flush, coalesced (a register keeps only its newest
//   write; appends are all kept). It holds whole transactions only.
// - inflight: batches sent (or due to be sent) and not yet acknowledged, each a union of whole
//   transactions and applied by the receiver in one step, so a transaction's writes become
//   visible at a peer together. Order between batches does not matter: registers are
//   last-writer-wins by stamp and appends are merged by stamp, so replays and reordering are
//   harmless.
// - At each flush (one message per peer per flush interval at most) the open writes become a
//   new batch, and the message carries every batch that is new or unacknowledged for retryMs,
//   up to maxMessageWrites writes (always at least one batch), plus the acks we owe that peer.
// - Acks wait for the next flush to the sender and ride on whatever goes then (alone only if
//   nothing else does); no message is sent the moment something arrives.
// - A peer not heard from for retryMs (partitioned, most likely) gets at most one message per
//   retryMs until it answers.
// - Watermarks, for stable list reads: each message carries `low`, a counter such that every
//   write the sender made with a smaller counter has been applied by the receiver (it is the
//   smallest counter still unacknowledged to that receiver, or the sender's clock + 1, below
//   which it can never write again), and `seen`, the last `low` it holds from the receiver. A
//   node's stable bound is the least `low` over its peers: it holds every write below it. A
//   raised `low` is sent at the next flush even with nothing else to say, and again every
//   retryMs until the peer echoes it in `seen`; a message that raises the receiver's copy is
//   echoed once. So watermarks settle after a few messages once writes stop.
// Bounds: at most maxInflightBatches batches per peer (beyond that the two oldest are merged
// into one, which keeps each transaction whole); a batch holds at most one write per register
// key plus the appends it carries, so memory per peer is bounded by the keys written (and
// appended elements), however long a partition lasts. Owed acks are capped at maxOwedAcks
// (a dropped ack costs one resend, never data).

import type { Json } from '../lib/index.js';
import { compareStamps, keyId, type Key, type Write } from './store.js';

export interface ReplicationConfig {
  /** How often batches are flushed to peers. */
  flushIntervalMs: number;
  /** An unacknowledged batch is sent again after this long; also the quiet-peer send period. */
  retryMs: number;
  /** Unacknowledged batches kept per peer before the oldest are merged. */
  maxInflightBatches: number;
  /** Writes carried by one message (a larger single batch still goes, alone). */
  maxMessageWrites: number;
}

export const defaultReplicationConfig: ReplicationConfig = {
  flushIntervalMs: 200,
  retryMs: 1000,
  maxInflightBatches: 16,
  maxMessageWrites: 10_000,
};

/** Wire form of a write: [f, key, value, counter, node] for registers, plus sub for appends. */
export type WireWrite = [string, Key, Json, number, number] | [string, Key, Json, number, number, number];

export type ReplicateBody = {
  type: 'txn_replicate';
  /** [seq, writes] pairs; each batch is applied in one step. */
  batches?: Array<[number, WireWrite[]]>;
  /** Sequence numbers of the receiver's batches that we have applied. */
  ack?: number[];
  /** Every write of ours with a smaller counter has been applied by the receiver. */
  low?: number;
  /** The last `low` we hold from the receiver. */
  seen?: number;
};

export interface Outgoing {
  dest: string;
  body: ReplicateBody;
}

/** Cap on acks owed to one peer between two flushes. */
export const maxOwedAcks = 4096;
const neverSentMs = Number.NEGATIVE_INFINITY;

interface Batch {
  seq: number;
  writes: Map<string, Write>;
  /** Smallest counter among the writes. */
  minCounter: number;
  lastSentMs: number;
}

interface PeerLink {
  open: Map<string, Write>;
  /** Oldest first. */
  inflight: Batch[];
  nextSeq: number;
  owedAcks: Set<number>;
  lastHeardMs: number;
  lastSentMs: number;
  /** The peer's watermark: all its writes below it are applied here. */
  theirLow: number;
  /** The peer raised theirLow and waits for it in `seen`. */
  echoOwed: boolean;
  /** Our watermark as the peer last echoed it. */
  lowConfirmed: number;
  lastLowSent: number;
}

export interface ReplicationState {
  readonly config: Readonly<ReplicationConfig>;
  readonly peers: Map<string, PeerLink>;
}

export function validateReplicationConfig(config: ReplicationConfig): string | undefined {
  if (!(config.flushIntervalMs > 0 && Number.isFinite(config.flushIntervalMs))) return 'flush interval must be a finite number > 0';
  if (!(config.retryMs > 0 && Number.isFinite(config.retryMs))) return 'retry interval must be a finite number > 0';
  if (!(Number.isInteger(config.maxInflightBatches) && config.maxInflightBatches >= 1)) return 'max inflight batches must be an integer >= 1';
  if (!(Number.isInteger(config.maxMessageWrites) && config.maxMessageWrites >= 1)) return 'max message writes must be an integer >= 1';
  return undefined;
}

export function createReplication(config: ReplicationConfig, peers: readonly string[]): ReplicationState {
  const problem = validateReplicationConfig(config);
  if (problem !== undefined) throw new RangeError(problem);
  const links = new Map<string, PeerLink>();
  for (const peer of peers) {
    links.set(peer, {
      open: new Map(),
      inflight: [],
      nextSeq: 1,
      owedAcks: new Set(),
      lastHeardMs: Number.NEGATIVE_INFINITY,
      lastSentMs: Number.NEGATIVE_INFINITY,
      theirLow: 0,
      echoOwed: false,
      lowConfirmed: 0,
      lastLowSent: 0,
    });
  }
  return { config, peers: links };
}

/** Identity of a write inside a batch: one slot per register key, one per append. */
function slotOf(write: Write): string {
  const id = keyId(write.key);
  return write.kind === 'w' ? `w${id}` : `a${id}:${write.stamp.counter}:${write.stamp.node}:${write.sub}`;
}

function addWrite(into: Map<string, Write>, write: Write): void {
  const slot = slotOf(write);
  const current = into.get(slot);
  if (current === undefined || compareStamps(write.stamp, current.stamp) > 0) into.set(slot, write);
}

/** Queues one committed local transaction's writes for every peer. */
export function enqueueWrites(state: ReplicationState, writes: readonly Write[]): void {
  if (writes.length === 0) return;
  for (const link of state.peers.values()) for (const write of writes) addWrite(link.open, write);
}

function mergeOldest(link: PeerLink): void {
  const [first, second] = link.inflight;
  if (first === undefined || second === undefined) return;
  const writes = new Map(first.writes);
  for (const write of second.writes.values()) addWrite(writes, write);
  // A fresh seq: an ack for either part no longer proves the union arrived.
  const merged: Batch = {
    seq: link.nextSeq++,
    writes,
    minCounter: Math.min(first.minCounter, second.minCounter),
    lastSentMs: Math.min(first.lastSentMs, second.lastSentMs),
  };
  link.inflight.splice(0, 2, merged);
}

function minCounterOf(writes: Map<string, Write>): number {
  let min = Number.POSITIVE_INFINITY;
  for (const write of writes.values()) if (write.stamp.counter < min) min = write.stamp.counter;
  return min;
}

/** The least watermark over all peers: every write with a smaller counter is applied here. */
export function stableBelow(state: ReplicationState): number {
  let min = Number.POSITIVE_INFINITY;
  for (const link of state.peers.values()) if (link.theirLow < min) min = link.theirLow;
  return min;
}

/**
 * Periodic flush: new batches, due resends, owed acks and watermarks, at most one message per
 * peer. `clock` is the store's Lamport clock: this node's next write has a larger counter.
 */
export function flush(state: ReplicationState, nowMs: number, clock: number): Outgoing[] {
  const { retryMs, maxInflightBatches, maxMessageWrites } = state.config;
  const out: Outgoing[] = [];
  for (const [peer, link] of state.peers) {
    if (link.open.size > 0) {
      link.inflight.push({ seq: link.nextSeq++, writes: link.open, minCounter: minCounterOf(link.open), lastSentMs: neverSentMs });
      link.open = new Map();
    }
    while (link.inflight.length > maxInflightBatches) mergeOldest(link);
    const low = link.inflight.reduce((min, batch) => Math.min(min, batch.minCounter), clock + 1);

    const quiet = nowMs - link.lastHeardMs >= retryMs && nowMs - link.lastSentMs < retryMs;
    if (quiet) continue;
    const chosen: Batch[] = [];
    let size = 0;
    for (const batch of link.inflight) {
      if (nowMs - batch.lastSentMs < retryMs) continue;
      if (chosen.length > 0 && size + batch.writes.size > maxMessageWrites) break;
      chosen.push(batch);
      size += batch.writes.size;
    }
    const lowNews = low > link.lowConfirmed && (low > link.lastLowSent || nowMs - link.lastSentMs >= retryMs);
    if (chosen.length === 0 && link.owedAcks.size === 0 && !link.echoOwed && !lowNews) continue;

    const body: ReplicateBody = { type: 'txn_replicate', low, seen: link.theirLow };
    link.lastLowSent = low;
    link.echoOwed = false;
    if (chosen.length > 0) body.batches = chosen.map((batch) => [batch.seq, [...batch.writes.values()].map(toWire)]);
    if (link.owedAcks.size > 0) body.ack = [...link.owedAcks];
    link.owedAcks.clear();
    for (const batch of chosen) batch.lastSentMs = nowMs;
    link.lastSentMs = nowMs;
    out.push({ dest: peer, body });
  }
  return out;
}

/**
 * A message from a peer: drops the batches it acknowledges and returns the writes of its
 * well-formed batches, to be applied in one step. A malformed batch is ignored and not
 * acknowledged; messages from unknown senders are ignored entirely.
 */
export function receive(
  state: ReplicationState,
  from: string,
  body: { batches?: unknown; ack?: unknown; low?: unknown; seen?: unknown },
  nowMs: number,
): Write[] {
  const link = state.peers.get(from);
  if (link === undefined) return [];
  link.lastHeardMs = nowMs;
  // Watermarks only grow; a late message carrying an older one changes nothing.
  if (isCount(body.low, 0) && body.low > link.theirLow) {
    link.theirLow = body.low;
    link.echoOwed = true;
  }
  if (isCount(body.seen, 0) && body.seen > link.lowConfirmed) link.lowConfirmed = body.seen;
  if (Array.isArray(body.ack)) {
    const acked = new Set(body.ack.filter((seq): seq is number => typeof seq === 'number'));
    link.inflight = link.inflight.filter((batch) => !acked.has(batch.seq));
  }
  const writes: Write[] = [];
  if (Array.isArray(body.batches)) {
    for (const raw of body.batches) {
      const batch = decodeBatch(raw);
      if (batch === undefined) continue;
      writes.push(...batch.writes);
      if (link.owedAcks.size < maxOwedAcks) link.owedAcks.add(batch.seq);
    }
  }
  return writes;
}

function toWire(write: Write): WireWrite {
  const { key, value, stamp } = write;
  return write.kind === 'w' ? ['w', key, value, stamp.counter, stamp.node] : ['append', key, value, stamp.counter, stamp.node, write.sub];
}

const isCount = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isInteger(value) && value >= min;

function fromWire(raw: unknown): Write | undefined {
  if (!Array.isArray(raw)) return undefined;
  const [f, key, value, counter, node, sub] = raw as unknown[];
  if (!((typeof key === 'number' && Number.isFinite(key)) || typeof key === 'string')) return undefined;
  if (value === undefined || !isCount(counter, 1) || !isCount(node, 0)) return undefined;
  const stamp = { counter, node };
  if (f === 'w' && raw.length === 5) return { kind: 'w', key, value: value as Json, stamp };
  if (f === 'append' && raw.length === 6 && isCount(sub, 0)) return { kind: 'append', key, value: value as Json, stamp, sub };
  return undefined;
}

function decodeBatch(raw: unknown): { seq: number; writes: Write[] } | undefined {
  if (!Array.isArray(raw) || raw.length !== 2) return undefined;
  const [seq, rawWrites] = raw as unknown[];
  if (!isCount(seq, 1) || !Array.isArray(rawWrites)) return undefined;
  const writes: Write[] = [];
  for (const rawWrite of rawWrites) {
    const write = fromWire(rawWrite);
    // All or nothing: applying part of a batch could expose part of a transaction.
    if (write === undefined) return undefined;
    writes.push(write);
  }
  return { seq, writes };
}

/** Counts for tests and logs. */
export function inflightCount(state: ReplicationState, peer: string): { batches: number; writes: number } {
  const link = state.peers.get(peer);
  if (link === undefined) return { batches: 0, writes: 0 };
  return { batches: link.inflight.length, writes: link.inflight.reduce((sum, batch) => sum + batch.writes.size, 0) };
}
