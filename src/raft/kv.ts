// The replicated state machine: lin-kv's register map. Pure; keys and values are any JSON and are
// compared by value (object keys in any order are the same key).

import type { Json } from '../lib/index.js';

export type KvOp =
  | { f: 'read'; key: Json }
  | { f: 'write'; key: Json; value: Json }
  | { f: 'cas'; key: Json; from: Json; to: Json };

export type KvResult =
  | { type: 'read_ok'; value: Json }
  | { type: 'write_ok' }
  | { type: 'cas_ok' }
  | { type: 'error'; code: 20 | 22; text: string };

/** canonical key text -> value */
export type KvState = Map<string, Json>;

/** What a snapshot stores: [key, value] pairs, keys as the client sent them. */
export type KvSnapshot = Array<[Json, Json]>;

/** JSON text with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as Json)}`).join(',')}}`;
}

export function jsonEquals(a: Json, b: Json): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function applyKv(state: KvState, op: KvOp): KvResult {
  const key = canonicalJson(op.key);
  const current = state.get(key);
  switch (op.f) {
    case 'read':
      return current === undefined ? { type: 'error', code: 20, text: 'key does not exist' } : { type: 'read_ok', value: current };
    case 'write':
      state.set(key, op.value);
      return { type: 'write_ok' };
    case 'cas':
      if (current === undefined) return { type: 'error', code: 20, text: 'key does not exist' };
      if (!jsonEquals(current, op.from)) {
        return { type: 'error', code: 22, text: `expected ${canonicalJson(op.from)}, found ${canonicalJson(current)}` };
      }
      state.set(key, op.to);
      return { type: 'cas_ok' };
  }
}

export function snapshotKv(state: KvState): KvSnapshot {
  return [...state].map(([key, value]) => [JSON.parse(key) as Json, value]);
}

export function restoreKv(snapshot: KvSnapshot): KvState {
  return new Map(snapshot.map(([key, value]) => [canonicalJson(key), value]));
}
