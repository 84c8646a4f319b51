// Wires the gossip core to the node runtime: client handlers, peer messages and the flush timer.

import { ErrorCode, RPCError, type Node } from '../lib/index.js';
import type { BroadcastOptions } from './args.js';
import {
  addClientValue,
  createGossip,
  readValues,
  receive,
  setFlushInterval,
  setOverlay,
  tick,
  type GossipState,
  type Outgoing,
} from './gossip.js';
import { buildOverlay, overlayFromTopology, topologyProblem, type Overlay } from './overlay.js';

/** How often an immediate-mode node looks for due resends and delayed acks. */
const maintenancePeriodMs = 100;

/** Flush interval for this node's role: a single neighbour makes it a leaf. */
export function flushIntervalFor(options: BroadcastOptions, overlay: Overlay): number {
  return overlay.neighbours.length === 1 ? options.leafIntervalMs : options.intervalMs;
}

export function timerPeriodFor(flushIntervalMs: number, retryMs: number): number {
  return flushIntervalMs > 0 ? flushIntervalMs : Math.max(10, Math.min(maintenancePeriodMs, retryMs / 4));
}

export function installBroadcast(node: Node, options: BroadcastOptions): { state(): GossipState | undefined } {
  let state: GossipState | undefined;
  let cancelTimer: (() => void) | undefined;

  const sendAll = (messages: Outgoing[]): void => {
    for (const { dest, body } of messages) node.send(dest, body);
  };
  const now = (): number => performance.now();

  const applyOverlay = (gossip: GossipState, overlay: Overlay): void => {
    setOverlay(gossip, overlay);
    setFlushInterval(gossip, flushIntervalFor(options, overlay));
    cancelTimer?.();
    cancelTimer = node.every(timerPeriodFor(gossip.config.flushIntervalMs, options.retryMs), () => {
      sendAll(tick(gossip, now()));
    });
  };

  node.onInit(() => {
    state = createGossip({
      flushIntervalMs: options.intervalMs,
      retryMs: options.retryMs,
      maxBatchValues: options.maxBatchValues,
      ackDelayMs: options.ackDelayMs,
    });
    const overlay = buildOverlay(options.overlay, node.id, node.nodeIds) ?? { neighbours: [], relay: true };
    applyOverlay(state, overlay);
  });

  node.handle('topology', { topology: 'object' }, (msg) => {
    if (state !== undefined && options.overlay.kind === 'maelstrom') {
      const problem = topologyProblem(msg.body.topology, node.id, node.nodeIds);
      if (problem !== undefined) {
        // Refused loudly and the overlay kept: accepting it would leave this node never gossiping.
        node.log(`refusing topology from ${msg.src}: ${problem}`);
        throw new RPCError(ErrorCode.MalformedRequest, problem);
      }
      applyOverlay(state, overlayFromTopology(msg.body.topology, node.id));
    }
    return { type: 'topology_ok' };
  });

  node.handle('broadcast', { message: 'integer' }, (msg) => {
    if (state !== undefined) sendAll(addClientValue(state, msg.body.message, now()));
    return { type: 'broadcast_ok' };
  });

  node.handle('read', {}, () => ({ type: 'read_ok', messages: state === undefined ? [] : readValues(state) }));

  node.handle('gossip', {}, (msg) => {
    // Only servers gossip. Answering anything else could address a closed client, and one
    // line to an unknown destination makes Maelstrom stop reading this node.
    if (state === undefined || !node.nodeIds.includes(msg.src)) return;
    const { values, ack, resend } = msg.body;
    sendAll(receive(state, msg.src, { values, ack, resend }, now()));
  });

  return { state: () => state };
}
