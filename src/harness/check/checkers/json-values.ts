// Value semantics the checkers need to agree with Maelstrom's (Clojure) checkers: equality of
// parsed JSON values, a hashable key with the same equality, and Clojure's `compare` ordering.

import type { CheckResult, Json, Op } from '../../types.js';

/** Thrown where Clojure's `compare` would throw (values of unrelated types, maps). */
export class IncomparableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncomparableError';
  }
}

function isPlainObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What valueKey returns: a primitive that Map and Set compare correctly. */
export type ValueKey = string | number | boolean | null;

function canonicalText(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalText).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalText(value[k] ?? null)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A Map/Set key that is equal for two values exactly when the values are equal as parsed JSON:
 * object key order is irrelevant, and `1` and `"1"` differ. Numbers, booleans and null are their
 * own keys (the common case stays allocation-free); strings get a leading '"' and lists/objects
 * their canonical text, which starts with '[' or '{', so the three never collide.
 */
export function valueKey(value: Json | undefined): ValueKey {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return `"${value}`;
  return canonicalText(value);
}

/** What pairKey returns: a Map/Set key for a (key, value) pair of a register or list. */
export type PairKey = string | number;

/**
 * The numeric forms of pairKey. Both parts small: key * 2^19 + value, below 2^30, an integer the
 * engine keeps unboxed (no allocation, the cheapest Map key). Else, parts below the large limits:
 * 2^30 + key * 2^32 + value, above every small form and below 2^53, so exact.
 */
const SMALL_KEY_LIMIT = 2 ** 11;
const SMALL_VALUE_LIMIT = 2 ** 19;
const LARGE_FORM_BASE = 2 ** 30;
const LARGE_KEY_LIMIT = 2 ** 20;
const LARGE_VALUE_LIMIT = 2 ** 32;

const isPairPart = (key: ValueKey, below: number): key is number => typeof key === 'number' && Number.isInteger(key) && key >= 0 && key < below;

/**
 * One key for a pair of valueKeys, equal for two pairs exactly when both parts are. Histories'
 * keys and values are mostly small whole numbers: those pairs get a number (no string to build
 * and hash, which dominated the checkers' time); any other pair gets the parts' text joined by
 * a NUL, and a string never equals a number, so the forms cannot collide.
 */
export function pairKeyOf(key: ValueKey, value: ValueKey): PairKey {
  if (isPairPart(key, SMALL_KEY_LIMIT) && isPairPart(value, SMALL_VALUE_LIMIT)) return key * SMALL_VALUE_LIMIT + value;
  if (isPairPart(key, LARGE_KEY_LIMIT) && isPairPart(value, LARGE_VALUE_LIMIT)) return LARGE_FORM_BASE + key * LARGE_VALUE_LIMIT + value;
  return `${String(key)}\u0000${String(value)}`;
}

/** pairKeyOf for parsed values. */
export function pairKey(key: Json | undefined, value: Json | undefined): PairKey {
  return pairKeyOf(valueKey(key), valueKey(value));
}

/** Equality of parsed JSON values (Clojure `=` on what Cheshire would parse). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  return valueKey(a) === valueKey(b);
}

function typeRank(value: Json): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

/**
 * Clojure's `compare` over JSON values: nil sorts first, numbers numerically, strings by UTF-16
 * code units (Java's compareTo), booleans false < true, vectors by length then element-wise.
 * Maps, and values of different types, are not comparable: Clojure throws, and so do we.
 */
export function compareValues(a: Json | undefined, b: Json | undefined): number {
  const x = a === undefined ? null : a;
  const y = b === undefined ? null : b;
  if (x === null || y === null) {
    if (x === null && y === null) return 0;
    return x === null ? -1 : 1;
  }
  const rankX = typeRank(x);
  const rankY = typeRank(y);
  if (rankX !== rankY) {
    throw new IncomparableError(`cannot compare ${JSON.stringify(x)} with ${JSON.stringify(y)}`);
  }
  if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'boolean' && typeof y === 'boolean') return x === y ? 0 : x ? 1 : -1;
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    for (let i = 0; i < x.length; i++) {
      const c = compareValues(x[i], y[i]);
      if (c !== 0) return c;
    }
    return 0;
  }
  throw new IncomparableError(`cannot compare maps: ${JSON.stringify(x)}`);
}

/** A history op as a plain JSON object, with undefined fields left out (as Jepsen prints it). */
export function opRecord(op: Op, overrides: Partial<Record<string, Json>> = {}): { [key: string]: Json } {
  const record: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(op)) {
    if (value !== undefined) record[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) record[key] = value;
  }
  return record;
}

/** True for ops of client processes (Jepsen's `client-ops`): the nemesis is left out. */
export function isClientOp(op: Op): boolean {
  return typeof op.process === 'number';
}

/**
 * Runs a checker the way Jepsen's `check-safe` does: an exception becomes an `unknown` verdict
 * carrying the error, instead of crashing the whole analysis.
 */
export function checkSafely(run: () => CheckResult): CheckResult {
  try {
    return run();
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { 'valid?': 'unknown', error: message };
  }
}
