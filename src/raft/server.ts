// Wires the Raft core to the node runtime: lin-kv client handlers, peer messages, the tick timer
// and storage. Every core step's output is applied in one order: persist (synchronously, fsynced),
// then send, then answer clients, so nothing leaves the node before the state it depends on is
// durable.

import { randomBytes } from 'node:crypto';
import type { Message, Node, OutBody } from '../lib/index.js';
import type { KvOp } from './kv.js';
import {
  createRaft,
  describe,
  peerMessageTypes,
  receive,
  submit,
  tick,
  type Output,
  type PeerMessage,
  type RaftConfig,
  type RaftState,
} from './raft.js';
import { bundle, createRelay, defaultRelayTimings, probes, receiveWire, route, unbundle, type RelayState, type WireBody } from './relay.js';
import type { RaftStorage } from './storage.js';

export interface RaftTimings {
  heartbeatMs: number;
  electionMinMs: number;
  electionMaxMs: number;
  checkQuorumMs: number;
  requestTimeoutMs: number;
  /** how often the core is given the time; bounds timer lateness */
  tickMs: number;
  compactEvery: number;
  /** relay layer: a peer not heard from directly for this long is reported as not heard */
  heardWindowMs: number;
}

export interface RaftServer {
  state(): RaftState | undefined;
}

export function installRaft(
  node: Node,
  timings: RaftTimings,
  openStorage: (nodeId: string) => RaftStorage,
  limits: Pick<RaftConfig, 'maxPending' | 'maxUncommitted' | 'maxEntriesPerAppend' | 'maxOpsPerAck'>,
  random: () => number = Math.random,
): RaftServer {
  let state: RaftState | undefined;
  let storage: RaftStorage | undefined;
  let relay: RelayState | undefined;
  /** rid -> the client request it answers; entries leave when answered (the core bounds how many) */
  const clients = new Map<string, Message>();
  // Request ids must not repeat across restarts: entries of an earlier life may still be applied.
  const bootTag = randomBytes(4).toString('hex');
  let ridCounter = 0;
  const now = (): number => performance.now();
  let lastRole = '';
  let lastTerm = -1;

  // Peer messages of one synchronous stretch (a chunk of input, a tick) leave together, one per peer.
  let outbox: Array<{ to: string; body: WireBody }> = [];
  const flushOutbox = (): void => {
    const messages = outbox;
    outbox = [];
    for (const { to, body } of bundle(messages)) node.send(to, body as OutBody);
  };
  const sendPeer = (to: string, body: WireBody): void => {
    if (outbox.length === 0) queueMicrotask(flushOutbox);
    outbox.push({ to, body });
  };

  const run = (out: Output): void => {
    if (storage !== undefined && out.persist.length > 0) storage.write(out.persist);
    for (const { to, body } of out.messages) {
      const routed = relay === undefined ? { to, body: body as unknown as WireBody } : route(relay, to, body as unknown as WireBody, now());
      sendPeer(routed.to, routed.body);
    }
    for (const { rid, result } of out.answers) {
      const request = clients.get(rid);
      if (request === undefined) continue;
      clients.delete(rid);
      node.reply(request, result);
    }
    if (state !== undefined && (state.role !== lastRole || state.term !== lastTerm)) {
      lastRole = state.role;
      lastTerm = state.term;
      // Wall-clock time so failover can be measured against the history.
      node.log(`raft: ${state.role} term=${state.term} at=${Date.now()} ${JSON.stringify(describe(state))}`);
    }
  };

  node.onInit(() => {
    storage = openStorage(node.id);
    const durable = storage.load();
    state = createRaft(
      {
        id: node.id,
        nodeIds: node.nodeIds,
        heartbeatMs: timings.heartbeatMs,
        electionMinMs: timings.electionMinMs,
        electionMaxMs: timings.electionMaxMs,
        checkQuorumMs: timings.checkQuorumMs,
        requestTimeoutMs: timings.requestTimeoutMs,
        compactEvery: timings.compactEvery,
        ...limits,
        random,
      },
      durable,
      now(),
    );
    node.log(`raft: loaded term=${durable.term} vote=${durable.votedFor} snapshot=${durable.snapshot.index} entries=${durable.entries.length}`);
    relay = createRelay({
      id: node.id,
      peers: node.nodeIds.filter((id) => id !== node.id),
      ...defaultRelayTimings,
      heardWindowMs: timings.heardWindowMs,
    });
    node.every(timings.tickMs, () => {
      if (state === undefined || relay === undefined) return;
      run(tick(state, now()));
      for (const probe of probes(relay, now())) sendPeer(probe.to, probe.body);
    });
  });

  const clientOp = (message: Message, op: KvOp): void => {
    if (state === undefined) return;
    ridCounter += 1;
    const rid = `${node.id}.${bootTag}.${ridCounter}`;
    clients.set(rid, message);
    run(submit(state, rid, op, now()));
  };

  node.handle('read', { key: 'any' }, (message) => {
    clientOp(message, { f: 'read', key: message.body.key });
  });
  node.handle('write', { key: 'any', value: 'any' }, (message) => {
    clientOp(message, { f: 'write', key: message.body.key, value: message.body.value });
  });
  node.handle('cas', { key: 'any', from: 'any', to: 'any' }, (message) => {
    clientOp(message, { f: 'cas', key: message.body.key, from: message.body.from, to: message.body.to });
  });

  const peerMessage = (message: Message): void => {
    // Only servers speak Raft; anything else is ignored rather than answered.
    if (state === undefined || relay === undefined || !node.nodeIds.includes(message.src)) return;
    for (const part of unbundle(message.body as WireBody)) {
      const received = receiveWire(relay, message.src, part, now());
      if (received.kind === 'forward') sendPeer(received.to, received.body);
      if (received.kind === 'deliver') run(receive(state, received.from, received.body as unknown as PeerMessage, now()));
    }
  };
  for (const type of [...peerMessageTypes, 'raft_relay', 'raft_probe', 'raft_bundle']) node.handle(type, peerMessage);

  return { state: () => state };
}
