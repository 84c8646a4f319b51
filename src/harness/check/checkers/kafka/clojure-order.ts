// Clojure's iteration order for hash maps and hash sets, so that where Jepsen's kafka checker
// takes "the first" element of a set or concatenates per-key results in map order, we pick the
// same one. A Clojure hash map/set is a hash array mapped trie: entries come out ordered by the
// 5-bit chunks of their 32-bit `hasheq`, least significant chunk first. Array maps (at most 8
// entries, built by assoc) keep insertion order instead.

import type { ValueKey } from '../json-values.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK1(k: number): number {
  let k1 = Math.imul(k, C1);
  k1 = (k1 << 15) | (k1 >>> 17);
  return Math.imul(k1, C2);
}

function mixH1(h: number, k1: number): number {
  let h1 = h ^ k1;
  h1 = (h1 << 13) | (h1 >>> 19);
  return (Math.imul(h1, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, length: number): number {
  let h1 = h ^ length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1;
}

/** Clojure's Murmur3.hashInt. */
export function murmurHashInt(input: number): number {
  if (input === 0) return 0;
  return fmix(mixH1(0, mixK1(input | 0)), 4);
}

/** Clojure's Murmur3.hashLong, the `hash` of a Long. */
export function murmurHashLong(input: number): number {
  if (input === 0) return 0;
  const big = BigInt(input);
  const low = Number(BigInt.asIntN(32, big));
  const high = Number(BigInt.asIntN(32, big >> 32n));
  let h1 = mixH1(0, mixK1(low));
  h1 = mixH1(h1, mixK1(high));
  return fmix(h1, 8);
}

/** Java's String.hashCode. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Clojure's `hash` of a string: Murmur3 over Java's hashCode. */
export function clojureStringHash(s: string): number {
  return murmurHashInt(javaStringHash(s));
}

/** Clojure's `hash` of a parsed JSON value, as far as the kafka workload needs (longs, strings). */
export function clojureHash(value: ValueKey): number {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? murmurHashLong(value) : murmurHashInt(javaStringHash(String(value)));
  }
  if (typeof value === 'boolean') return value ? 1231 : 1237;
  if (value === null) return 0;
  // valueKey prefixes strings with '"'; lists and maps have no Long/String hash we need
  return clojureStringHash(value.startsWith('"') ? value.slice(1) : value);
}

/** Position in a hash trie's iteration: the 5-bit chunks of the hash, lowest first. */
export function trieOrderKey(hash: number): number {
  const h = hash >>> 0;
  let key = 0;
  for (let shift = 0; shift < 35; shift += 5) key = key * 32 + ((h >>> shift) & 31);
  return key;
}

const orderKeyCache = new Map<ValueKey, number>();

/** trieOrderKey of a value's Clojure hash, memoised (values repeat a lot: per-key messages 1..16). */
export function valueOrderKey(value: ValueKey): number {
  let key = orderKeyCache.get(value);
  if (key === undefined) {
    key = trieOrderKey(clojureHash(value));
    if (orderKeyCache.size > 100_000) orderKeyCache.clear();
    orderKeyCache.set(value, key);
  }
  return key;
}

/** The values of a Clojure hash set, in its iteration order. */
export function hashSetOrder<T extends ValueKey>(values: Iterable<T>): T[] {
  return [...values].sort((a, b) => valueOrderKey(a) - valueOrderKey(b));
}

/** Largest map Clojure keeps as an insertion-ordered array map when built by assoc. */
export const ARRAY_MAP_MAX = 8;

const keyOrderCache = new Map<string, number>();

/** trieOrderKey of a string key's Clojure hash, memoised. */
export function stringOrderKey(key: string): number {
  let order = keyOrderCache.get(key);
  if (order === undefined) {
    order = trieOrderKey(clojureStringHash(key));
    if (keyOrderCache.size > 100_000) keyOrderCache.clear();
    keyOrderCache.set(key, order);
  }
  return order;
}

/** Trie order of string keys (a Clojure hash map with more than 8 entries). */
export function stringHashOrder(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => stringOrderKey(a) - stringOrderKey(b));
}

/**
 * String keys of a Clojure map built by assoc-ing them in the given order: insertion order for
 * an array map (≤ 8 entries), trie order otherwise.
 */
export function stringMapOrder(keysInInsertionOrder: readonly string[]): string[] {
  if (keysInInsertionOrder.length <= ARRAY_MAP_MAX) return [...keysInInsertionOrder];
  return stringHashOrder(keysInInsertionOrder);
}

/** The same for integer keys (process ids). */
export function integerMapOrder(keysInInsertionOrder: readonly number[]): number[] {
  if (keysInInsertionOrder.length <= ARRAY_MAP_MAX) return [...keysInInsertionOrder];
  return hashSetOrder(keysInInsertionOrder);
}

/** Values (ValueKeys) of a Clojure map built by assoc, e.g. `frequencies`. */
export function valueMapOrder<T extends ValueKey>(keysInInsertionOrder: readonly T[]): T[] {
  if (keysInInsertionOrder.length <= ARRAY_MAP_MAX) return [...keysInInsertionOrder];
  return hashSetOrder(keysInInsertionOrder);
}
