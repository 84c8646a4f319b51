// Per-key logs (docs/checkers.md §2.1): which messages sit at which offsets, with a dense index over
// the offsets that hold anything. Memory is proportional to the distinct (offset, message)
// pairs in the history, never to the largest offset: offsets are sorted, not used as indices.

import type { Op } from '../../../types.js';
import type { ValueKey } from '../json-values.js';
import { hashSetOrder } from './clojure-order.js';
import type { DeadlineTicker } from './cycles.js';
import type { KafkaOp } from './ops.js';

/** key → set of messages, per completion type (Jepsen's reads-by-type / writes-by-type). */
export type ValuesByKey = Map<string, Set<ValueKey>>;

export interface KeyOrder {
  key: string;
  /** raw offsets (≥ 0) holding at least one message, ascending; dense index = position here */
  offsets: number[];
  /** messages at each dense index, in Clojure hash-set order */
  valuesAt: ValueKey[][];
  /** the message Jepsen picks per dense index (the first of its hash set) */
  byIndex: ValueKey[];
  /** message → dense index, built from byIndex (so a message that lost the pick has none) */
  byValue: Map<ValueKey, number>;
}

export interface Derived {
  /** ok poll reads / fail sends by key */
  okReads: ValuesByKey;
  failedWrites: ValuesByKey;
  /** key → message → last non-invoke op that sent it */
  writerOf: Map<string, Map<ValueKey, KafkaOp>>;
  /** key → message → every non-invoke op that polled it, in history order */
  readersOf: Map<string, Map<ValueKey, KafkaOp[]>>;
  /** keys in the order Jepsen's reads-by-type :ok map first saw them */
  okReadKeys: string[];
}

function addTo(map: ValuesByKey, key: string, vk: ValueKey): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(vk);
}

export function derive(ops: readonly KafkaOp[], ticker: DeadlineTicker): Derived {
  const okReads: ValuesByKey = new Map();
  const failedWrites: ValuesByKey = new Map();
  const writerOf = new Map<string, Map<ValueKey, KafkaOp>>();
  const readersOf = new Map<string, Map<ValueKey, KafkaOp[]>>();
  for (const kop of ops) {
    ticker.tick();
    if (kop.op.type === 'invoke') continue;
    if (kop.writes) {
      for (const [key, pairs] of kop.writes) {
        let byValue = writerOf.get(key);
        if (!byValue) writerOf.set(key, (byValue = new Map()));
        for (const pair of pairs) {
          byValue.set(pair.vk, kop);
          if (kop.op.type === 'fail') addTo(failedWrites, key, pair.vk);
        }
      }
    }
    if (kop.reads) {
      for (const [key, pairs] of kop.reads) {
        if (kop.op.type === 'ok' && !okReads.has(key)) okReads.set(key, new Set());
        let byValue = readersOf.get(key);
        if (!byValue) readersOf.set(key, (byValue = new Map()));
        for (const pair of pairs) {
          if (kop.op.type === 'ok') addTo(okReads, key, pair.vk);
          const readers = byValue.get(pair.vk);
          if (readers) readers.push(kop);
          else byValue.set(pair.vk, [kop]);
        }
      }
    }
  }
  return { okReads, failedWrites, writerOf, readersOf, okReadKeys: [...okReads.keys()] };
}

/** Ok, or info with some sent message seen by an ok poll (Jepsen's must-have-committed?). */
export function mustHaveCommitted(op: Op, writes: KafkaOp['writes'], okReads: ValuesByKey): boolean {
  if (op.type === 'ok') return true;
  if (op.type !== 'info' || !writes) return false;
  for (const [key, pairs] of writes) {
    const seen = okReads.get(key);
    if (seen && pairs.some((pair) => seen.has(pair.vk))) return true;
  }
  return false;
}

export interface Logs {
  /** key → offset → messages; keys in first-seen order */
  raw: Map<string, Map<number, Set<ValueKey>>>;
  orders: Map<string, KeyOrder>;
}

/**
 * Builds every key's log from the sends of ops that must have committed and from every poll
 * pair, then its dense index. Negative offsets are left out, as Jepsen's vector log does.
 */
export function buildLogs(ops: readonly KafkaOp[], okReads: ValuesByKey, ticker: DeadlineTicker): Logs {
  const raw = new Map<string, Map<number, Set<ValueKey>>>();
  const record = (key: string, offset: number | null, vk: ValueKey): void => {
    if (offset === null || offset < 0) return;
    let log = raw.get(key);
    if (!log) raw.set(key, (log = new Map()));
    let values = log.get(offset);
    if (!values) log.set(offset, (values = new Set()));
    values.add(vk);
  };
  for (const kop of ops) {
    ticker.tick();
    if (kop.op.type === 'invoke') continue;
    if (kop.writes && mustHaveCommitted(kop.op, kop.writes, okReads)) {
      for (const [key, pairs] of kop.writes) for (const pair of pairs) record(key, pair.offset, pair.vk);
    }
    if (kop.reads) {
      for (const [key, pairs] of kop.reads) for (const pair of pairs) record(key, pair.offset, pair.vk);
    }
  }
  const orders = new Map<string, KeyOrder>();
  for (const [key, log] of raw) {
    ticker.tick();
    const offsets = [...log.keys()].sort((a, b) => a - b);
    const valuesAt = offsets.map((offset) => hashSetOrder(log.get(offset)!));
    const byIndex = valuesAt.map((values) => values[0]!);
    const byValue = new Map<ValueKey, number>();
    byIndex.forEach((vk, index) => byValue.set(vk, index));
    orders.set(key, { key, offsets, valuesAt, byIndex, byValue });
  }
  return { raw, orders };
}
