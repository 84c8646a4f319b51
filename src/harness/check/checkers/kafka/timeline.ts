// The kafka checker's two walks through time (docs/checkers.md §2.3): messages acknowledged but
// never polled (`unseen`), and how far behind the log's tail each poll was (realtime lag).

import type { Json, Op } from '../../../types.js';
import type { ValueKey } from '../json-values.js';
import { MinHeap } from '../../../util/heap.js';
import { ARRAY_MAP_MAX, stringOrderKey } from './clojure-order.js';
import type { DeadlineTicker } from './cycles.js';
import { valueOf, type ClientHistory, type KafkaOp } from './ops.js';

export interface UnseenResult {
  /** ns of the last ok send/poll */
  timeNs: number;
  /** key → unseen messages, only keys with some */
  unseen: Map<string, Set<ValueKey>>;
  /** some key was ever sent or polled ok, so Maelstrom's unseen plot has points to draw */
  hasPlotPoints: boolean;
}

/**
 * Jepsen's unseen walk, done incrementally: only keys an op touches change, except that a key
 * first seen through a poll shows its polled messages as unseen for one step (the glitch of
 * docs/checkers.md §2.3), which the next ok op clears.
 */
export function unseenWalk(ops: readonly KafkaOp[], ticker: DeadlineTicker): UnseenResult | undefined {
  const unseen = new Map<string, Set<ValueKey>>();
  const polled = new Map<string, Set<ValueKey>>();
  let glitched: string[] = [];
  let timeNs: number | undefined;
  for (const kop of ops) {
    ticker.tick();
    const { op } = kop;
    if (op.type !== 'ok' || (op.f !== 'poll' && op.f !== 'send' && op.f !== 'txn')) continue;
    timeNs = op.time;
    for (const key of glitched) {
      const set = unseen.get(key)!;
      const seen = polled.get(key)!;
      for (const vk of set) if (seen.has(vk)) set.delete(vk);
    }
    glitched = [];
    if (kop.reads) {
      for (const [key, pairs] of kop.reads) {
        let seen = polled.get(key);
        if (!seen) polled.set(key, (seen = new Set()));
        for (const pair of pairs) seen.add(pair.vk);
      }
    }
    if (kop.writes) {
      for (const [key, pairs] of kop.writes) {
        let set = unseen.get(key);
        if (!set) unseen.set(key, (set = new Set()));
        const seen = polled.get(key);
        for (const pair of pairs) if (!seen?.has(pair.vk)) set.add(pair.vk);
      }
    }
    if (kop.reads) {
      for (const [key, pairs] of kop.reads) {
        const set = unseen.get(key);
        if (set) {
          for (const pair of pairs) set.delete(pair.vk);
        } else {
          unseen.set(key, new Set(polled.get(key)));
          glitched.push(key);
        }
      }
    }
  }
  if (timeNs === undefined) return undefined;
  const positive = new Map<string, Set<ValueKey>>();
  for (const [key, set] of unseen) if (set.size > 0) positive.set(key, set);
  return { timeNs, unseen: positive, hasPlotPoints: unseen.size > 0 };
}

/** Jepsen's op->max-offsets: key → highest offset an ok/info op sent or polled. */
export function maxOffsets(kop: KafkaOp): Map<string, number> | null {
  const { op } = kop;
  if (op.type !== 'ok' && op.type !== 'info') return null;
  let result: Map<string, number> | null = null;
  if (kop.reads && (op.f === 'poll' || op.f === 'txn')) {
    result = new Map();
    for (const [key, pairs] of kop.reads) {
      let max = -1;
      for (const pair of pairs) if (pair.offset !== null && pair.offset > max) max = pair.offset;
      result.set(key, Math.max(result.get(key) ?? -Infinity, max));
    }
  }
  if (kop.writes && (op.f === 'send' || op.f === 'txn')) {
    const sends = new Map<string, number>();
    for (const [key, pairs] of kop.writes) {
      for (const pair of pairs) {
        // Jepsen: a send without a known offset makes the whole send map nil
        if (pair.offset === null) return result;
        sends.set(key, Math.max(sends.get(key) ?? 0, pair.offset));
      }
    }
    result ??= new Map();
    for (const [key, offset] of sends) result.set(key, Math.max(result.get(key) ?? -Infinity, offset));
  }
  return result;
}

/**
 * For each key, when each offset stopped being the tail: expired(k, i) is the completion time of
 * the first ok/info op that revealed an offset ≥ i. Stored as breakpoints (offset, time) with
 * increasing offsets, one per op that raised the key's known maximum, so memory follows the
 * history and not the offsets.
 */
class ExpiryIndex {
  private readonly breakpoints = new Map<string, { offsets: number[]; times: number[] }>();

  reveal(key: string, offset: number, timeNs: number): void {
    let entry = this.breakpoints.get(key);
    if (!entry) this.breakpoints.set(key, (entry = { offsets: [], times: [] }));
    if (offset < 0) return;
    const last = entry.offsets[entry.offsets.length - 1];
    if (last !== undefined && offset <= last) return;
    entry.offsets.push(offset);
    entry.times.push(timeNs);
  }

  /** ns when offset i was known to exist, or Infinity */
  expiredAt(key: string, i: number): number {
    const entry = this.breakpoints.get(key);
    if (!entry || i < 0) return Infinity;
    const { offsets, times } = entry;
    let lo = 0;
    let hi = offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid]! >= i) hi = mid;
      else lo = mid + 1;
    }
    return lo < offsets.length ? times[lo]! : Infinity;
  }
}

/**
 * A process's key → highest offset seen, iterated the way the Clojure map would be, plus when
 * each key's next offset became known (its lag is now − that time) in a lazy min-heap, so a poll
 * finds its largest lag without visiting every assigned key.
 */
interface ProcessOffsets {
  offsets: Map<string, number>;
  /** became a hash map (more than 8 entries at some point): iteration is trie order */
  hashed: boolean;
  /** key → ns its next offset was known to exist, for keys where that is known */
  behindSince: Map<string, number>;
  /** (ns, key) entries of behindSince; stale ones are skipped when they surface */
  heap: MinHeap<[number, string]>;
}

export interface LagPoint {
  timeNs: number;
  process: number;
  key: string;
  lagNs: number;
}

export interface LagResult {
  worst: LagPoint | undefined;
  /**
   * per key: (poll invocation ns, lag ns) for every ok poll by a process assigned the key, the lag
   * of that process just after the poll (the quantity `worst` is the maximum of); the highest per
   * 100 ms bucket. For the report's plot. The lag before a poll is left out: a process that polls a key
   * rarely would show its whole gap there, which no poll ever saw.
   */
  perKey: Map<string, Array<[number, number]>>;
}

const BUCKET_NS = 100_000_000;

function emptyOffsets(): ProcessOffsets {
  return { offsets: new Map(), hashed: false, behindSince: new Map(), heap: new MinHeap((a, b) => a[0] < b[0]) };
}

/** Realtime lag of every ok poll (docs/checkers.md §2.3), keeping the worst and a plot series. */
export function realtimeLag(client: ClientHistory, ticker: DeadlineTicker): LagResult {
  const { ops, invocationOf } = client;
  const expiry = new ExpiryIndex();
  for (const kop of ops) {
    ticker.tick();
    const offsets = maxOffsets(kop);
    if (offsets) for (const [key, offset] of offsets) expiry.reveal(key, offset, kop.op.time);
  }
  const track = (state: ProcessOffsets, key: string, offset: number): void => {
    const since = expiry.expiredAt(key, offset + 1);
    if (since === Infinity) {
      state.behindSince.delete(key);
    } else if (state.behindSince.get(key) !== since) {
      state.behindSince.set(key, since);
      state.heap.push([since, key]);
    }
  };
  const perProcess = new Map<number, ProcessOffsets>();
  const series = new Map<string, Array<[number, number]>>();
  let worst: LagPoint | undefined;
  for (const kop of ops) {
    ticker.tick();
    const { op } = kop;
    if (op.type !== 'ok') continue;
    const process = op.process as number;
    if (op.f === 'assign') {
      const state = assigned(perProcess.get(process), op);
      for (const [key, offset] of state.offsets) track(state, key, offset);
      perProcess.set(process, state);
    } else if (op.f === 'subscribe') {
      perProcess.set(process, emptyOffsets());
    } else if (op.f === 'poll' || op.f === 'txn') {
      const state = perProcess.get(process) ?? emptyOffsets();
      perProcess.set(process, state);
      const invocation = invocationOf[kop.position]!;
      const invokeNs = invocation >= 0 ? ops[invocation]!.op.time : op.time;
      const revealed = maxOffsets(kop);
      if (revealed) {
        for (const [key, offset] of revealed) {
          const merged = Math.max(state.offsets.get(key) ?? -Infinity, offset);
          state.offsets.set(key, merged);
          track(state, key, merged);
        }
      }
      // every key the process is assigned, not only the ones this poll returned: worst is taken over them all
      for (const key of state.offsets.keys()) {
        const since = state.behindSince.get(key);
        addPoint(series, key, invokeNs, since === undefined ? 0 : Math.max(0, invokeNs - since));
      }
      if (state.offsets.size > ARRAY_MAP_MAX) state.hashed = true;
      if (state.offsets.size === 0) continue;
      const oldest = oldestBehind(state);
      const maxLagNs = oldest === undefined ? 0 : Math.max(0, invokeNs - oldest);
      if (worst && maxLagNs <= worst.lagNs) continue;
      worst = { timeNs: invokeNs, process, key: firstKeyWithLag(state, invokeNs, maxLagNs, oldest), lagNs: maxLagNs };
    }
  }
  return { worst, perKey: series };
}

/** The smallest live behindSince, dropping stale heap entries on the way. */
function oldestBehind(state: ProcessOffsets): number | undefined {
  for (;;) {
    const top = state.heap.peek();
    if (!top) return undefined;
    if (state.behindSince.get(top[1]) === top[0]) return top[0];
    state.heap.pop();
  }
}

/** The first key, in the Clojure map's iteration order, whose lag is maxLagNs. */
function firstKeyWithLag(state: ProcessOffsets, invokeNs: number, maxLagNs: number, oldest: number | undefined): string {
  const lagOf = (key: string): number => {
    const since = state.behindSince.get(key);
    return since === undefined ? 0 : Math.max(0, invokeNs - since);
  };
  if (!state.hashed) {
    for (const key of state.offsets.keys()) if (lagOf(key) === maxLagNs) return key;
  }
  let candidates: Iterable<string>;
  if (maxLagNs > 0 && oldest !== undefined) {
    // only keys behind since exactly `oldest` have the maximum: pop them, then put them back
    const tied: Array<[number, string]> = [];
    for (let top = state.heap.peek(); top && top[0] === oldest; top = state.heap.peek()) tied.push(state.heap.pop()!);
    for (const entry of tied) state.heap.push(entry);
    candidates = tied.filter(([since, key]) => state.behindSince.get(key) === since).map(([, key]) => key);
  } else {
    candidates = state.offsets.keys();
  }
  let chosen: string | undefined;
  for (const key of candidates) if (chosen === undefined || stringOrderKey(key) < stringOrderKey(chosen)) chosen = key;
  return chosen!;
}

/** Polls come in time order, so each key's 100 ms buckets arrive in order: keep the highest lag. */
function addPoint(series: Map<string, Array<[number, number]>>, key: string, timeNs: number, lagNs: number): void {
  let points = series.get(key);
  if (!points) series.set(key, (points = []));
  const last = points[points.length - 1];
  if (last && Math.floor(last[0] / BUCKET_NS) === Math.floor(timeNs / BUCKET_NS)) {
    if (lagNs > last[1]) {
      last[0] = timeNs;
      last[1] = lagNs;
    }
  } else {
    points.push([timeNs, lagNs]);
  }
}

/** An ok assign: listed keys keep their offset or start at -1; others are dropped. */
function assigned(previous: ProcessOffsets | undefined, op: Op): ProcessOffsets {
  const keys = Array.isArray(op.value) ? op.value.map((k: Json) => (typeof k === 'string' ? k : JSON.stringify(k))) : [];
  const state = emptyOffsets();
  for (const key of keys) state.offsets.set(key, previous?.offsets.get(key) ?? -1);
  state.hashed = state.offsets.size > ARRAY_MAP_MAX;
  return state;
}

/** Jepsen's lag map: seconds, or {time 0.0, lag 0.0} with no polls. */
export function worstLagJson(worst: LagPoint | undefined): { [key: string]: Json } {
  if (!worst) return { time: 0, lag: 0 };
  return { time: worst.timeNs / 1e9, process: worst.process, key: worst.key, lag: worst.lagNs / 1e9 };
}

export function unseenJson(result: UnseenResult): { [key: string]: Json } {
  const keys = [...result.unseen.keys()].sort();
  const unseen: { [key: string]: Json } = {};
  const messages: { [key: string]: Json } = {};
  for (const key of keys) {
    const set = result.unseen.get(key)!;
    unseen[key] = set.size;
    messages[key] = [...set]
      .map(valueOf)
      .sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1))
      .slice(0, 32);
  }
  return { time: result.timeNs, unseen, messages };
}
