// Test support: a tiny brute-force linearizability checker for small lin-kv histories (Wing & Gong
// search with memoisation of (linearized set, register value)), per key, against a register that
// starts missing. Stricter than Maelstrom's: errors 20 and 22 are checked as observations (a read
// that says "missing" must see a missing key), because a correct store satisfies that too.

import type { Json } from '../lib/index.js';
import { canonicalJson, jsonEquals } from './kv.js';
import type { HistoryOp } from './sim.js';

const missing = Symbol('missing');
type Value = Json | typeof missing;

interface CheckOp {
  op: HistoryOp;
  required: boolean;
  invokeMs: number;
  completeMs: number;
}

/** Applies op to value; undefined when the op's observed result is impossible from value. */
function step(value: Value, entry: HistoryOp): Value | undefined {
  const { op } = entry;
  const unknown = entry.outcome !== 'ok';
  switch (op.f) {
    case 'read':
      if (unknown) return value;
      if (entry.code === 20) return value === missing ? value : undefined;
      return value !== missing && jsonEquals(value, entry.value as Json) ? value : undefined;
    case 'write':
      return op.value;
    case 'cas': {
      const matches = value !== missing && jsonEquals(value, op.from);
      if (unknown) return matches ? op.to : value;
      if (entry.code === 20) return value === missing ? value : undefined;
      if (entry.code === 22) return value !== missing && !matches ? value : undefined;
      return matches ? op.to : undefined;
    }
  }
}

export interface CheckResult {
  valid: boolean;
  /** the key that could not be linearized */
  key?: string;
}

export function checkLinearizable(history: readonly HistoryOp[], budget = 2_000_000): CheckResult {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    if (op.outcome === 'fail') continue; // definitely did not happen
    const key = canonicalJson(op.op.key);
    const list = byKey.get(key) ?? [];
    list.push(op);
    byKey.set(key, list);
  }
  for (const [key, ops] of byKey) {
    if (!checkKey(ops, budget)) return { valid: false, key };
  }
  return { valid: true };
}

function checkKey(history: HistoryOp[], budget: number): boolean {
  const ops: CheckOp[] = history
    // An unknown read has no effect and constrains nothing.
    .filter((op) => op.outcome === 'ok' || op.op.f !== 'read')
    .map((op) => ({
      op,
      required: op.outcome === 'ok',
      invokeMs: op.invokeMs,
      completeMs: op.outcome === 'ok' ? (op.completeMs as number) : Infinity,
    }));
  if (ops.length > 128) throw new Error(`too many ops on one key for the brute-force checker: ${ops.length}`);
  const requiredCount = ops.filter((op) => op.required).length;
  const seen = new Set<string>();
  let explored = 0;

  const search = (done: bigint, doneRequired: number, value: Value): boolean => {
    if (doneRequired === requiredCount) return true;
    const memo = `${done}:${value === missing ? '-' : canonicalJson(value)}`;
    if (seen.has(memo)) return false;
    seen.add(memo);
    if (++explored > budget) throw new Error('linearizability check over budget');
    let horizon = Infinity;
    for (let k = 0; k < ops.length; k++) {
      if ((done & (1n << BigInt(k))) === 0n) horizon = Math.min(horizon, (ops[k] as CheckOp).completeMs);
    }
    for (let k = 0; k < ops.length; k++) {
      const candidate = ops[k] as CheckOp;
      if ((done & (1n << BigInt(k))) !== 0n || candidate.invokeMs > horizon) continue;
      const next = step(value, candidate.op);
      if (next === undefined) continue;
      if (search(done | (1n << BigInt(k)), doneRequired + (candidate.required ? 1 : 0), next)) return true;
    }
    return false;
  };
  return search(0n, 0, missing);
}
