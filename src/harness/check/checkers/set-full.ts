// Jepsen's set-full checker, as Maelstrom runs it for g-set and (with broadcast counted as add)
// for broadcast. It follows every added element through the reads that complete after its add
// was invoked, and decides whether the element became stable, was lost, or was never read.

import type { CheckResult, Json, Op } from '../../types.js';
import { checkSafely, compareValues, isClientOp, opRecord, valueKey, type ValueKey } from './json-values.js';

export interface SetFullOptions {
  /** the `f` that adds an element (broadcast: "broadcast"); reported as "add" in op records */
  addF?: string;
  /** Jepsen's `:linearizable?`: stale elements make the result invalid (Maelstrom: off) */
  linearizable?: boolean;
}

/** The quantile points Jepsen reports, with the keys results.json uses for them. */
export const LATENCY_QUANTILE_POINTS: ReadonlyArray<readonly [string, number]> = [
  ['0', 0],
  ['0.5', 0.5],
  ['0.95', 0.95],
  ['0.99', 0.99],
  ['1', 1],
];

/**
 * Jepsen's frequency distribution: quantile p is sorted[min(n-1, floor(n*p))].
 * Undefined for an empty collection, where Jepsen leaves the whole key out.
 */
export function latencyQuantiles(values: readonly number[]): Record<string, number> | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const result: Record<string, number> = {};
  for (const [key, point] of LATENCY_QUANTILE_POINTS) {
    const index = Math.min(n - 1, Math.floor(n * point));
    result[key] = sorted[index] as number;
  }
  return result;
}

/** The quantiles our own workloads report (sched, timers): 0.5, 0.95, 0.99 and 1, by the same rule. */
export function reportedQuantiles(values: readonly number[]): { [point: string]: number } | null {
  const all = latencyQuantiles(values);
  if (all === undefined) return null;
  const { '0': _lowest, ...rest } = all;
  return rest;
}

/** Whole milliseconds in a non-negative nanosecond span, truncated (Jepsen: `(long (/ ns 1e6))`). */
export function nanosToWholeMs(spanNs: number): number {
  const ns = Math.max(0, spanNs);
  return (ns - (ns % 1_000_000)) / 1_000_000;
}

export interface ElementState {
  element: Json;
  /** the add's invocation */
  added?: Op;
  /** ok completion of the add, or the first ok read completion that contained the element */
  known?: Op;
  /** the latest-invoked ok read (its invocation) that contained the element */
  lastPresent?: Op;
  /** the latest-invoked ok read (its invocation) that did not contain the element */
  lastAbsent?: Op;
}

export type Outcome = 'stable' | 'lost' | 'never-read';

/** One element's fate as the checker judged it (the explanation reads these). */
export interface ElementResult {
  state: ElementState;
  outcome: Outcome;
  stableLatencyMs: number | null;
  lostLatencyMs: number | null;
}

function elementResult(state: ElementState): ElementResult {
  const { known, lastPresent, lastAbsent } = state;
  const lastAbsentIndex = lastAbsent ? lastAbsent.index : -1;
  const lastPresentIndex = lastPresent ? lastPresent.index : -1;
  const stable = lastPresent !== undefined && lastAbsentIndex < lastPresent.index;
  // An absent read only means loss once the element is known to exist, and only if that read
  // was invoked after the element became known (a concurrent read may linearize before the add).
  const lost =
    known !== undefined &&
    lastAbsent !== undefined &&
    lastPresentIndex < lastAbsent.index &&
    known.index < lastAbsent.index;
  const knownTimeNs = known ? known.time : 0;
  let stableLatencyMs: number | null = null;
  let lostLatencyMs: number | null = null;
  if (stable) {
    const stableTimeNs = lastAbsent ? lastAbsent.time + 1 : 0;
    stableLatencyMs = nanosToWholeMs(stableTimeNs - knownTimeNs);
  }
  if (lost) {
    const lostTimeNs = lastPresent ? lastPresent.time + 1 : 0;
    lostLatencyMs = nanosToWholeMs(lostTimeNs - knownTimeNs);
  }
  const outcome: Outcome = stable ? 'stable' : lost ? 'lost' : 'never-read';
  return { state, outcome, stableLatencyMs, lostLatencyMs };
}

function readElements(op: Op): Json[] {
  const value = op.value;
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new Error(`read op ${op.index} returned a non-list value: ${JSON.stringify(value)}`);
  }
  return value;
}

/** The set-full verdict (Maelstrom's keys) and every element's fate behind it; throws on a history it cannot judge. */
export function analyseSetFull(history: readonly Op[], options: SetFullOptions = {}): { result: CheckResult; elements: ElementResult[] } {
  const addF = options.addF ?? 'add';
  const asRecord = (op: Op | undefined): Json =>
    op === undefined ? null : opRecord(op, op.f === addF ? { f: 'add' } : {});

  const elements = new Map<ValueKey, ElementState>();
  const pendingInvokes = new Map<number, Op>();

  for (const op of history) {
    if (!isClientOp(op)) continue;
    const process = op.process as number;
    if (op.type === 'invoke') pendingInvokes.set(process, op);

    if (op.f === addF) {
      const key = valueKey(op.value);
      if (op.type === 'invoke') {
        // Re-adding a value starts its tracking afresh, as Jepsen does.
        elements.set(key, { element: op.value ?? null, added: op });
      } else {
        const state = elements.get(key);
        if (!state) throw new Error(`add completion ${op.index} has no invocation`);
        if (op.type === 'ok' && state.known === undefined) state.known = op;
      }
    } else if (op.f === 'read' && op.type === 'ok') {
      const invocation = pendingInvokes.get(process);
      if (!invocation) throw new Error(`read completion ${op.index} has no invocation`);
      const present = new Set(readElements(op).map((e) => valueKey(e)));
      for (const [key, state] of elements) {
        if (present.has(key)) {
          if (state.known === undefined) state.known = op;
          if (state.lastPresent === undefined || state.lastPresent.index < invocation.index) {
            state.lastPresent = invocation;
          }
        } else if (state.lastAbsent === undefined || state.lastAbsent.index < invocation.index) {
          state.lastAbsent = invocation;
        }
      }
    }
  }

  const sortedStates = [...elements.values()].sort((a, b) => compareValues(a.element, b.element));
  const results = sortedStates.map(elementResult);
  const withOutcome = (outcome: Outcome): ElementResult[] => results.filter((r) => r.outcome === outcome);
  const stable = withOutcome('stable');
  const lost = withOutcome('lost');
  const neverRead = withOutcome('never-read');
  const stale = stable.filter((r) => (r.stableLatencyMs ?? 0) > 0);
  // Stable sort by latency, then reversed: among equal latencies the larger element comes first.
  const worstStale = [...stale]
    .sort((a, b) => (a.stableLatencyMs ?? 0) - (b.stableLatencyMs ?? 0))
    .reverse()
    .slice(0, 8)
    .map((r) => ({
      element: r.state.element,
      outcome: r.outcome,
      'stable-latency': r.stableLatencyMs,
      'lost-latency': r.lostLatencyMs,
      known: asRecord(r.state.known),
      'last-absent': asRecord(r.state.lastAbsent),
    }));
  const sortedElements = (rs: ElementResult[]): Json[] =>
    rs.map((r) => r.state.element).sort(compareValues);

  let valid: boolean | 'unknown' = true;
  if (lost.length > 0) valid = false;
  else if (stable.length === 0) valid = 'unknown';
  else if (options.linearizable === true && stale.length > 0) valid = false;

  const result: CheckResult = {
    'valid?': valid,
    'attempt-count': results.length,
    'stable-count': stable.length,
    'lost-count': lost.length,
    lost: sortedElements(lost),
    'never-read-count': neverRead.length,
    'never-read': sortedElements(neverRead),
    'stale-count': stale.length,
    stale: sortedElements(stale),
    'worst-stale': worstStale,
    // Jepsen only records values read *fewer than once* as duplicates, which cannot happen, so
    // these two are constant; kept because Maelstrom's results carry them.
    'duplicated-count': 0,
    duplicated: {},
  };
  const stableLatencies = latencyQuantiles(
    results.flatMap((r) => (r.stableLatencyMs === null ? [] : [r.stableLatencyMs])),
  );
  if (stableLatencies) result['stable-latencies'] = stableLatencies;
  const lostLatencies = latencyQuantiles(
    results.flatMap((r) => (r.lostLatencyMs === null ? [] : [r.lostLatencyMs])),
  );
  if (lostLatencies) result['lost-latencies'] = lostLatencies;
  return { result, elements: results };
}

/**
 * Jepsen's set-full analysis of a history. Only client ops count. An exception (a read that is
 * not a list, elements of unrelated types) gives `valid? unknown` with the error, as in Jepsen.
 */
export function checkSetFull(history: readonly Op[], options: SetFullOptions = {}): CheckResult {
  return checkSafely(() => analyseSetFull(history, options).result);
}
