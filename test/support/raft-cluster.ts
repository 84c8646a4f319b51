// Test support: an in-process cluster of bin/raft's pure cores (src/raft/raft.ts) on virtual time,
// wired by a network the test controls (latency, loss, one-way partitions), with crashes and
// restarts from in-memory "disks". Messages go through JSON as on the wire, bundled per
// destination and routed through the relay layer as the node does. Records the client history
// (also as Maelstrom's lin-kv history, for the harness's linearizability checker) and checks Raft's
// safety invariants after every step. Randomness: the harness's one seeded PRNG.

import type { Op } from '../../src/harness/types.js';
import { createRng } from '../../src/harness/util/rng.js';
import type { Json } from '../../src/lib/index.js';
import type { KvOp } from '../../src/raft/kv.js';
import {
  createRaft,
  defaultLimits,
  defaultTimings,
  receive,
  submit,
  termAt,
  tick,
  type Output,
  type PeerMessage,
  type RaftConfig,
  type RaftState,
} from '../../src/raft/raft.js';
import { bundle, createRelay, defaultRelayTimings, probes, receiveWire, route, unbundle, type RelayState, type WireBody } from '../../src/raft/relay.js';
import { MemoryStorage } from '../../src/raft/storage.js';

/** Uniform numbers in [0, 1) from the harness's seeded generator. */
export function seededRandom(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

export interface HistoryOp {
  process: number;
  node: string;
  op: KvOp;
  invokeMs: number;
  completeMs: number | undefined;
  /** ok = took effect with this result (value, or code 20/22); fail = definitely did not happen; info = unknown */
  outcome: 'ok' | 'fail' | 'info' | 'pending';
  value?: Json;
  code?: number;
}

interface SimNode {
  id: string;
  state: RaftState;
  relay: RelayState;
  disk: MemoryStorage;
  up: boolean;
}

interface InFlight {
  atMs: number;
  seq: number;
  from: string;
  to: string;
  text: string;
}

export interface SimOptions {
  nodeIds: string[];
  seed: number;
  latencyMs?: number;
  tickMs?: number;
  config?: Partial<Omit<RaftConfig, 'id' | 'nodeIds' | 'random'>>;
}

export class RaftCluster {
  nowMs = 0;
  readonly nodes = new Map<string, SimNode>();
  readonly history: HistoryOp[] = [];
  /** the same history as Maelstrom's lin-kv client records it: invocations and completions in order */
  readonly events: Op[] = [];
  /** leader per term, to check election safety */
  readonly leaders = new Map<number, string>();
  /** messages sent between servers (what Maelstrom counts as :servers) */
  messagesSent = 0;
  private inFlight: InFlight[] = [];
  private seq = 0;
  private readonly random: () => number;
  private readonly blocked = new Set<string>();
  private readonly opsByRid = new Map<string, HistoryOp>();
  private ridCounter = 0;
  latencyMs: number;
  lossRate = 0;
  /** route through the relay layer, as the node does */
  useRelay = true;
  readonly tickMs: number;

  constructor(private readonly options: SimOptions) {
    this.random = seededRandom(options.seed);
    this.latencyMs = options.latencyMs ?? 0;
    this.tickMs = options.tickMs ?? 5;
    for (const id of options.nodeIds) {
      const disk = new MemoryStorage();
      this.nodes.set(id, { id, disk, up: true, state: this.boot(id, disk), relay: this.newRelay(id) });
    }
  }

  private newRelay(id: string): RelayState {
    return createRelay({ id, peers: this.options.nodeIds.filter((peer) => peer !== id), ...defaultRelayTimings });
  }

  private boot(id: string, disk: MemoryStorage): RaftState {
    const config: RaftConfig = {
      id,
      nodeIds: this.options.nodeIds,
      ...defaultTimings,
      ...defaultLimits,
      ...this.options.config,
      random: this.random,
    };
    return createRaft(config, disk.load(), this.nowMs);
  }

  node(id: string): RaftState {
    return (this.nodes.get(id) as SimNode).state;
  }

  leader(): string | undefined {
    const up = [...this.nodes.values()].filter((n) => n.up && n.state.role === 'leader');
    up.sort((a, b) => b.state.term - a.state.term);
    return up[0]?.id;
  }

  /** Drops messages from `from` to `to` (one way). */
  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Maelstrom's majorities-ring: nodes in ring order; each window's middle node drops messages from outside it. */
  majoritiesRing(ring: string[]): void {
    const size = Math.floor(ring.length / 2) + 1;
    for (let k = 0; k < ring.length; k++) {
      const window = Array.from({ length: size }, (_, j) => ring[(k + j) % ring.length] as string);
      const middle = window[Math.floor(size / 2)] as string;
      for (const other of ring) if (!window.includes(other)) this.block(other, middle);
    }
  }

  /** Cuts the nodes in `group` off from everyone else, both ways. */
  isolate(group: string[]): void {
    for (const a of group) for (const b of this.options.nodeIds) if (!group.includes(b)) {
      this.block(a, b);
      this.block(b, a);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  crash(id: string): void {
    const node = this.nodes.get(id) as SimNode;
    node.up = false;
    // Its clients' requests are lost with it: outcome unknown.
    for (const op of this.history) if (op.node === id && op.outcome === 'pending') this.complete(op, 'info');
  }

  restart(id: string): void {
    const node = this.nodes.get(id) as SimNode;
    node.state = this.boot(id, node.disk);
    node.relay = this.newRelay(id);
    node.up = true;
  }

  /** A client request at `nodeId`; returns the history entry that will be completed. */
  invoke(nodeId: string, process: number, op: KvOp): HistoryOp {
    const entry: HistoryOp = { process, node: nodeId, op, invokeMs: this.nowMs, completeMs: undefined, outcome: 'pending' };
    this.history.push(entry);
    this.record(entry, 'invoke');
    const node = this.nodes.get(nodeId) as SimNode;
    if (!node.up) {
      this.complete(entry, 'info');
      return entry;
    }
    const rid = `${nodeId}.${++this.ridCounter}`;
    this.opsByRid.set(rid, entry);
    this.apply(node, submit(node.state, rid, op, this.nowMs));
    this.flush();
    return entry;
  }

  private complete(entry: HistoryOp, outcome: HistoryOp['outcome'], value?: Json, code?: number): void {
    entry.outcome = outcome;
    entry.completeMs = this.nowMs;
    if (value !== undefined) entry.value = value;
    if (code !== undefined) entry.code = code;
    // Errors 20 and 22 are definite failures in Maelstrom's history, as any definite error is.
    this.record(entry, code === 20 || code === 22 ? 'fail' : (outcome as 'ok' | 'fail' | 'info'));
  }

  /** Appends one event in Maelstrom's lin-kv shape: value [key, v], cas as [key, [from, to]]. */
  private record(entry: HistoryOp, type: Op['type']): void {
    const { op } = entry;
    let value: Json;
    if (op.f === 'read') value = [op.key, type === 'ok' ? (entry.value ?? null) : null];
    else if (op.f === 'write') value = [op.key, op.value];
    else value = [op.key, [op.from, op.to]];
    const event: Op = { index: this.events.length, time: this.nowMs * 1e6, type, process: entry.process, f: op.f, value };
    if (entry.code !== undefined && type !== 'ok') event.error = ['error', entry.code];
    this.events.push(event);
  }

  /** The lin-kv history with every op still open completed as info (its outcome is unknown). */
  linKvHistory(): Op[] {
    for (const entry of this.history) if (entry.outcome === 'pending') this.complete(entry, 'info');
    return this.events;
  }

  private apply(node: SimNode, out: Output): void {
    node.disk.write(out.persist);
    for (const { to, body } of out.messages) {
      const routed = this.useRelay ? route(node.relay, to, body as unknown as WireBody, this.nowMs) : { to, body };
      this.transmit(node.id, routed.to, routed.body);
    }
    for (const { rid, result } of out.answers) {
      const entry = this.opsByRid.get(rid);
      this.opsByRid.delete(rid);
      if (entry === undefined || entry.outcome !== 'pending') continue;
      if (result.type === 'error' && (result.code === 20 || result.code === 22)) {
        // An observation of the register (missing key, or a different value): checked as a result.
        this.complete(entry, 'ok', undefined, result.code);
      } else if (result.type === 'error') {
        this.complete(entry, result.code === 11 ? 'fail' : 'info', undefined, result.code);
      } else {
        this.complete(entry, 'ok', result.type === 'read_ok' ? result.value : undefined);
      }
    }
    if (node.state.role === 'leader') {
      const known = this.leaders.get(node.state.term);
      if (known !== undefined && known !== node.id) throw new Error(`two leaders in term ${node.state.term}: ${known}, ${node.id}`);
      this.leaders.set(node.state.term, node.id);
    }
  }

  /** Messages produced in the current step, sent (bundled per destination, as the node does) by flush(). */
  private outbox: Array<{ from: string; to: string; body: WireBody }> = [];

  private transmit(from: string, to: string, body: unknown): void {
    this.outbox.push({ from, to, body: body as WireBody });
  }

  private flush(): void {
    const senders = new Set(this.outbox.map((m) => m.from));
    for (const from of senders) {
      const mine = this.outbox.filter((m) => m.from === from);
      const grouped = this.useRelay ? bundle(mine) : mine;
      for (const { to, body } of grouped) {
        this.messagesSent += 1;
        this.inFlight.push({ atMs: this.nowMs + this.latencyMs, seq: this.seq++, from, to, text: JSON.stringify(body) });
      }
    }
    this.outbox = [];
  }

  /** Advances virtual time, delivering messages and ticking nodes, checking invariants as it goes. */
  run(durationMs: number): void {
    const end = this.nowMs + durationMs;
    while (this.nowMs < end) {
      this.nowMs = Math.min(end, this.nowMs + this.tickMs);
      this.deliverDue();
      for (const node of this.nodes.values()) {
        if (!node.up) continue;
        this.apply(node, tick(node.state, this.nowMs));
        if (this.useRelay) for (const probe of probes(node.relay, this.nowMs)) this.transmit(node.id, probe.to, probe.body);
        this.flush();
      }
      this.checkSafety();
    }
  }

  private deliverDue(): void {
    for (;;) {
      const due = this.inFlight.filter((m) => m.atMs <= this.nowMs);
      if (due.length === 0) return;
      this.inFlight = this.inFlight.filter((m) => m.atMs > this.nowMs);
      due.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      for (const message of due) {
        const target = this.nodes.get(message.to) as SimNode;
        if (!target.up || this.blocked.has(`${message.from}>${message.to}`)) continue;
        if (this.lossRate > 0 && this.random() < this.lossRate) continue;
        const body = JSON.parse(message.text) as WireBody;
        if (!this.useRelay) {
          this.apply(target, receive(target.state, message.from, body as unknown as PeerMessage, this.nowMs));
          this.flush();
          continue;
        }
        for (const part of unbundle(body)) {
          const received = receiveWire(target.relay, message.from, part, this.nowMs);
          if (received.kind === 'forward') this.transmit(target.id, received.to, received.body);
          if (received.kind === 'deliver') this.apply(target, receive(target.state, received.from, received.body as unknown as PeerMessage, this.nowMs));
        }
        this.flush();
      }
    }
  }

  /** Committed prefixes agree everywhere (State Machine Safety, via Log Matching on terms). */
  checkSafety(): void {
    const nodes = [...this.nodes.values()];
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b) continue;
        const upTo = Math.min(a.state.commitIndex, b.state.commitIndex);
        const from = Math.max(a.state.snapshot.index, b.state.snapshot.index) + 1;
        for (let index = from; index <= upTo; index++) {
          if (termAt(a.state, index) !== termAt(b.state, index)) {
            throw new Error(`committed entry ${index} differs: ${a.id} term ${termAt(a.state, index)}, ${b.id} term ${termAt(b.state, index)}`);
          }
        }
      }
    }
  }
}
