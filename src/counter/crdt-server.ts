// Wires the counter's memory mode (crdt.ts) to the node runtime: no seq-kv, no file; adds are
// acknowledged from memory and gossiped to peers as a state CRDT (docs/counters.md).

import { randomBytes } from 'node:crypto';
import { ErrorCode, RPCError, type Node } from '../lib/index.js';
import { addDelta, createCrdt, fitsEntry, parseCounts, readValue, receive, tick, type CrdtConfig, type CrdtState } from './crdt.js';

export interface CrdtHandle {
  state(): CrdtState | undefined;
}

export function installCrdtCounter(node: Node, config: CrdtConfig): CrdtHandle {
  let state: CrdtState | undefined;

  node.onInit(() => {
    state = createCrdt(config, node.id, node.nodeIds, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
    const current = state;
    node.every(config.roundMs, () => {
      for (const { dest, body } of tick(current, performance.now())) node.send(dest, { ...body });
    });
  });

  node.handle('add', { delta: 'integer' }, (message) => {
    if (state === undefined) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'not initialised');
    if (!fitsEntry(state, message.body.delta)) {
      throw new RPCError(ErrorCode.MalformedRequest, `add refused: this process's sums would leave 0..${state.entryBound} (reads must stay safe integers)`);
    }
    addDelta(state, message.body.delta);
    return { type: 'add_ok' };
  });

  node.handle('read', {}, () => ({ type: 'read_ok', value: state === undefined ? 0 : readValue(state) }));

  node.handle('pn', (message) => {
    if (state === undefined) return undefined;
    if (message.src === node.id || !node.nodeIds.includes(message.src)) {
      throw new RPCError(ErrorCode.MalformedRequest, 'pn messages come from peers only');
    }
    const parsed = parseCounts(message.body, node.nodeIds, state);
    // A peer's bad message gets no reply (peers never wait for one); it is logged and dropped.
    if (typeof parsed === 'string') {
      node.log(`dropping pn from ${message.src}: ${parsed}`);
      return undefined;
    }
    receive(state, message.src, parsed);
    return undefined;
  });

  return { state: () => state };
}
