// The kafka checker's error finders (docs/checkers.md §2.2), each returning cases in the order
// Jepsen produces them. A case renders lazily, because skip cases can list long runs of skipped
// messages and Maelstrom only prints a few of them.

import type { Json, Op } from '../../../types.js';
import { opRecord, type ValueKey } from '../json-values.js';
import { hashSetOrder, integerMapOrder, stringHashOrder, stringMapOrder, valueMapOrder } from './clojure-order.js';
import type { DeadlineTicker } from './cycles.js';
import { valueOf, type KafkaOp, type Pair } from './ops.js';
import { mustHaveCommitted, type Derived, type KeyOrder, type Logs } from './version-orders.js';

export interface KafkaCase {
  key: string;
  /** the field Maelstrom sorts this type's errs by (delta, count, number of values, steps) */
  sortBy: number;
  /** raw offsets involved, for the report */
  offsets: number[];
  /** history indices of the ops involved, for the report */
  opIndices: number[];
  render(): { [key: string]: Json };
  describe(): string;
}

/** Thrown where Jepsen throws (the result becomes unknown). */
export class KafkaAnalysisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaAnalysisError';
  }
}

const show = (vk: ValueKey | undefined): string => JSON.stringify(vk === undefined ? null : valueOf(vk));
const json = (vk: ValueKey | undefined): Json => (vk === undefined ? null : valueOf(vk));
const record = (op: Op | undefined): Json => (op ? opRecord(op) : null);

function offsetsOf(order: KeyOrder | undefined, indices: readonly (number | undefined)[]): number[] {
  if (!order) return [];
  return indices.filter((i): i is number => i !== undefined && i >= 0).map((i) => order.offsets[i]!);
}

/** Keys of the logs map in Jepsen's iteration order. */
function logKeys(logs: Logs): string[] {
  return stringMapOrder([...logs.raw.keys()]);
}

export function inconsistentOffsets(logs: Logs): KafkaCase[] {
  const cases: KafkaCase[] = [];
  for (const key of logKeys(logs)) {
    const order = logs.orders.get(key)!;
    order.valuesAt.forEach((values, index) => {
      if (values.length < 2) return;
      const offset = order.offsets[index]!;
      cases.push({
        key,
        sortBy: values.length,
        offsets: [offset],
        opIndices: [],
        render: () => ({ key, offset, index, values: sortedValues(values) }),
        describe: () =>
          `Offset ${offset} of key ${key} holds ${values.length} different messages (${sortedValues(values)
            .map((v) => JSON.stringify(v))
            .join(', ')}), so its log does not look the same to everyone.`,
      });
    });
  }
  return cases;
}

function sortedValues(values: readonly ValueKey[]): Json[] {
  return values.map(valueOf).sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
}

export function duplicates(logs: Logs): KafkaCase[] {
  const cases: KafkaCase[] = [];
  for (const key of logKeys(logs)) {
    const order = logs.orders.get(key)!;
    const offsetsOfValue = new Map<ValueKey, number[]>();
    order.valuesAt.forEach((values, index) => {
      for (const vk of values) {
        const list = offsetsOfValue.get(vk);
        if (list) list.push(order.offsets[index]!);
        else offsetsOfValue.set(vk, [order.offsets[index]!]);
      }
    });
    for (const vk of valueMapOrder([...offsetsOfValue.keys()])) {
      const offsets = offsetsOfValue.get(vk)!;
      if (offsets.length < 2) continue;
      cases.push({
        key,
        sortBy: offsets.length,
        offsets,
        opIndices: [],
        render: () => ({ key, value: json(vk), count: offsets.length, offsets }),
        describe: () => `Message ${show(vk)} appears ${offsets.length} times in key ${key}, at offsets ${offsets.join(', ')}.`,
      });
    }
  }
  return cases;
}

export function g1a(ops: readonly KafkaOp[], derived: Derived): KafkaCase[] {
  const cases: KafkaCase[] = [];
  for (const reader of ops) {
    if (reader.op.type !== 'ok' || !reader.reads) continue;
    for (const [key, pairs] of reader.reads) {
      const failed = derived.failedWrites.get(key);
      if (!failed) continue;
      for (const pair of pairs) {
        if (!failed.has(pair.vk)) continue;
        const writer = derived.writerOf.get(key)?.get(pair.vk);
        cases.push({
          key,
          sortBy: 0,
          offsets: pair.offset === null ? [] : [pair.offset],
          opIndices: [writer?.op.index, reader.op.index].filter((i): i is number => i !== undefined),
          render: () => ({ key, value: pair.value, writer: record(writer?.op), reader: record(reader.op) }),
          describe: () =>
            `Op ${reader.op.index} polled message ${JSON.stringify(pair.value)} from key ${key}, but the send of it (op ${writer?.op.index}) failed.`,
        });
      }
    }
  }
  return cases;
}

/** Lost writes. Where Jepsen indexes its vector with -1 and crashes (maelstrom #98), we skip the key. */
export function lostWrites(logs: Logs, derived: Derived, ticker: DeadlineTicker): KafkaCase[] {
  const cases: KafkaCase[] = [];
  for (const key of stringMapOrder(derived.okReadKeys)) {
    ticker.tick();
    const read = derived.okReads.get(key)!;
    const order = logs.orders.get(key);
    if (!order) continue;
    const firstIndex = new Map<ValueKey, number>();
    const lastIndex = new Map<ValueKey, number>();
    order.valuesAt.forEach((values, index) => {
      for (const vk of values) {
        if (!firstIndex.has(vk)) firstIndex.set(vk, index);
        lastIndex.set(vk, index);
      }
    });
    let bound = -1;
    for (const vk of read) {
      const index = firstIndex.get(vk);
      if (index !== undefined && index > bound) bound = index;
    }
    if (bound < 0) continue;
    const lastAt: ValueKey[][] = [];
    for (const [vk, index] of lastIndex) if (index <= bound) (lastAt[index] ??= []).push(vk);
    const mustRead: ValueKey[] = [];
    for (let index = 0; index <= bound; index++) if (lastAt[index]) mustRead.push(...hashSetOrder(lastAt[index]!));
    const atBound = lastAt[bound] ? hashSetOrder(lastAt[bound]!)[0] : undefined;
    const maxRead = atBound === undefined ? undefined : derived.readersOf.get(key)?.get(atBound)?.[0];
    for (const vk of mustRead) {
      if (read.has(vk)) continue;
      const writer = derived.writerOf.get(key)?.get(vk);
      if (!writer) throw new KafkaAnalysisError(`no writer of value ${show(vk)} in key ${key} (lost-write check)`);
      if (!mustHaveCommitted(writer.op, writer.writes, derived.okReads)) continue;
      const index = firstIndex.get(vk)!;
      cases.push({
        key,
        sortBy: 0,
        offsets: offsetsOf(order, [index, bound]),
        opIndices: [writer.op.index, maxRead?.op.index].filter((i): i is number => i !== undefined),
        render: () => ({
          key,
          value: json(vk),
          index,
          'max-read-index': bound,
          writer: record(writer.op),
          'max-read': record(maxRead?.op),
        }),
        describe: () =>
          `Message ${show(vk)} of key ${key} (offset ${order.offsets[index]}) was acknowledged (op ${writer.op.index}) but no poll returned it, although op ${maxRead?.op.index ?? '?'} polled up to offset ${order.offsets[bound]}.`,
      });
    }
  }
  return cases;
}

/** delta between two messages' dense indices; 1 (no error) when either is unknown. */
function deltaOf(order: KeyOrder | undefined, v1: ValueKey | undefined, v2: ValueKey | undefined): [number, number | undefined, number | undefined] {
  const i1 = v1 === undefined ? undefined : order?.byValue.get(v1);
  const i2 = v2 === undefined ? undefined : order?.byValue.get(v2);
  return [i1 !== undefined && i2 !== undefined ? i2 - i1 : 1, i1, i2];
}

function skipped(order: KeyOrder | undefined, i1: number | undefined, i2: number | undefined): Json[] {
  if (!order || i1 === undefined || i2 === undefined) return [];
  return order.byIndex.slice(i1 + 1, i2).map(valueOf);
}

export interface SkipCases {
  skip: KafkaCase[];
  nonmonotonic: KafkaCase[];
}

export function internalPollCases(ops: readonly KafkaOp[], logs: Logs): SkipCases {
  const result: SkipCases = { skip: [], nonmonotonic: [] };
  for (const kop of ops) {
    if (!kop.reads) continue;
    const rebalanced = rebalancedKeys(kop.op);
    for (const [key, pairs] of kop.reads) {
      if (rebalanced.has(key)) continue;
      const order = logs.orders.get(key);
      let previous: Pair | undefined;
      let previousIndex: number | undefined;
      for (const pair of pairs) {
        const i2 = order?.byValue.get(pair.vk);
        const i1 = previousIndex;
        const delta = i1 !== undefined && i2 !== undefined ? i2 - i1 : 1;
        const v1 = previous;
        if (delta !== 1 && v1) {
          const isSkip = delta > 1;
          const offsets = offsetsOf(order, [i1, i2]);
          (isSkip ? result.skip : result.nonmonotonic).push({
            key,
            sortBy: delta,
            offsets,
            opIndices: [kop.op.index],
            render: () => ({
              key,
              values: [v1.value, pair.value],
              delta,
              ...(isSkip ? { skipped: skipped(order, i1, i2) } : {}),
              op: record(kop.op),
            }),
            describe: () =>
              isSkip
                ? `Op ${kop.op.index} polled ${JSON.stringify(v1.value)} then ${JSON.stringify(pair.value)} from key ${key}, skipping ${delta - 1} message(s) in between.`
                : `Op ${kop.op.index} polled ${JSON.stringify(v1.value)} then ${JSON.stringify(pair.value)} from key ${key}, going backwards (or repeating) in the log.`,
          });
        }
        previous = pair;
        previousIndex = i2;
      }
    }
  }
  return result;
}

function rebalancedKeys(op: Op): Set<string> {
  const log = op['rebalance-log'];
  const keys = new Set<string>();
  if (!Array.isArray(log)) return keys;
  for (const entry of log) {
    if (entry && typeof entry === 'object' && !Array.isArray(entry) && Array.isArray(entry.keys)) {
      for (const key of entry.keys) keys.add(typeof key === 'string' ? key : JSON.stringify(key));
    }
  }
  return keys;
}

/** Client ops grouped by process, in Jepsen's group-by map order. */
export function byProcess(ops: readonly KafkaOp[]): KafkaOp[][] {
  const groups = new Map<number, KafkaOp[]>();
  for (const kop of ops) {
    const process = kop.op.process as number;
    const group = groups.get(process);
    if (group) group.push(kop);
    else groups.set(process, [kop]);
  }
  return integerMapOrder([...groups.keys()]).map((process) => groups.get(process)!);
}

/** Keeps only the listed keys (ok/info assign or subscribe), as select-keys does. */
function selectKeys<V>(map: Map<string, V>, op: Op): Map<string, V> {
  if (op.type === 'invoke' || op.type === 'fail') return map;
  const kept = new Map<string, V>();
  if (Array.isArray(op.value)) {
    for (const key of op.value) {
      const text = typeof key === 'string' ? key : JSON.stringify(key);
      const value = map.get(text);
      if (value !== undefined) kept.set(text, value);
    }
  }
  return kept;
}

export function pollCases(processes: readonly KafkaOp[][], logs: Logs): SkipCases {
  const result: SkipCases = { skip: [], nonmonotonic: [] };
  for (const ops of processes) {
    let lastReads = new Map<string, KafkaOp>();
    for (const kop of ops) {
      const f = kop.op.f;
      if (f === 'assign' || f === 'subscribe') {
        lastReads = selectKeys(lastReads, kop.op);
        continue;
      }
      if ((f !== 'poll' && f !== 'txn') || !kop.reads) continue;
      for (const [key, pairs] of kop.reads) {
        const last = lastReads.get(key);
        if (!last) continue;
        const order = logs.orders.get(key);
        const lastPairs = last.reads!.get(key)!;
        const v = lastPairs[lastPairs.length - 1];
        const v2 = pairs[0];
        const [delta, i, i2] = deltaOf(order, v?.vk, v2?.vk);
        if (delta === 1) continue;
        const isSkip = delta > 1;
        (isSkip ? result.skip : result.nonmonotonic).push({
          key,
          sortBy: delta,
          offsets: offsetsOf(order, [i, i2]),
          opIndices: [last.op.index, kop.op.index],
          render: () => ({
            key,
            delta,
            ...(isSkip ? { skipped: skipped(order, i, i2) } : { values: [v?.value ?? null, v2?.value ?? null] }),
            ops: [record(last.op), record(kop.op)],
          }),
          describe: () =>
            isSkip
              ? `Process ${kop.op.process} polled key ${key} up to ${JSON.stringify(v?.value)} (op ${last.op.index}), then its next poll (op ${kop.op.index}) started at ${JSON.stringify(v2?.value)}, skipping ${delta - 1} message(s).`
              : `Process ${kop.op.process} polled key ${key} up to ${JSON.stringify(v?.value)} (op ${last.op.index}), then its next poll (op ${kop.op.index}) went back to ${JSON.stringify(v2?.value)}.`,
        });
      }
      if (kop.op.type === 'ok') for (const key of kop.reads.keys()) lastReads.set(key, kop);
    }
  }
  return result;
}

export function nonmonotonicSends(processes: readonly KafkaOp[][], logs: Logs): KafkaCase[] {
  const cases: KafkaCase[] = [];
  for (const ops of processes) {
    let lastSends = new Map<string, KafkaOp>();
    for (const kop of ops) {
      if (kop.op.type !== 'ok' && kop.op.type !== 'info') continue;
      const f = kop.op.f;
      if (f === 'assign' || f === 'subscribe') {
        lastSends = selectKeys(lastSends, kop.op);
        continue;
      }
      if ((f !== 'send' && f !== 'txn') || !kop.writes) continue;
      for (const [key, pairs] of kop.writes) {
        const last = lastSends.get(key);
        if (!last) continue;
        const order = logs.orders.get(key);
        const lastPairs = last.writes!.get(key)!;
        const v = lastPairs[lastPairs.length - 1]!;
        const v2 = pairs[0]!;
        const [delta, i, i2] = deltaOf(order, v.vk, v2.vk);
        if (delta >= 1) continue;
        cases.push({
          key,
          sortBy: delta,
          offsets: offsetsOf(order, [i, i2]),
          opIndices: [last.op.index, kop.op.index],
          render: () => ({ key, values: [v.value, v2.value], delta, ops: [record(last.op), record(kop.op)] }),
          describe: () =>
            `Process ${kop.op.process} sent ${JSON.stringify(v.value)} (op ${last.op.index}) then ${JSON.stringify(v2.value)} (op ${kop.op.index}) to key ${key}, but the second landed at or before the first in the log.`,
        });
      }
      for (const key of kop.writes.keys()) lastSends.set(key, kop);
    }
  }
  return cases;
}

export { stringHashOrder };

/**
 * Pairs of sends to one key inside one op (txn ops only: Maelstrom's ops carry one micro-op, so
 * these never occur there). int-send-skip is allowed; int-nonmonotonic-send is not.
 */
export function internalSendCases(ops: readonly KafkaOp[], logs: Logs): SkipCases {
  const result: SkipCases = { skip: [], nonmonotonic: [] };
  for (const kop of ops) {
    if (!kop.writes) continue;
    for (const [key, pairs] of kop.writes) {
      const order = logs.orders.get(key);
      for (let j = 1; j < pairs.length; j++) {
        const v1 = pairs[j - 1]!;
        const v2 = pairs[j]!;
        const [delta, i1, i2] = deltaOf(order, v1.vk, v2.vk);
        if (delta === 1) continue;
        const isSkip = delta > 1;
        (isSkip ? result.skip : result.nonmonotonic).push({
          key,
          sortBy: delta,
          offsets: offsetsOf(order, [i1, i2]),
          opIndices: [kop.op.index],
          render: () => ({
            key,
            values: [v1.value, v2.value],
            delta,
            ...(isSkip ? { skipped: skipped(order, i1, i2) } : {}),
            op: record(kop.op),
          }),
          describe: () =>
            `Op ${kop.op.index} sent ${JSON.stringify(v1.value)} then ${JSON.stringify(v2.value)} to key ${key}, which landed ${isSkip ? `${delta - 1} message(s) apart` : 'out of order'} in the log.`,
        });
      }
    }
  }
  return result;
}

/** An op that polled a message it sent itself (txn ops only). */
export function precommittedReads(ops: readonly KafkaOp[]): KafkaCase[] {
  const cases: KafkaCase[] = [];
  for (const kop of ops) {
    if (!kop.writes || !kop.reads) continue;
    for (const [key, pairs] of kop.writes) {
      const read = new Set((kop.reads.get(key) ?? []).map((pair) => pair.vk));
      const bad = hashSetOrder(pairs.map((pair) => pair.vk).filter((vk) => read.has(vk)));
      if (bad.length === 0) continue;
      const vk = bad[0]!;
      cases.push({
        key,
        sortBy: 0,
        offsets: [],
        opIndices: [kop.op.index],
        render: () => ({ op: record(kop.op), key, value: json(vk) }),
        describe: () => `Op ${kop.op.index} polled message ${show(vk)} of key ${key} that it sent itself, before committing.`,
      });
      break;
    }
  }
  return cases;
}
