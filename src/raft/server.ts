// Wires the Raft core to the node runtime: lin-kv client handlers, peer messages, the tick timer
// and storage. What the core's steps produce in one synchronous stretch (a chunk of input, a tick)
// is applied together, in one order: persist (one write and one fsync for the whole stretch: group
// commit), then send, then answer clients, so nothing leaves the node before the state it depends
// on is durable.
//
// If storage fails (a short write, ENOSPC, a failed fsync), nothing of that stretch leaves: its
// answers become error 13 (indefinite), every other open request too, and the core restarts
// in-process from what the disk holds, as after a kill. A broken Raft invariant is fatal (onFatal).

import { randomBytes } from 'node:crypto';
import type { Json, Message, Node, OutBody } from '../lib/index.js';
import type { KvOp } from './kv.js';
import {
  createRaft,
  describe,
  peerMessageTypes,
  RaftInvariantError,
  receive,
  submit,
  tick,
  type ClientAnswer,
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
  /**
   * relay layer: messages that must go through a relay (a one-way partition) wait this long to
   * travel together, since each costs two messages (0: at once)
   */
  relayBatchMs: number;
}

export interface RaftServer {
  state(): RaftState | undefined;
}

export interface RaftServerOptions {
  random?: () => number;
  /** A broken invariant (a bug): default rethrow; the binary logs and exits. */
  onFatal?: (error: Error) => void;
}

/**
 * Why a key or value cannot be stored faithfully, or undefined if it can. JSON numbers that do not
 * survive the trip into a double and back (1e400 becomes Infinity, written back as null; 2^53+1
 * becomes 2^53) would make distinct client keys one key, so they are refused at the edge.
 */
export function unrepresentable(value: Json, depth = 0): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'a number out of range (not finite)';
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) return `an integer beyond ±2^53-1 (${value}), which a double cannot hold exactly`;
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > 200) return 'nested too deeply';
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const problem = unrepresentable(item as Json, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

export function installRaft(
  node: Node,
  timings: RaftTimings,
  openStorage: (nodeId: string) => RaftStorage,
  limits: Pick<RaftConfig, 'maxPending' | 'maxUncommitted' | 'maxEntriesPerAppend' | 'maxOpsPerAck'>,
  options: RaftServerOptions = {},
): RaftServer {
  const random = options.random ?? Math.random;
  const onFatal =
    options.onFatal ??
    ((error: Error): void => {
      throw error;
    });
  let state: RaftState | undefined;
  let storage: RaftStorage | undefined;
  let relay: RelayState | undefined;
  let config: RaftConfig | undefined;
  let loadError: string | undefined;
  /** rid -> the client request it answers; entries leave when answered (the core bounds how many) */
  const clients = new Map<string, Message>();
  // Request ids must not repeat across restarts: entries of an earlier life may still be applied.
  const bootTag = randomBytes(4).toString('hex');
  let ridCounter = 0;
  const now = (): number => performance.now();
  let lastRole = '';
  let lastTerm = -1;

  // What the core produced in this synchronous stretch, applied together by flush().
  let batch: Output | undefined;
  let extra: Array<{ to: string; body: WireBody }> = [];
  // Messages going through a relay, held for relayBatchMs and sent as one bundle per relay.
  let relayed: Array<{ to: string; body: WireBody }> = [];
  const holdRelayed = (message: { to: string; body: WireBody }): void => {
    if (relayed.length === 0) {
      node.after(timings.relayBatchMs, () => {
        const held = relayed;
        relayed = [];
        for (const { to, body } of bundle(held)) node.send(to, body as OutBody);
      });
    }
    relayed.push(message);
  };
  const schedule = (): void => {
    if (batch === undefined) {
      batch = { persist: [], messages: [], answers: [] };
      queueMicrotask(flush);
    }
  };

  const answer = (answers: readonly ClientAnswer[]): void => {
    for (const { rid, result } of answers) {
      const request = clients.get(rid);
      if (request === undefined) continue;
      clients.delete(rid);
      node.reply(request, result);
    }
  };

  const failAllClients = (text: string): void => {
    for (const [rid, request] of clients) {
      clients.delete(rid);
      node.reply(request, { type: 'error', code: 13, text });
    }
  };

  /** After a failed write: the core's memory is ahead of the disk, so it starts again from the disk. */
  const restartFromDisk = (reason: string): void => {
    node.log(`raft: storage write failed, restarting the core from disk: ${reason}`);
    failAllClients(`not stored: ${reason}`);
    if (storage === undefined || config === undefined) return;
    try {
      state = createRaft(config, storage.load(), now());
    } catch (error) {
      state = undefined;
      loadError = error instanceof Error ? error.message : String(error);
      node.log(`raft: cannot reload storage: ${loadError}`);
    }
  };

  const flush = (): void => {
    const out = batch as Output;
    const forwards = extra;
    batch = undefined;
    extra = [];
    if (storage !== undefined && out.persist.length > 0) {
      try {
        storage.write(out.persist);
      } catch (error) {
        // Nothing that depends on the failed write may leave: not the messages, not the answers.
        restartFromDisk(error instanceof Error ? error.message : String(error));
        return;
      }
    }
    const outgoing: Array<{ to: string; body: WireBody }> = [...forwards];
    const nowMs = now();
    for (const { to, body } of out.messages) {
      if (relay === undefined) {
        outgoing.push({ to, body: body as unknown as WireBody });
        continue;
      }
      const routed = route(relay, to, body as unknown as WireBody, nowMs);
      if (routed.to !== to && timings.relayBatchMs > 0) holdRelayed(routed);
      else outgoing.push(routed);
    }
    for (const { to, body } of bundle(outgoing)) node.send(to, body as OutBody);
    answer(out.answers);
    if (state !== undefined && (state.role !== lastRole || state.term !== lastTerm)) {
      lastRole = state.role;
      lastTerm = state.term;
      // Wall-clock time so failover can be measured against the history.
      node.log(`raft: ${state.role} term=${state.term} at=${Date.now()} ${JSON.stringify(describe(state))}`);
    }
  };

  /** Runs one core step and queues its output for the flush. */
  const run = (stepFn: (raft: RaftState) => Output): void => {
    if (state === undefined) return;
    let out: Output;
    try {
      out = stepFn(state);
    } catch (error) {
      if (error instanceof RaftInvariantError) {
        node.log(`raft: FATAL ${error.message}`);
        state = undefined;
        onFatal(error);
        return;
      }
      throw error;
    }
    if (out.persist.length === 0 && out.messages.length === 0 && out.answers.length === 0) return;
    schedule();
    const target = batch as Output;
    target.persist.push(...out.persist);
    target.messages.push(...out.messages);
    target.answers.push(...out.answers);
  };

  const sendRaw = (to: string, body: WireBody): void => {
    schedule();
    extra.push({ to, body });
  };

  node.onInit(() => {
    storage = openStorage(node.id);
    let durable;
    try {
      durable = storage.load();
    } catch (error) {
      loadError = error instanceof Error ? error.message : String(error);
      node.log(`raft: refusing to start: ${loadError}`);
      throw error;
    }
    config = {
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
    };
    state = createRaft(config, durable, now());
    node.log(`raft: loaded term=${durable.term} vote=${durable.votedFor} snapshot=${durable.snapshot.index} entries=${durable.entries.length}`);
    relay = createRelay({
      id: node.id,
      peers: node.nodeIds.filter((id) => id !== node.id),
      ...defaultRelayTimings,
      heardWindowMs: timings.heardWindowMs,
    });
    node.every(timings.tickMs, () => {
      if (state === undefined || relay === undefined) return;
      const nowMs = now();
      run((raft) => tick(raft, nowMs));
      for (const probe of probes(relay, nowMs)) sendRaw(probe.to, probe.body);
    });
  });

  const clientOp = (message: Message, op: KvOp): void => {
    if (state === undefined) {
      node.reply(message, { type: 'error', code: 13, text: `node not serving: ${loadError ?? 'not initialized'}` });
      return;
    }
    for (const [field, value] of Object.entries(op)) {
      if (field === 'f') continue;
      const problem = unrepresentable(value as Json);
      if (problem !== undefined) {
        node.reply(message, { type: 'error', code: 12, text: `${op.f}: ${field} holds ${problem}` });
        return;
      }
    }
    ridCounter += 1;
    const rid = `${node.id}.${bootTag}.${ridCounter}`;
    clients.set(rid, message);
    const nowMs = now();
    run((raft) => submit(raft, rid, op, nowMs));
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
    const nowMs = now();
    for (const part of unbundle(message.body as WireBody)) {
      const received = receiveWire(relay, message.src, part, nowMs);
      if (received.kind === 'forward') sendRaw(received.to, received.body);
      if (received.kind === 'deliver') run((raft) => receive(raft, received.from, received.body as unknown as PeerMessage, nowMs));
    }
  };
  for (const type of [...peerMessageTypes, 'raft_relay', 'raft_probe', 'raft_bundle']) node.handle(type, peerMessage);

  return { state: () => state };
}
