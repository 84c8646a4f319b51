// The unique-ids workload: clients ask for ids, and every acknowledged id must be distinct.

import type { CheckResult, Json, Op, TestOptions } from '../types.js';
import type { Workload, WorkloadVerdict } from '../workload.js';
import { explainSafely, explanation, listText, nodeOfProcess, secondsText, valueText, type Explanation, type Fact } from '../check/explain.js';
import { repeat } from '../run/generator.js';
import { checkSafely, compareValues, valueKey, type ValueKey } from '../check/checkers/json-values.js';
import { singleRpcClient, validateReply } from './rpc.js';
import { S } from './reply-schema.js';

/** How many duplicated ids the result lists (Jepsen keeps the 48 most frequent). */
export const DUPLICATES_SHOWN = 48;

/** How a duplicated id becomes a key of the `duplicated` map (results.json keys are strings). */
function duplicateKey(id: Json): string {
  return typeof id === 'string' ? id : JSON.stringify(id);
}

/** An id acknowledged more than once, with the completions that returned it. */
export interface DuplicateId {
  id: Json;
  count: number;
  ops: Op[];
}

function analyseIds(history: readonly Op[]): { result: CheckResult; duplicates: DuplicateId[] } {
  let attempted = 0;
  let acknowledged = 0;
  const frequencies = new Map<ValueKey, DuplicateId>();
  let lowest: Json | undefined;
  let highest: Json | undefined;
  for (const op of history) {
    if (op.f !== 'generate') continue;
    if (op.type === 'invoke') attempted++;
    if (op.type !== 'ok') continue;
    acknowledged++;
    const id = op.value ?? null;
    const key = valueKey(id);
    const entry = frequencies.get(key);
    if (entry) {
      entry.count++;
      entry.ops.push(op);
    } else frequencies.set(key, { id, count: 1, ops: [op] });
    // Jepsen's range skips nils, and on ties keeps the later value.
    if (id !== null) {
      if (lowest === undefined || compareValues(id, lowest) <= 0) lowest = id;
      if (highest === undefined || compareValues(id, highest) >= 0) highest = id;
    }
  }
  const duplicates = [...frequencies.values()]
    .filter((e) => e.count > 1)
    .sort((a, b) => compareValues(a.id, b.id));
  // Most frequent first (ties: the larger id first), cut, then listed in id order again.
  const shown = [...duplicates]
    .sort((a, b) => a.count - b.count)
    .reverse()
    .slice(0, DUPLICATES_SHOWN)
    .sort((a, b) => compareValues(a.id, b.id));
  const duplicated: { [id: string]: Json } = {};
  for (const e of shown) duplicated[duplicateKey(e.id)] = e.count;
  const result: CheckResult = {
    'valid?': duplicates.length === 0,
    'attempted-count': attempted,
    'acknowledged-count': acknowledged,
    'duplicated-count': duplicates.length,
    duplicated,
    range: [lowest ?? null, highest ?? null],
  };
  return { result, duplicates: shown };
}

/**
 * Jepsen's unique-ids checker. Ids are compared as parsed JSON values, so 1 and "1" are
 * different ids. Ids of unrelated types cannot be ordered for `range`; Jepsen then throws,
 * and the result is `unknown`.
 */
export function checkUniqueIds(history: readonly Op[]): CheckResult {
  return checkSafely(() => analyseIds(history).result);
}

/** The check and its explanation: each duplicated id, the operations and nodes that produced it. */
export function uniqueIdsVerdict(history: readonly Op[], opts: Pick<TestOptions, 'nodes' | 'concurrency'>): WorkloadVerdict {
  let analysis: ReturnType<typeof analyseIds>;
  try {
    analysis = analyseIds(history);
  } catch {
    return { workload: checkUniqueIds(history) };
  }
  const { result, duplicates } = analysis;
  return { workload: result, explanation: explainSafely(() => explainDuplicates(result, duplicates, opts)) };
}

function explainDuplicates(result: CheckResult, duplicates: readonly DuplicateId[], opts: Pick<TestOptions, 'nodes' | 'concurrency'>): Explanation {
  const facts: Fact[] = duplicates.map(({ id, count, ops }) => {
    const givers = ops.map((op) => `process ${String(op.process)} via ${nodeOfProcess(op.process, opts)} at ${secondsText(op.time)} (op ${op.index})`);
    return { text: `Id ${valueText(id)} was handed out ${count} times: ${listText(givers, 6)}.`, atNs: ops[0]?.time ?? 0, nodes: [...new Set(ops.map((op) => nodeOfProcess(op.process, opts)))] };
  });
  const headline =
    duplicates.length === 0
      ? `All ${String(result['acknowledged-count'])} acknowledged ids are distinct.`
      : `${String(result['duplicated-count'])} ids were handed out more than once (of ${String(result['acknowledged-count'])} acknowledged): ${listText(duplicates.map((d) => valueText(d.id, 20)), 10)}.`;
  return explanation(headline, facts);
}

export const uniqueIdsWorkload: Workload = {
  name: 'unique-ids',
  options: [],
  generator: () => repeat(() => ({ f: 'generate', value: null })),
  openClient: singleRpcClient({
    request: () => ({ type: 'generate' }),
    reply(_op, body) {
      validateReply({ type: 'generate' }, body, 'generate_ok', { id: S.any });
      return { type: 'ok', value: body.id ?? null };
    },
  }),
  check: (history, ctx) => uniqueIdsVerdict(history, ctx.opts),
};
