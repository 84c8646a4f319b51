// What a txn request may carry and how much a node stores (docs/storage.md §3). A transaction past a
// limit is refused before any of it runs, so it has no effect anywhere: 12 (malformed) for its
// own shape and size, 14 (abort) when the node's state is full. Writes arriving by replication
// are not refused: each came from a peer that checked them against the same limits, so a node
// holds at most about (node count) x maxStateBytes.

import { ErrorCode, type Json } from '../lib/index.js';
import { jsonLength } from '../lib/protocol.js';
import { keyId, storedBytes, type Store } from './store.js';

export interface TxnLimits {
  /** Micro-ops in one transaction. */
  maxOpsPerTxn: number;
  /** Characters in a string key. */
  maxKeyChars: number;
  /** A written or appended value as JSON, in bytes (UTF-16 units). */
  maxValueBytes: number;
  /** Distinct keys a node holds; a transaction creating more is refused. */
  maxKeys: number;
  /** Bound on the store's size as Store.sizeBytes counts it. */
  maxStateBytes: number;
}

export const defaultTxnLimits: TxnLimits = {
  maxOpsPerTxn: 1000,
  maxKeyChars: 1024,
  maxValueBytes: 4096,
  maxKeys: 100_000,
  maxStateBytes: 256 * 1024 * 1024,
};

export interface LimitViolation {
  code: number;
  text: string;
}

/** Why a transaction is refused, or undefined; malformed micro-ops are left to parseTxn. */
export function checkTxnLimits(store: Store, raw: readonly Json[], limits: TxnLimits): LimitViolation | undefined {
  if (raw.length > limits.maxOpsPerTxn) {
    return { code: ErrorCode.MalformedRequest, text: `txn has ${raw.length} micro-ops; at most ${limits.maxOpsPerTxn}` };
  }
  const newKeys = new Set<string>();
  let growthBytes = 0;
  for (const [index, mop] of raw.entries()) {
    if (!Array.isArray(mop) || mop.length !== 3) continue;
    const [f, key, value] = mop as [Json, Json, Json];
    if (typeof key === 'string' && key.length > limits.maxKeyChars) {
      return { code: ErrorCode.MalformedRequest, text: `micro-op ${index} has a key of ${key.length} characters; at most ${limits.maxKeyChars}` };
    }
    if (f !== 'w' && f !== 'append') continue;
    const valueBytes = jsonLength(value);
    if (valueBytes > limits.maxValueBytes) {
      return { code: ErrorCode.MalformedRequest, text: `micro-op ${index} writes a value of ${valueBytes} bytes as JSON; at most ${limits.maxValueBytes}` };
    }
    if (typeof key !== 'number' && typeof key !== 'string') continue;
    const id = keyId(key);
    if (!store.registers.has(id) && !store.lists.has(id)) newKeys.add(id);
    growthBytes += storedBytes(key, value);
  }
  const keyCount = store.registers.size + store.lists.size;
  if (keyCount + newKeys.size > limits.maxKeys) {
    return { code: ErrorCode.Abort, text: `the node holds ${keyCount} keys and its limit is ${limits.maxKeys} (--max-keys); this txn adds ${newKeys.size}` };
  }
  // Counted as if every write grew the store: an overwrite may not, so this refuses early, never late.
  if (store.sizeBytes + growthBytes > limits.maxStateBytes) {
    return { code: ErrorCode.Abort, text: `the store holds ${store.sizeBytes} bytes and its limit is ${limits.maxStateBytes} (--max-state-mb)` };
  }
  return undefined;
}
