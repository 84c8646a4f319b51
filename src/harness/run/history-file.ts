// history.jsonl and results.json: the JSON forms of Maelstrom's history.edn and results.edn,
// shaped like the reference runs (one op per line, keys sorted).

import type { Op } from '../types.js';

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) sorted[key] = sortKeysDeep(item);
    }
    return sorted;
  }
  return value;
}

/** One op as a history.jsonl line, keys sorted as in the reference runs. */
export function historyLine(op: Op): string {
  return JSON.stringify(sortKeysDeep(op));
}

/** One op per line, keys sorted as in the reference runs' history.jsonl. */
export function formatHistoryJsonl(history: readonly Op[]): string {
  let out = '';
  for (const op of history) out += historyLine(op) + '\n';
  return out;
}

/** Pretty JSON in Maelstrom's key order (the order of the results object). */
export function formatResultsJson(results: unknown): string {
  return JSON.stringify(results, null, 2) + '\n';
}
