// The simulated network (docs/protocol.md §5): per-destination queues ordered by deadline, one
// message in flight per destination, partitions enforced by the receiver when it dequeues,
// and a journal of every send and delivery.
import { MinHeap } from '../util/heap.js';
import type { Clock } from '../clock.js';
import { isClientId, type Body, type JournalEvent, type LatencyDist, type LatenessStats, type Message, type Rng } from '../types.js';

/** Something that can receive messages: a node's stdin, a service, or a client. */
export interface Endpoint {
  deliver(message: Message): void;
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
  /** every send (even if later dropped) and every delivery, in order */
  journal?: (event: JournalEvent) => void;
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

interface Pending {
  deadlineNs: number;
  /** when the destination took it off its queue (it waits behind the one before it) */
  dequeuedNs: number;
  seq: number;
  message: Message;
}

interface Destination {
  endpoint: Endpoint;
  queue: MinHeap<Pending>;
  /** the message this destination's "delivery thread" is waiting to write */
  inFlight: Pending | null;
}

const byDeadline = (a: Pending, b: Pending): boolean =>
  a.deadlineNs < b.deadlineNs || (a.deadlineNs === b.deadlineNs && a.seq < b.seq);

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

/** Quantile as Maelstrom computes them elsewhere: sorted[min(n-1, floor(n*p))]. */
function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

export function createNetwork(options: NetworkOptions): Network {
  const { nowNs, rng } = options;
  const setTimer = options.setTimer ?? realTimer;
  const maxQueued = options.maxQueuedPerDest ?? DEFAULT_MAX_QUEUED_PER_DEST;
  // Overflow drops per destination; a line is printed at the 1st, 10th, 100th… so a flood cannot
  // turn into a flood of warnings.
  const overflowByDest = new Map<string, number>();
  const destinations = new Map<string, Destination>();
  const grudge = new Map<string, Set<string>>();
  const journal = options.journal ?? ((): void => {});
  const counters: NetworkCounters = {
    sent: 0,
    delivered: 0,
    droppedByPartition: 0,
    droppedOverflow: 0,
    droppedUnregistered: 0,
  };
  let nextMessageId = 0;
  let seq = 0;
  let pending = 0;
  let closed = false;
  // Lateness samples in ms, grown by doubling.
  let lateness = new Float64Array(4096);
  let latenessCount = 0;

  // One timer for the whole network, armed for the earliest in-flight deadline.
  const inFlight = new MinHeap<{ deadlineNs: number; seq: number; dest: string }>(
    (a, b) => a.deadlineNs < b.deadlineNs || (a.deadlineNs === b.deadlineNs && a.seq < b.seq),
  );
  /** cancels the armed timer */
  let timer: (() => void) | null = null;
  let timerDeadlineNs = Infinity;

  function recordLateness(ms: number): void {
    if (latenessCount === lateness.length) {
      const bigger = new Float64Array(lateness.length * 2);
      bigger.set(lateness);
      lateness = bigger;
    }
    lateness[latenessCount++] = ms;
  }

  function armTimer(): void {
    const head = inFlight.peek();
    if (closed || head === undefined) return;
    if (timer !== null && head.deadlineNs >= timerDeadlineNs) return;
    if (timer !== null) timer();
    const delayMs = Math.max(0, Math.ceil((head.deadlineNs - nowNs()) / 1e6));
    timerDeadlineNs = head.deadlineNs;
    timer = setTimer(delayMs, onTimer);
  }

  function onTimer(): void {
    timer = null;
    timerDeadlineNs = Infinity;
    // Deliver everything due; a sub-ms early wake is treated as due rather than re-armed,
    // since Node's timers only have ms resolution.
    for (;;) {
      const head = inFlight.peek();
      if (head === undefined || head.deadlineNs > nowNs() + 200_000) break;
      inFlight.pop();
      const dest = destinations.get(head.dest);
      if (dest === undefined || dest.inFlight === null || dest.inFlight.seq !== head.seq) continue;
      deliverInFlight(head.dest, dest);
      pump(head.dest, dest);
    }
    armTimer();
  }

  function deliverInFlight(destId: string, dest: Destination): void {
    const p = dest.inFlight;
    if (p === null) return;
    dest.inFlight = null;
    pending--;
    const now = nowNs();
    // Waiting behind an earlier in-flight message is the model, not harness slowness.
    recordLateness(Math.max(0, (now - Math.max(p.deadlineNs, p.dequeuedNs)) / 1e6));
    counters.delivered++;
    journal({
      kind: 'recv',
      timeNs: now,
      id: p.message.id ?? -1,
      src: p.message.src,
      dest: destId,
      body: p.message.body,
    });
    options.logRecv?.(p.message);
    dest.endpoint.deliver(p.message);
  }

  /** Takes the next message for an idle destination, as Maelstrom's delivery thread does. */
  function pump(destId: string, dest: Destination): void {
    while (dest.inFlight === null && destinations.get(destId) === dest) {
      const next = dest.queue.pop();
      if (next === undefined) return;
      const blocked = grudge.get(destId);
      if (blocked !== undefined && blocked.has(next.message.src)) {
        counters.droppedByPartition++;
        pending--;
        continue;
      }
      dest.inFlight = next;
      next.dequeuedNs = nowNs();
      if (next.deadlineNs <= next.dequeuedNs) {
        deliverInFlight(destId, dest);
      } else {
        inFlight.push({ deadlineNs: next.deadlineNs, seq: next.seq, dest: destId });
        armTimer();
      }
    }
  }

  return {
    counters,
    register(id, endpoint) {
      destinations.set(id, { endpoint, queue: new MinHeap(byDeadline), inFlight: null });
    },
    unregister(id) {
      const dest = destinations.get(id);
      if (dest === undefined) return;
      const dropped = dest.queue.size + (dest.inFlight === null ? 0 : 1);
      pending -= dropped;
      counters.droppedUnregistered += dropped;
      destinations.delete(id);
    },
    isRegistered(id) {
      return destinations.has(id);
    },
    send(src, dest, body) {
      const id = nextMessageId++;
      const now = nowNs();
      const message: Message = { id, src, dest, body };
      const latencyMs =
        isClientId(src) || isClientId(dest)
          ? 0
          : drawLatencyMs(options.latencyDist, options.latencyMs, rng);
      counters.sent++;
      journal({ kind: 'send', timeNs: now, id, src, dest, body });
      options.logSend?.(message);
      const target = destinations.get(dest);
      if (target === undefined || closed) {
        counters.droppedUnregistered++;
        return id;
      }
      if (target.queue.size >= maxQueued) {
        counters.droppedOverflow++;
        const drops = (overflowByDest.get(dest) ?? 0) + 1;
        overflowByDest.set(dest, drops);
        if (/^10*$/.test(String(drops))) {
          process.stderr.write(
            `glomers: network queue for ${dest} holds ${maxQueued} undelivered messages; ${drops} message(s) to it dropped so far (latest from ${src})\n`,
          );
        }
        return id;
      }
      pending++;
      target.queue.push({ deadlineNs: now + latencyMs * 1e6, dequeuedNs: 0, seq: seq++, message });
      pump(dest, target);
      return id;
    },
    setGrudge(g) {
      grudge.clear();
      for (const [receiver, senders] of Object.entries(g)) grudge.set(receiver, new Set(senders));
    },
    heal() {
      grudge.clear();
    },
    lateness() {
      const sorted = lateness.slice(0, latenessCount).sort();
      const p99Ms = quantile(sorted, 0.99);
      return {
        deliveries: latenessCount,
        p50Ms: quantile(sorted, 0.5),
        p99Ms,
        maxMs: latenessCount === 0 ? 0 : (sorted[latenessCount - 1] ?? 0),
        behind: p99Ms > BEHIND_P99_MS,
      };
    },
    pendingCount() {
      return pending;
    },
    close() {
      closed = true;
      if (timer !== null) timer();
      timer = null;
      inFlight.clear();
    },
  };
}
