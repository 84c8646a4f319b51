// The simulated network (docs/protocol.md §5, docs/network.md): per-destination queues ordered by
// deadline, one message in flight per destination, partitions enforced by the receiver when it
// dequeues, and a journal of every send and delivery. Built from four parts, each readable alone:
// queues (destinations), delivery (one timer for the earliest deadline), partitions (grudges), and
// accounting (counters, overflow warnings, lateness).
import { MinHeap } from '../util/heap.js';
import type { Clock } from '../clock.js';
import { isClientId, type Body, type JournalEvent, type LatencyDist, type LatenessStats, type Message, type Rng } from '../types.js';

/**
 * Something that can receive messages: a node's stdin, a service, or a client. bodyJson is the
 * body as JSON text, made once per message by the network, so that an endpoint writing lines
 * (a node's stdin) need not serialise it again; null if the body cannot be written as JSON.
 */
export interface Endpoint {
  deliver(message: Message, bodyJson: string | null): void;
}

export interface NetworkOptions {
  latencyMs: number;
  latencyDist: LatencyDist;
  rng: Rng;
  /** ns since the test started */
  nowNs: () => number;
  /** the timers deliveries wait on (the run's clock); default Node's own */
  setTimer?: Clock['setTimer'];
  logSend?: (message: Message) => void;
  logRecv?: (message: Message) => void;
  /**
   * every send (even if later dropped) and every delivery, in order; bodyJson as for
   * Endpoint.deliver
   */
  journal?: (event: JournalEvent, bodyJson: string | null) => void;
  /** bound on undelivered messages per destination; beyond it messages are dropped loudly */
  maxQueuedPerDest?: number;
}

export interface NetworkCounters {
  sent: number;
  delivered: number;
  droppedByPartition: number;
  droppedOverflow: number;
  droppedUnregistered: number;
}

export interface Network {
  register(id: string, endpoint: Endpoint): void;
  unregister(id: string): void;
  isRegistered(id: string): boolean;
  /** Sends a message; both ends must be registered. Returns the network-wide message id. */
  send(src: string, dest: string, body: Body): number;
  /** grudge: receiver -> senders it drops */
  setGrudge(grudge: Record<string, string[]>): void;
  heal(): void;
  readonly counters: NetworkCounters;
  lateness(): LatenessStats;
  /** messages sent but not yet delivered or dropped */
  pendingCount(): number;
  /** Stops all timers; undelivered messages are discarded. */
  close(): void;
}

/**
 * Undelivered messages kept per destination (a few hundred bytes each). Ordinary runs hold a
 * handful; only a flood reaches this, and then the excess is dropped and counted.
 */
export const DEFAULT_MAX_QUEUED_PER_DEST = 100_000;

/** Lateness p99 above this means the harness could not keep up with the simulated latencies. */
export const BEHIND_P99_MS = 5;

/**
 * A timer may wake this early and still deliver: Node's timers have whole-ms resolution, and
 * Maelstrom's delivery threads sleep whole ms too (rounding down), so neither is more exact.
 */
const EARLY_WAKE_TOLERANCE_NS = 200_000;

interface Pending {
  deadlineNs: number;
  /** when the destination took it off its queue (it waits behind the one before it) */
  dequeuedNs: number;
  seq: number;
  message: Message;
  bodyJson: string | null;
}

/** Draws one latency in whole ms for a link between two non-client endpoints. */
export function drawLatencyMs(dist: LatencyDist, meanMs: number, rng: Rng): number {
  switch (dist) {
    case 'constant':
      return meanMs;
    case 'uniform':
      return rng.int(2 * meanMs);
    case 'exponential':
      return Math.floor(-meanMs * Math.log(1 - rng.next()));
  }
}

/** Node's timers, for networks built without a run's clock. */
export function realTimer(delayMs: number, fn: () => void): () => void {
  const handle = setTimeout(fn, delayMs);
  return () => clearTimeout(handle);
}

/** A body as JSON text, or null when it cannot be written (a service's value that JSON lacks). */
export function bodyJsonOf(body: Body): string | null {
  try {
    return JSON.stringify(body);
  } catch {
    return null;
  }
}

const byDeadline = (a: Pending, b: Pending): boolean =>
  a.deadlineNs < b.deadlineNs || (a.deadlineNs === b.deadlineNs && a.seq < b.seq);

// ---------------------------------------------------------------------------------------------
// Accounting: lateness in a histogram of fixed size, so a run of any length keeps the same memory.

/** Histogram buckets per doubling of lateness: quantiles are exact to within 2.2 %. */
const LATENESS_STEPS_PER_DOUBLING = 32;
/** Doublings of ns covered (2^42 ns is 73 minutes); later values share the last bucket. */
const LATENESS_DOUBLINGS = 42;
/** The bound on the lateness record: this many counters, whatever the run's length. */
export const LATENESS_BUCKETS = 1 + LATENESS_STEPS_PER_DOUBLING * LATENESS_DOUBLINGS;

export interface LatenessRecorder {
  record(lateNs: number): void;
  stats(): LatenessStats;
}

function latenessBucket(lateNs: number): number {
  if (lateNs < 1) return 0;
  const step = Math.floor(Math.log2(lateNs) * LATENESS_STEPS_PER_DOUBLING);
  return Math.min(LATENESS_BUCKETS - 1, 1 + step);
}

/** Middle of a bucket in ms (bucket 0 holds exact zeros). */
function bucketMiddleMs(bucket: number): number {
  if (bucket === 0) return 0;
  return 2 ** ((bucket - 0.5) / LATENESS_STEPS_PER_DOUBLING) / 1e6;
}

/** Lateness of each delivery: how long after its due time it was handed to its destination. */
export function createLatenessRecorder(): LatenessRecorder {
  const counts = new Float64Array(LATENESS_BUCKETS);
  let deliveries = 0;
  let maxNs = 0;
  // Quantile as Maelstrom computes them elsewhere: the value at rank min(n-1, floor(n*p)).
  const quantileMs = (p: number): number => {
    const rank = Math.min(deliveries - 1, Math.floor(deliveries * p));
    let seen = 0;
    for (let bucket = 0; bucket < LATENESS_BUCKETS; bucket++) {
      seen += counts[bucket] ?? 0;
      if (seen > rank) return Math.min(bucketMiddleMs(bucket), maxNs / 1e6);
    }
    return maxNs / 1e6;
  };
  return {
    record(lateNs) {
      const ns = Math.max(0, lateNs);
      const bucket = latenessBucket(ns);
      counts[bucket] = (counts[bucket] ?? 0) + 1;
      deliveries++;
      if (ns > maxNs) maxNs = ns;
    },
    stats() {
      if (deliveries === 0) return { deliveries: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, behind: false };
      const p99Ms = quantileMs(0.99);
      return { deliveries, p50Ms: quantileMs(0.5), p99Ms, maxMs: maxNs / 1e6, behind: p99Ms > BEHIND_P99_MS };
    },
  };
}

/** Prints a line at the 1st, 10th, 100th… drop to a destination, so a flood cannot become a flood of warnings. */
function createOverflowWarner(maxQueued: number): (src: string, dest: string) => void {
  const dropsByDest = new Map<string, number>();
  return (src, dest) => {
    const drops = (dropsByDest.get(dest) ?? 0) + 1;
    dropsByDest.set(dest, drops);
    if (/^10*$/.test(String(drops))) {
      process.stderr.write(
        `glomers: network queue for ${dest} holds ${maxQueued} undelivered messages; ${drops} message(s) to it dropped so far (latest from ${src})\n`,
      );
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Partitions: the receiver drops what comes from senders it holds a grudge against.

interface Partitions {
  set(grudge: Record<string, string[]>): void;
  heal(): void;
  blocks(receiver: string, sender: string): boolean;
}

function createPartitions(): Partitions {
  const grudge = new Map<string, Set<string>>();
  return {
    set(g) {
      grudge.clear();
      for (const [receiver, senders] of Object.entries(g)) grudge.set(receiver, new Set(senders));
    },
    heal: () => grudge.clear(),
    blocks: (receiver, sender) => grudge.get(receiver)?.has(sender) === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Delivery: the in-flight messages of every destination in one heap, and one timer for the
// earliest of them, rather than a timer per message.

interface InFlightEntry {
  deadlineNs: number;
  seq: number;
  dest: Destination;
}

interface DeliveryTimer {
  /** waits for p's deadline, then calls onDue(dest) unless dest's in-flight message changed */
  schedule(dest: Destination, p: Pending): void;
  close(): void;
}

function createDeliveryTimer(
  nowNs: () => number,
  setTimer: Clock['setTimer'],
  onDue: (dest: Destination, seq: number) => void,
): DeliveryTimer {
  const waiting = new MinHeap<InFlightEntry>((a, b) => a.deadlineNs < b.deadlineNs || (a.deadlineNs === b.deadlineNs && a.seq < b.seq));
  let cancel: (() => void) | null = null;
  let armedForNs = Infinity;
  let closed = false;

  const arm = (): void => {
    const head = waiting.peek();
    if (closed || head === undefined) return;
    if (cancel !== null && head.deadlineNs >= armedForNs) return;
    if (cancel !== null) cancel();
    armedForNs = head.deadlineNs;
    cancel = setTimer(Math.max(0, Math.ceil((head.deadlineNs - nowNs()) / 1e6)), fire);
  };
  // Each due message is handed over on its own, in deadline order; what is not due yet waits
  // for the next wake.
  const fire = (): void => {
    cancel = null;
    armedForNs = Infinity;
    for (;;) {
      const head = waiting.peek();
      if (head === undefined || head.deadlineNs > nowNs() + EARLY_WAKE_TOLERANCE_NS) break;
      waiting.pop();
      onDue(head.dest, head.seq);
    }
    arm();
  };
  return {
    schedule(dest, p) {
      waiting.push({ deadlineNs: p.deadlineNs, seq: p.seq, dest });
      arm();
    },
    close() {
      closed = true;
      if (cancel !== null) cancel();
      cancel = null;
      waiting.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Queues: one per destination, earliest deadline first, with at most one message in flight (the
// one Maelstrom's per-node delivery thread would be sleeping on).

interface Destination {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly queue: MinHeap<Pending>;
  inFlight: Pending | null;
  /** false once unregistered: its in-flight timer entry must not deliver */
  live: boolean;
}

function newDestination(id: string, endpoint: Endpoint): Destination {
  return { id, endpoint, queue: new MinHeap(byDeadline), inFlight: null, live: true };
}

// ---------------------------------------------------------------------------------------------
// The network: the parts above around one shared state, and the steps of a message's way through.

interface NetState {
  readonly options: NetworkOptions;
  readonly journal: NonNullable<NetworkOptions['journal']>;
  readonly maxQueued: number;
  readonly destinations: Map<string, Destination>;
  readonly partitions: Partitions;
  readonly lateness: LatenessRecorder;
  readonly warnOverflow: (src: string, dest: string) => void;
  readonly counters: NetworkCounters;
  readonly timer: DeliveryTimer;
  /** messages sent and not yet delivered or dropped */
  pending: number;
  nextMessageId: number;
  /** tie-breaker between equal deadlines: send order */
  seq: number;
  closed: boolean;
}

function deliverInFlight(net: NetState, dest: Destination, now: number): void {
  const p = dest.inFlight;
  if (p === null) return;
  dest.inFlight = null;
  net.pending--;
  // Waiting behind an earlier in-flight message is the model, not harness slowness.
  net.lateness.record(now - Math.max(p.deadlineNs, p.dequeuedNs));
  net.counters.delivered++;
  const { message } = p;
  net.journal({ kind: 'recv', timeNs: now, id: message.id ?? -1, src: message.src, dest: dest.id, body: message.body }, p.bodyJson);
  net.options.logRecv?.(message);
  dest.endpoint.deliver(message, p.bodyJson);
}

/** Takes the next message for an idle destination, as Maelstrom's delivery thread does. */
function pump(net: NetState, dest: Destination, now: number): void {
  while (dest.inFlight === null && dest.live) {
    const next = dest.queue.pop();
    if (next === undefined) return;
    if (net.partitions.blocks(dest.id, next.message.src)) {
      net.counters.droppedByPartition++;
      net.pending--;
      continue;
    }
    dest.inFlight = next;
    next.dequeuedNs = now;
    if (next.deadlineNs <= now) deliverInFlight(net, dest, now);
    else net.timer.schedule(dest, next);
  }
}

function sendMessage(net: NetState, src: string, destId: string, body: Body): number {
  const { options, counters } = net;
  const id = net.nextMessageId++;
  const now = options.nowNs();
  const message: Message = { id, src, dest: destId, body };
  const latencyMs = isClientId(src) || isClientId(destId) ? 0 : drawLatencyMs(options.latencyDist, options.latencyMs, options.rng);
  const bodyJson = bodyJsonOf(body);
  counters.sent++;
  net.journal({ kind: 'send', timeNs: now, id, src, dest: destId, body }, bodyJson);
  options.logSend?.(message);
  const dest = net.destinations.get(destId);
  if (dest === undefined || net.closed) {
    counters.droppedUnregistered++;
    return id;
  }
  if (dest.queue.size >= net.maxQueued) {
    counters.droppedOverflow++;
    net.warnOverflow(src, destId);
    return id;
  }
  net.pending++;
  dest.queue.push({ deadlineNs: now + latencyMs * 1e6, dequeuedNs: 0, seq: net.seq++, message, bodyJson });
  pump(net, dest, now);
  return id;
}

function unregisterDestination(net: NetState, id: string): void {
  const dest = net.destinations.get(id);
  if (dest === undefined) return;
  const dropped = dest.queue.size + (dest.inFlight === null ? 0 : 1);
  net.pending -= dropped;
  net.counters.droppedUnregistered += dropped;
  dest.live = false;
  net.destinations.delete(id);
}

export function createNetwork(options: NetworkOptions): Network {
  const maxQueued = options.maxQueuedPerDest ?? DEFAULT_MAX_QUEUED_PER_DEST;
  const timer = createDeliveryTimer(options.nowNs, options.setTimer ?? realTimer, (dest, dueSeq) => {
    if (!dest.live || dest.inFlight === null || dest.inFlight.seq !== dueSeq) return;
    deliverInFlight(net, dest, options.nowNs());
    pump(net, dest, options.nowNs());
  });
  const net: NetState = {
    options,
    journal: options.journal ?? ((): void => {}),
    maxQueued,
    destinations: new Map(),
    partitions: createPartitions(),
    lateness: createLatenessRecorder(),
    warnOverflow: createOverflowWarner(maxQueued),
    counters: { sent: 0, delivered: 0, droppedByPartition: 0, droppedOverflow: 0, droppedUnregistered: 0 },
    timer,
    pending: 0,
    nextMessageId: 0,
    seq: 0,
    closed: false,
  };
  return {
    counters: net.counters,
    send: (src, dest, body) => sendMessage(net, src, dest, body),
    register(id, endpoint) {
      const previous = net.destinations.get(id);
      if (previous !== undefined) previous.live = false;
      net.destinations.set(id, newDestination(id, endpoint));
    },
    unregister: (id) => unregisterDestination(net, id),
    isRegistered: (id) => net.destinations.has(id),
    setGrudge: (grudge) => net.partitions.set(grudge),
    heal: () => net.partitions.heal(),
    lateness: () => net.lateness.stats(),
    pendingCount: () => net.pending,
    close() {
      net.closed = true;
      timer.close();
    },
  };
}
