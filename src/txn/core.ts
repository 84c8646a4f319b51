// The txn node's pure core: the store plus replication to every peer. Each entry point is one
// event (a client transaction, a peer message, a timer tick) applied to the state at a given
// time; the node (server.ts) only moves messages in and out.
//
// Why this is read-committed and free of G0/G1c (the full argument is in the README section
// of bin/txn): writes are installed only at commit, only final register writes, and a remote
// batch is applied in one step, so no read sees uncommitted (G1a: nothing ever aborts),
// intermediate (G1b) or partial state. Every ww or wr dependency T1 -> T2 means T2 read a
// version T1 wrote (or, for lists, T1's append sorts before T2's), and T2's stamp exceeds
// every stamp it could read, so dependencies follow the total stamp order and cannot close
// a cycle (G0, G1c).

import type { Json } from '../lib/index.js';
import {
  createReplication,
  enqueueWrites,
  flush,
  receive,
  type Outgoing,
  type ReplicationConfig,
  type ReplicationState,
} from './replication.js';
import { applyWrites, createStore, executeTxn, type Store, type TxnResult } from './store.js';

export interface TxnCore {
  readonly store: Store;
  readonly replication: ReplicationState;
}

/** A core for node `self`; its stamps use its index in `nodeIds` (the same list on every node). */
export function createTxnCore(self: string, nodeIds: readonly string[], config: ReplicationConfig): TxnCore {
  const nodeIndex = nodeIds.indexOf(self);
  if (nodeIndex === -1) throw new RangeError(`node ${self} is not in node_ids`);
  const peers = nodeIds.filter((id) => id !== self);
  return { store: createStore(nodeIndex), replication: createReplication(config, peers) };
}

/** A client's transaction: runs locally at once and queues its writes for every peer. */
export function clientTxn(core: TxnCore, txn: readonly Json[]): TxnResult {
  const result = executeTxn(core.store, txn);
  if (result.ok) enqueueWrites(core.replication, result.writes);
  return result;
}

/** A replication message from a peer: its batches become visible here in one step. */
export function peerMessage(core: TxnCore, from: string, body: { batches?: unknown; ack?: unknown }, nowMs: number): void {
  applyWrites(core.store, receive(core.replication, from, body, nowMs));
}

/** The flush timer: what to send to peers now. */
export function tick(core: TxnCore, nowMs: number): Outgoing[] {
  return flush(core.replication, nowMs);
}
