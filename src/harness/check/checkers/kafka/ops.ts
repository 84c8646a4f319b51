// The kafka checker's view of history operations: client ops only, each with the messages it
// sent and polled per key (Jepsen's op-writes / op-reads), and invocations paired with their
// completions.

import type { Json, Op } from '../../../types.js';
import { isClientOp, valueKey, type ValueKey } from '../json-values.js';

/** One message at one (possibly unknown) offset. */
export interface Pair {
  offset: number | null;
  value: Json;
  /** Map/Set key of value */
  vk: ValueKey;
}

export interface KafkaOp {
  op: Op;
  /** position in the client-op array */
  position: number;
  /** key → messages sent (f send/txn), in mop order; null when none or an invocation */
  writes: Map<string, Pair[]> | null;
  /** key → messages polled (f poll/txn), in pair order; null when none or an invocation */
  reads: Map<string, Pair[]> | null;
}

function isArray(value: Json | undefined): value is Json[] {
  return Array.isArray(value);
}

function asOffset(value: Json | undefined): number | null {
  return typeof value === 'number' ? value : null;
}

function keyText(key: Json | undefined): string {
  return typeof key === 'string' ? key : JSON.stringify(key ?? null);
}

function opWrites(op: Op): Map<string, Pair[]> | null {
  if ((op.f !== 'send' && op.f !== 'txn') || !isArray(op.value)) return null;
  let writes: Map<string, Pair[]> | null = null;
  for (const mop of op.value) {
    if (!isArray(mop) || mop[0] !== 'send') continue;
    const key = keyText(mop[1]);
    const sent = mop[2];
    const pair: Pair = isArray(sent)
      ? { offset: asOffset(sent[0]), value: sent[1] ?? null, vk: valueKey(sent[1]) }
      : { offset: null, value: sent ?? null, vk: valueKey(sent) };
    writes ??= new Map();
    const list = writes.get(key);
    if (list) list.push(pair);
    else writes.set(key, [pair]);
  }
  return writes;
}

function opReads(op: Op): Map<string, Pair[]> | null {
  if ((op.f !== 'poll' && op.f !== 'txn') || !isArray(op.value)) return null;
  let reads: Map<string, Pair[]> | null = null;
  for (const mop of op.value) {
    if (!isArray(mop) || mop[0] !== 'poll' || mop.length < 2) continue;
    const polled = mop[1];
    if (typeof polled !== 'object' || polled === null || isArray(polled)) continue;
    for (const [key, pairs] of Object.entries(polled)) {
      reads ??= new Map();
      let list = reads.get(key);
      if (!list) {
        list = [];
        reads.set(key, list);
      }
      if (!isArray(pairs)) continue;
      for (const pair of pairs) {
        if (!isArray(pair)) continue;
        list.push({ offset: asOffset(pair[0]), value: pair[1] ?? null, vk: valueKey(pair[1]) });
      }
    }
  }
  return reads;
}

export interface ClientHistory {
  ops: KafkaOp[];
  /** position of an invocation → position of its completion (-1: none), and back */
  completionOf: Int32Array;
  invocationOf: Int32Array;
}

/** Client ops with their parsed writes/reads, invocations paired per process. */
export function clientHistory(history: readonly Op[]): ClientHistory {
  const ops: KafkaOp[] = [];
  for (const op of history) {
    if (!isClientOp(op)) continue;
    // Invocations carry no offsets or poll results, and every check ignores their writes/reads.
    const completed = op.type !== 'invoke';
    ops.push({ op, position: ops.length, writes: completed ? opWrites(op) : null, reads: completed ? opReads(op) : null });
  }
  const completionOf = new Int32Array(ops.length).fill(-1);
  const invocationOf = new Int32Array(ops.length).fill(-1);
  const pending = new Map<number, number>();
  for (const { op, position } of ops) {
    const process = op.process as number;
    if (op.type === 'invoke') {
      pending.set(process, position);
    } else {
      const invocation = pending.get(process);
      if (invocation !== undefined) {
        completionOf[invocation] = position;
        invocationOf[position] = invocation;
        pending.delete(process);
      }
    }
  }
  return { ops, completionOf, invocationOf };
}

/** Decodes a ValueKey back into the JSON value it stands for. */
export function valueOf(vk: ValueKey): Json {
  if (typeof vk !== 'string') return vk;
  if (vk.startsWith('"')) return vk.slice(1);
  return JSON.parse(vk) as Json;
}
