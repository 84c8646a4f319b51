// Maelstrom's lin-kv checker: Jepsen's independent checker over Knossos' linearizability check of
// a compare-and-set register starting at null, one key at a time (P-compositionality: a history is
// linearizable exactly when every key's sub-history is). The search is Wing & Gong's with Lowe's
// memo, the way Porcupine runs it (see linearizable/search.ts), under a time and a memory budget
// that answer `unknown` with the reason instead of hanging.
//
// Per key the result has Knossos' shape ({valid?, linearizable: {...}, timeline: {valid? true}}),
// plus our `explanation` for a key that is not linearizable. Keys are independent plain-data
// tasks, so a caller may run checkRegisterKey for several keys in worker threads.

import type { CheckResult, Json, Op, Validity } from '../../types.js';
import { compareValues, isClientOp } from './json-values.js';
import { prepareHistory } from './linearizable/prepare.js';
import { invalidReport, validAnalysis, type Explanation, type LinearizableAnalysis } from './linearizable/report.js';
import { searchLinearization } from './linearizable/search.js';

export type { Bar, Explanation, LinearizableAnalysis } from './linearizable/report.js';

export interface LinearizableOptions {
  /** Date.now() value; past it a key's search stops and answers unknown with the reason */
  deadlineMs?: number;
  /** bound on one key's memo of configurations (default 512 MB); beyond it the key is unknown */
  maxCacheBytes?: number;
  /** the key this sub-history belongs to, named in the explanation (checkLinKv sets it) */
  key?: Json;
}

export const DEFAULT_MAX_CACHE_BYTES = 512 * 2 ** 20;

export type KeyResult = {
  'valid?': Validity;
  linearizable?: LinearizableAnalysis;
  timeline?: { 'valid?': true };
  /** ours: why the key is not linearizable, for the report */
  explanation?: Explanation;
  /** set instead of the rest when the sub-history could not be checked at all (Jepsen's check-safe) */
  error?: string;
};

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** One key's check: `ops` is that key's sub-history with values already unwrapped from [k, v]. */
export function checkRegisterKey(ops: readonly Op[], options: LinearizableOptions = {}): KeyResult {
  const deadlineMs = options.deadlineMs ?? Number.POSITIVE_INFINITY;
  const timeline = { 'valid?': true } as const;
  if (Date.now() > deadlineMs) {
    const cause = 'time budget exhausted before this key was checked';
    return { 'valid?': 'unknown', linearizable: { 'valid?': 'unknown', cause }, timeline };
  }
  try {
    const prepared = prepareHistory(ops);
    const outcome = searchLinearization(prepared, {
      deadlineMs,
      maxCacheWords: Math.floor((options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES) / 4),
    });
    switch (outcome.kind) {
      case 'valid':
        return { 'valid?': true, linearizable: validAnalysis(prepared, outcome.order, outcome.finalState), timeline };
      case 'unknown':
        return { 'valid?': 'unknown', linearizable: { 'valid?': 'unknown', cause: outcome.cause }, timeline };
      case 'invalid': {
        const report = invalidReport(ops, prepared, outcome.cache, outcome.blockedCall, options.key ?? null);
        return { 'valid?': false, linearizable: report.analysis, timeline, explanation: report.explanation };
      }
    }
  } catch (err) {
    return { 'valid?': 'unknown', error: errorText(err) };
  }
}

/** The key of an op whose value is a [k, v] tuple; undefined for everything else. */
function tupleKey(op: Op): Json | undefined {
  // Jepsen tells tuples apart by type; in JSON only client ops carry them (a nemesis value such
  // as ["isolated", {...}] is a plain pair, and must go to every key like any other non-tuple op).
  if (!isClientOp(op) || !Array.isArray(op.value) || op.value.length !== 2) return undefined;
  return op.value[0] ?? null;
}

function keyText(key: Json): string {
  return JSON.stringify(key);
}

/**
 * Jepsen's subhistories: the history of key k holds k's tuple ops with the value unwrapped to v,
 * and every op that is not a tuple (nemesis ops), in history order. Keys as JSON text.
 */
export function splitByKey(history: readonly Op[]): Map<string, Op[]> {
  const keys = new Set<string>();
  for (const op of history) {
    const key = tupleKey(op);
    if (key !== undefined) keys.add(keyText(key));
  }
  const byKey = new Map<string, Op[]>([...keys].map((k) => [k, []]));
  for (const op of history) {
    const key = tupleKey(op);
    if (key === undefined) {
      for (const ops of byKey.values()) ops.push(op);
      continue;
    }
    const value = (op.value as Json[])[1] ?? null;
    byKey.get(keyText(key))!.push({ ...op, value });
  }
  return byKey;
}

/** Jepsen's merge-valid: false beats unknown beats true. */
export function mergeValidity(values: Iterable<Validity>): Validity {
  let merged: Validity = true;
  for (const value of values) {
    if (value === false) return false;
    if (value === 'unknown') merged = 'unknown';
  }
  return merged;
}

function compareKeys(a: Json, b: Json): number {
  try {
    return compareValues(a, b);
  } catch {
    const x = keyText(a);
    const y = keyText(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
}

export function keyResultJson(result: KeyResult): { [key: string]: Json } {
  const json: { [key: string]: Json } = { 'valid?': result['valid?'] };
  if (result.linearizable !== undefined) json.linearizable = result.linearizable;
  if (result.timeline !== undefined) json.timeline = result.timeline;
  if (result.explanation !== undefined) json.explanation = result.explanation;
  if (result.error !== undefined) json.error = result.error;
  return json;
}

/** One key's sub-history, as splitByKey makes them, with the key parsed back from its text. */
export interface KeyTask {
  key: Json;
  ops: Op[];
}

/** The keys' sub-histories in Jepsen's order (sorted by key): the independent tasks of a check. */
export function keyTasks(history: readonly Op[]): KeyTask[] {
  return [...splitByKey(history)]
    .map(([text, ops]) => ({ key: JSON.parse(text) as Json, ops }))
    .sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * Assembles per-key results (in keyTasks order) into the workload result: {valid?, results,
 * failures: keys whose valid? is false} (unknown keys are not failures, as in Jepsen).
 */
export function linKvResult(perKey: ReadonlyArray<{ key: Json; result: KeyResult }>): CheckResult {
  const results: { [key: string]: Json } = {};
  const failures: Json[] = [];
  for (const { key, result } of perKey) {
    // results.json names keys by their text, as Cheshire prints a map key: "0", not 0
    results[typeof key === 'string' ? key : keyText(key)] = keyResultJson(result);
    if (result['valid?'] === false) failures.push(key);
  }
  return { 'valid?': mergeValidity(perKey.map(({ result }) => result['valid?'])), results, failures };
}

/** Maelstrom's whole `workload` result for lin-kv, checking the keys one after another. */
export function checkLinKv(history: readonly Op[], options: LinearizableOptions = {}): CheckResult {
  return linKvResult(keyTasks(history).map(({ key, ops }) => ({ key, result: checkRegisterKey(ops, { ...options, key }) })));
}
