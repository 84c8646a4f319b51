// Jepsen's stats checker as Maelstrom composes it: completion counts overall and per `f`, where
// an `f` with no :ok at all makes the result invalid, except `crash` and
// `debug-topic-partitions` (Jepsen's Kafka wrapper, which Maelstrom applies to every workload).

import type { CheckResult, Op } from '../../types.js';
import { isClientOp } from './json-values.js';

/** The `f`s whose lack of any :ok does not make the stats invalid. */
export const ALWAYS_FAILING_FS: ReadonlySet<string> = new Set(['crash', 'debug-topic-partitions']);

export type CompletionCounts = {
  count: number;
  'ok-count': number;
  'fail-count': number;
  'info-count': number;
};

function emptyCounts(): CompletionCounts {
  return { count: 0, 'ok-count': 0, 'fail-count': 0, 'info-count': 0 };
}

function tally(counts: CompletionCounts, op: Op): void {
  counts.count++;
  if (op.type === 'ok') counts['ok-count']++;
  else if (op.type === 'fail') counts['fail-count']++;
  else counts['info-count']++;
}

export function checkStats(history: readonly Op[]): CheckResult {
  const all = emptyCounts();
  const byF = new Map<string, CompletionCounts>();
  for (const op of history) {
    if (op.type === 'invoke' || !isClientOp(op)) continue;
    tally(all, op);
    let counts = byF.get(op.f);
    if (!counts) {
      counts = emptyCounts();
      byF.set(op.f, counts);
    }
    tally(counts, op);
  }

  const byFResult: { [f: string]: CompletionCounts & { 'valid?': boolean } } = {};
  let everyFHasOk = true;
  let everyCheckedFHasOk = true;
  for (const f of [...byF.keys()].sort()) {
    const counts = byF.get(f) as CompletionCounts;
    const hasOk = counts['ok-count'] > 0;
    byFResult[f] = { ...counts, 'valid?': hasOk };
    if (!hasOk) {
      everyFHasOk = false;
      if (!ALWAYS_FAILING_FS.has(f)) everyCheckedFHasOk = false;
    }
  }
  return {
    ...all,
    'by-f': byFResult,
    'valid?': everyFHasOk || everyCheckedFHasOk,
  };
}
