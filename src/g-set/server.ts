// Wires the g-set core to the node runtime: client adds and reads, peers' messages, and the rounds.

import { randomBytes } from 'node:crypto';
import { ErrorCode, RPCError, type Node } from '../lib/index.js';
import { addElement, answerBack, createGset, defaultGsetConfig, nextProbeDelayMs, nextRoundDelayMs, parseMessage, probe, readElements, receive, tick, type GsetConfig, type GsetState } from './core.js';

export interface GsetHandle {
  state(): GsetState | undefined;
}

export function installGset(node: Node, config: GsetConfig = defaultGsetConfig): GsetHandle {
  let state: GsetState | undefined;
  // Rounds follow the wall clock (Date.now, which a simulation replaces with its own), so that
  // every node's round starts at the same moment; the runtime's timers time the wait.
  const round = (): void => {
    if (state === undefined) return;
    for (const { dest, body } of tick(state, Date.now())) node.send(dest, { ...body });
    node.after(nextRoundDelayMs(state, Date.now()), round);
  };

  // A leaf's probe slots follow the wall clock too: the odd multiples of probeMs, half a round after
  // its rounds, between the hub's (whose round messages are its probes; it has no probe slots).
  const probeSlot = (): void => {
    if (state === undefined) return;
    for (const { dest, body } of probe(state, Date.now())) node.send(dest, { ...body });
    node.after(nextProbeDelayMs(state, Date.now()), probeSlot);
  };

  node.onInit(() => {
    state = createGset(config, node.id, node.nodeIds, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
    node.after(nextRoundDelayMs(state, Date.now()), round);
    if (state.self !== state.hub) node.after(nextProbeDelayMs(state, Date.now()), probeSlot);
  });

  node.handle('add', { element: 'integer' }, (message) => {
    if (state === undefined) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'not initialised');
    if (addElement(state, message.body.element, Date.now()) === 'full') {
      throw new RPCError(ErrorCode.TemporarilyUnavailable, `this node already took ${config.maxElements} elements`);
    }
    return { type: 'add_ok' };
  });

  node.handle('read', {}, () => ({ type: 'read_ok', value: state === undefined ? [] : readElements(state) }));

  node.handle('gset', (message) => {
    if (state === undefined) return undefined;
    if (message.src === node.id || !node.nodeIds.includes(message.src)) {
      throw new RPCError(ErrorCode.MalformedRequest, 'gset messages come from peers only');
    }
    const parsed = parseMessage(message.body, node.nodeIds, config);
    // A peer's bad message gets no reply (peers never wait for one); it is logged and dropped.
    if (typeof parsed === 'string') {
      node.log(`dropping gset from ${message.src}: ${parsed}`);
      return undefined;
    }
    // A peer back from a partition is answered now, not at the next round.
    if (receive(state, message.src, parsed, Date.now())) {
      for (const { dest, body } of answerBack(state, message.src, Date.now())) node.send(dest, { ...body });
    }
    return undefined;
  });

  return { state: () => state };
}
