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
  type PersistOp,
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

interface OutboundSink {
  /** Makes the ops durable; throws if it cannot. */
  persist(ops: readonly PersistOp[]): void;
  /** The write failed: nothing of the stretch was sent or answered. */
  persistFailed(reason: string): void;
  /** How a core message travels: direct, or wrapped for a relay. */
  route(to: string, body: WireBody): { to: string; body: WireBody };
  answer(answers: readonly ClientAnswer[]): void;
  /** After a stretch's output has left. */
  flushed(): void;
}

interface Outbound {
  /** Queues one core step's output; it leaves at the end of this synchronous stretch. */
  add(out: Output): void;
  /** A message that is not the core's (a relay's forward, a probe), sent with the stretch. */
  sendRaw(to: string, body: WireBody): void;
}

/**
 * Group commit: what the core produces in one synchronous stretch (a chunk of input, a tick) is
 * persisted in one write, then sent (one message per peer), then answered. Messages routed through
 * a relay wait up to relayBatchMs and go as one bundle per relay; the wait bounds what is held to
 * what the node produces in that time.
 */
function createOutbound(node: Node, relayBatchMs: number, sink: OutboundSink): Outbound {
  let batch: Output | undefined;
  let raw: Array<{ to: string; body: WireBody }> = [];
  let held: Array<{ to: string; body: WireBody }> = [];

  const sendAll = (messages: ReadonlyArray<{ to: string; body: WireBody }>): void => {
    for (const { to, body } of bundle(messages)) node.send(to, body as OutBody);
  };
  const hold = (message: { to: string; body: WireBody }): void => {
    if (held.length === 0) {
      node.after(relayBatchMs, () => {
        const due = held;
        held = [];
        sendAll(due);
      });
    }
    held.push(message);
  };
  const flush = (): void => {
    const out = batch as Output;
    const outgoing = raw;
    batch = undefined;
    raw = [];
    try {
      if (out.persist.length > 0) sink.persist(out.persist);
    } catch (error) {
      // Nothing that depends on the failed write may leave: not the messages, not the answers.
      sink.persistFailed(error instanceof Error ? error.message : String(error));
      return;
    }
    for (const { to, body } of out.messages) {
      const routed = sink.route(to, body as unknown as WireBody);
      if (routed.to !== to && relayBatchMs > 0) hold(routed);
      else outgoing.push(routed);
    }
    sendAll(outgoing);
    sink.answer(out.answers);
    sink.flushed();
  };
  const pending = (): Output => {
    if (batch === undefined) {
      batch = { persist: [], messages: [], answers: [] };
      queueMicrotask(flush);
    }
    return batch;
  };

  return {
    add(out) {
      if (out.persist.length === 0 && out.messages.length === 0 && out.answers.length === 0) return;
      const target = pending();
      target.persist.push(...out.persist);
      target.messages.push(...out.messages);
      target.answers.push(...out.answers);
    },
    sendRaw(to, body) {
      pending();
      raw.push({ to, body });
    },
  };
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

  const answer = (answers: readonly ClientAnswer[]): void => {
    for (const { rid, result } of answers) {
      const request = clients.get(rid);
      if (request === undefined) continue;
      clients.delete(rid);
      node.reply(request, result);
    }
  };

  /** After a failed write: the core's memory is ahead of the disk, so it starts again from the disk. */
  const restartFromDisk = (reason: string): void => {
    node.log(`raft: storage write failed, restarting the core from disk: ${reason}`);
    for (const [rid, request] of clients) {
      clients.delete(rid);
      node.reply(request, { type: 'error', code: 13, text: `not stored: ${reason}` });
    }
    if (storage === undefined || config === undefined) return;
    try {
      state = createRaft(config, storage.load(), now());
    } catch (error) {
      state = undefined;
      loadError = error instanceof Error ? error.message : String(error);
      node.log(`raft: cannot reload storage: ${loadError}`);
    }
  };

  const logRoleChange = (): void => {
    if (state === undefined || (state.role === lastRole && state.term === lastTerm)) return;
    lastRole = state.role;
    lastTerm = state.term;
    // Wall-clock time so failover can be measured against the history.
    node.log(`raft: ${state.role} term=${state.term} at=${Date.now()} ${JSON.stringify(describe(state))}`);
  };

  const outbound = createOutbound(node, timings.relayBatchMs, {
    persist: (ops) => storage?.write(ops),
    persistFailed: restartFromDisk,
    route: (to, body) => (relay === undefined ? { to, body } : route(relay, to, body, now())),
    answer,
    flushed: logRoleChange,
  });

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
    outbound.add(out);
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
      for (const probe of probes(relay, nowMs)) outbound.sendRaw(probe.to, probe.body);
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
      if (received.kind === 'forward') outbound.sendRaw(received.to, received.body);
      if (received.kind === 'deliver') run((raft) => receive(raft, received.from, received.body as unknown as PeerMessage, nowMs));
    }
  };
  for (const type of [...peerMessageTypes, 'raft_relay', 'raft_probe', 'raft_bundle']) node.handle(type, peerMessage);

  return { state: () => state };
}
