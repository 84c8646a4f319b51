// Wires the txn core to the node runtime: the client's txn handler, peer replication messages
// and the flush timer.

import { ErrorCode, RPCError, type Node } from '../lib/index.js';
import type { TxnOptions } from './args.js';
import { clientTxn, createTxnCore, peerMessage, tick, type TxnCore } from './core.js';
import { checkTxnLimits } from './limits.js';
import type { Outgoing } from './replication.js';

export function installTxn(node: Node, options: TxnOptions): { core(): TxnCore | undefined } {
  let core: TxnCore | undefined;
  const now = (): number => performance.now();
  const sendAll = (messages: Outgoing[]): void => {
    for (const { dest, body } of messages) node.send(dest, body);
  };

  node.onInit(() => {
    const created = createTxnCore(node.id, node.nodeIds, options);
    core = created;
    if (created.replication.peers.size > 0) node.every(options.flushIntervalMs, () => sendAll(tick(created, now())));
  });

  node.handle('txn', { txn: 'array' }, (message) => {
    // The runtime answers requests before init with error 11, so core is set here.
    if (core === undefined) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'not initialised');
    const violation = checkTxnLimits(core.store, message.body.txn, options);
    if (violation !== undefined) throw new RPCError(violation.code, violation.text);
    const result = clientTxn(core, message.body.txn);
    if (!result.ok) throw new RPCError(ErrorCode.MalformedRequest, result.error);
    // Closed response schema: type and txn only (the runtime adds msg_id and in_reply_to).
    return { type: 'txn_ok', txn: result.txn };
  });

  node.handle('txn_replicate', (message) => {
    // Only peers replicate. Answering anything else could address a closed client, and one
    // line to an unknown destination makes Maelstrom stop reading this node.
    if (core === undefined || !node.nodeIds.includes(message.src)) return;
    const { batches, ack, low, seen } = message.body;
    peerMessage(core, message.src, { batches, ack, low, seen }, now());
  });

  return { core: () => core };
}
