// Maelstrom's counter checker (g-counter and pn-counter share it): every final read must equal
// the sum of the adds known to have happened plus the deltas of any subset of the adds whose
// outcome is unknown.

import type { CheckResult, Json, Op } from '../../types.js';
import { checkSafely, opRecord } from './json-values.js';

/** An inclusive run of consecutive integers. */
export type Interval = readonly [lo: number, hi: number];

/**
 * Past this many intervals the acceptable set is refused rather than built. The exact set can
 * need 2^k intervals for k indeterminate adds with widely spread deltas (1, 3, 9, 27, …), which
 * Maelstrom would grind through until it ran out of memory; workload deltas (|d| ≤ 5) keep the
 * set to a single interval or a handful, so the bound is only ever reached by pathological
 * histories, which get `valid? unknown` instead of hanging the analysis.
 */
export const MAX_ACCEPTABLE_INTERVALS = 100_000;

/**
 * A ∪ (A + delta) for A a sorted list of disjoint intervals that neither overlap nor touch.
 * Both operands are sorted, so one merge pass keeps the result sorted and coalesced: O(|A|).
 */
export function unionWithShift(intervals: readonly Interval[], delta: number): Interval[] {
  if (delta === 0) return [...intervals];
  const shifted = intervals.map(([lo, hi]): Interval => [lo + delta, hi + delta]);
  const merged: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < intervals.length || j < shifted.length) {
    const a = intervals[i];
    const b = shifted[j];
    let next: Interval;
    if (b === undefined || (a !== undefined && a[0] <= b[0])) {
      next = a as Interval;
      i++;
    } else {
      next = b;
      j++;
    }
    const last = merged[merged.length - 1];
    // Integers: [1,3] and [4,5] touch and become [1,5], as Maelstrom's open-range trick does.
    if (last !== undefined && next[0] <= last[1] + 1) last[1] = Math.max(last[1], next[1]);
    else merged.push([next[0], next[1]]);
  }
  return merged;
}

export function containsValue(intervals: readonly Interval[], value: number): boolean {
  let low = 0;
  let high = intervals.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [lo, hi] = intervals[mid] as Interval;
    if (value < lo) high = mid - 1;
    else if (value > hi) low = mid + 1;
    else return true;
  }
  return false;
}

function addDelta(op: Op): number {
  if (typeof op.value !== 'number' || !Number.isInteger(op.value)) {
    throw new Error(`add with a non-integer delta: ${JSON.stringify(op.value)}`);
  }
  return op.value;
}

/** The definite sum plus every subset sum of the indeterminate deltas, as merged intervals. */
export function acceptableSet(history: readonly Op[]): Interval[] {
  const adds = history.filter((op) => op.f === 'add');
  const definite = adds.filter((op) => op.type === 'ok').reduce((sum, op) => sum + addDelta(op), 0);
  let acceptable: Interval[] = [[definite, definite]];
  for (const op of adds) {
    if (op.type !== 'info') continue;
    acceptable = unionWithShift(acceptable, addDelta(op));
    if (acceptable.length > MAX_ACCEPTABLE_INTERVALS) {
      throw new Error(`acceptable set exceeds ${MAX_ACCEPTABLE_INTERVALS} intervals`);
    }
  }
  return acceptable;
}

function analyse(history: readonly Op[]): CheckResult {
  const acceptable = acceptableSet(history);
  // Maelstrom checks every ok op marked final?, whatever its f (in practice only reads are).
  const finalReads = history.filter((op) => op.type === 'ok' && op['final?'] === true);
  const errors: Json[] = [];
  for (const read of finalReads) {
    // Maelstrom asserts integer reads (the client schema guarantees them); a non-integer here
    // means a broken history, so the verdict is unknown rather than a guess.
    if (typeof read.value !== 'number' || !Number.isInteger(read.value)) {
      throw new Error(`final read with a non-integer value: ${JSON.stringify(read.value)}`);
    }
    if (!containsValue(acceptable, read.value)) errors.push(opRecord(read));
  }
  return {
    'valid?': errors.length === 0,
    errors: errors.length === 0 ? null : errors,
    'final-reads': finalReads.map((read) => read.value as number),
    acceptable: acceptable.map(([lo, hi]) => [lo, hi]),
  };
}

/**
 * The g-counter / pn-counter checker (docs/checkers.md §1). Fails, invocations and non-final
 * reads count for nothing; no final reads at all is still valid. A history it cannot judge
 * (non-integer values, an acceptable set past MAX_ACCEPTABLE_INTERVALS) gives `valid? unknown`.
 */
export function checkCounter(history: readonly Op[]): CheckResult {
  return checkSafely(() => analyse(history));
}
