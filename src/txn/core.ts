// The txn node's pure core: the store plus replication to every peer. Each entry point is one
// event (a client transaction, a peer message, a timer tick) applied to the state at a given
// time; the node (server.ts) only moves messages in and out.
//
// Why this is read-committed, with no G0 and no G1c:
// - G1a (aborted read): nothing aborts once it runs. The only failures are a malformed request
//   (error 12) and one past the node's limits (12 or 14, limits.ts), both refused before any
//   effect, so no failed transaction's write exists anywhere.
// - G1b (intermediate read): only a transaction's final write to a register is installed or
//   replicated; its earlier writes exist only inside the transaction. A transaction's appends
//   are all installed together and sort contiguously, so a list never ends inside one.
// - Partial visibility: a local transaction runs in one synchronous event; replication batches
//   hold whole transactions, are never split across messages and are applied in one event.
// - G0 / G1c (cycles of ww and wr edges): give every writing transaction T its stamp s(T).
//   s(T) = clock + 1 at commit, and the clock is never below any stamp in the store, so s(T)
//   exceeds the stamp of every version T read. A wr edge T1 -> T2 means T2 read T1's version,
//   so s(T1) < s(T2). A ww edge T1 -> T2 on key k means T2's version of k follows T1's: Elle's
//   rw-register inference (writes-follow-reads) only infers it when T2 read T1's version
//   (s(T1) < s(T2) again), and any sound inference from observations agrees with the stamp
//   order, because a node's value of k only ever moves to a higher stamp (LWW) and every node
//   uses the same order. For lists, reads show only stable prefixes of the stamp order, so
//   every read is a prefix of one order (no incompatible-order), Elle's version order is that
//   order, and an element nobody read sorts after every element anyone read, where Elle's
//   inference puts it too. A read-only transaction has no outgoing ww or wr edge, so it
//   cannot sit on such a cycle. Every edge of a ww/wr cycle would thus increase the stamp
//   strictly around a loop: impossible.
// - cyclic-versions (forbidden even by read-uncommitted): a version edge v -> v' of a key comes
//   from a transaction that read v and wrote v', so s(v) < s(v'); no version cycle exists.
// What this does not give (and read-committed does not ask): no snapshot across keys, so rw
// edges can close cycles (G-single, G2: serializability fails), and lost updates happen.

import type { Json } from '../lib/index.js';
import {
  createReplication,
  enqueueWrites,
  flush,
  receive,
  stableBelow,
  type Outgoing,
  type ReplicationConfig,
  type ReplicationState,
} from './replication.js';
import { applyWrites, createStore, executeTxn, TxnInvariantError, type Store, type TxnResult } from './store.js';

export interface TxnCore {
  readonly store: Store;
  readonly replication: ReplicationState;
}

/** A core for node `self`; its stamps use its index in `nodeIds` (the same list on every node). */
export function createTxnCore(self: string, nodeIds: readonly string[], config: ReplicationConfig): TxnCore {
  const nodeIndex = nodeIds.indexOf(self);
  if (nodeIndex === -1) throw new RangeError(`node ${self} is not in node_ids`);
  const peers = nodeIds.filter((id) => id !== self);
  const replication = createReplication(config, peers);
  return { store: createStore(nodeIndex, stableBelow(replication)), replication };
}

/** A client's transaction: runs locally at once and queues its writes for every peer. */
export function clientTxn(core: TxnCore, txn: readonly Json[]): TxnResult {
  const result = executeTxn(core.store, txn);
  if (result.ok) enqueueWrites(core.replication, result.writes);
  return result;
}

/** A replication message from a peer: its batches become visible here in one step. */
export function peerMessage(
  core: TxnCore,
  from: string,
  body: { batches?: unknown; ack?: unknown; low?: unknown; seen?: unknown },
  nowMs: number,
): void {
  applyWrites(core.store, receive(core.replication, from, body, nowMs));
  const bound = stableBelow(core.replication);
  // A lower bound would hide items that reads have already shown.
  if (bound < core.store.stableBelow) throw new TxnInvariantError(`stable bound went down from ${core.store.stableBelow} to ${bound}`);
  core.store.stableBelow = bound;
}

/** The flush timer: what to send to peers now. */
export function tick(core: TxnCore, nowMs: number): Outgoing[] {
  return flush(core.replication, nowMs, core.store.clock);
}
