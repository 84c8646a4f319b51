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

// ---- Reading a stored history back (glomers analyze). Policy in docs/analyze.md: a torn last
// line is dropped (the run was cut off while writing it: what is left is the history of a run
// stopped there); damage anywhere else refuses the history, naming the lines, since a history
// with a hole in it could give a verdict the run never earned.

/** Largest history file read; a larger one is refused before it is read. */
export const MAX_HISTORY_FILE_BYTES = 256 * 1024 * 1024;
/** Longest history.jsonl line; our ops are a few hundred characters. */
export const MAX_HISTORY_LINE_CHARS = 1_048_576;
/** Deepest nesting of an op's value: deeper values are damage (every reader after this one recurses). */
export const MAX_OP_VALUE_DEPTH = 1_000;
/** Latest op time accepted: the longest run (a week) plus the longest final wait, with room to spare. */
export const MAX_OP_TIME_NS = 8 * 24 * 3600 * 1e9;
/** How many damaged lines an error names; the rest are counted. */
export const MAX_DAMAGE_LISTED = 10;

const OP_TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);

/** Where a stored history is damaged: a 1-based line (or entry) and what is wrong with it. */
export interface HistoryDamage {
  line: number;
  reason: string;
}

export interface LoadedHistory {
  ops: Op[];
  /** the last line, dropped because the file ends inside it */
  torn?: HistoryDamage;
}

/** A history the loader refuses: the damage, the first MAX_DAMAGE_LISTED places named. */
export class DamagedHistoryError extends Error {
  constructor(file: string, readonly damage: HistoryDamage[], readonly damagedCount: number) {
    const named = damage.map((d) => `  line ${d.line}: ${d.reason}`).join('\n');
    const more = damagedCount > damage.length ? `\n  ... and ${damagedCount - damage.length} more` : '';
    super(`${file} is damaged (${damagedCount} bad line${damagedCount === 1 ? '' : 's'}); refusing to judge a history with holes in it:\n${named}${more}\nFix or delete those lines and run analyze again.`);
    this.name = 'DamagedHistoryError';
  }
}

/** Whether a value nests deeper than `budget`; recursion is safe as it stops at the budget. */
function nestsDeeperThan(value: unknown, budget: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (budget === 0) return true;
  if (Array.isArray(value)) {
    // an index loop: this runs on every op as the history loads, before the engine optimises it,
    // and an unoptimised for-of allocates per element
    for (let k = 0; k < value.length; k++) if (nestsDeeperThan(value[k] as unknown, budget - 1)) return true;
    return false;
  }
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], budget - 1)) return true;
  return false;
}

/** Why a parsed line is not an op the checkers and the report can take, or undefined when it is. */
export function opShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `not an op map: ${JSON.stringify(value)?.slice(0, 80) ?? String(value)}`;
  const op = value as Record<string, unknown>;
  if (typeof op['type'] !== 'string' || !OP_TYPES.has(op['type'])) return 'type must be invoke, ok, fail or info';
  if (typeof op['f'] !== 'string') return 'f must be a name';
  const process = op['process'];
  if (process !== 'nemesis' && !(Number.isSafeInteger(process) && (process as number) >= 0)) return 'process must be a whole number or nemesis';
  const time = op['time'];
  if (typeof time !== 'number' || !(time >= 0 && time <= MAX_OP_TIME_NS)) return `time must be ns since the start, 0 to ${MAX_OP_TIME_NS}`;
  if ('index' in op && !(Number.isSafeInteger(op['index']) && (op['index'] as number) >= 0)) return 'index must be a whole number';
  if (nestsDeeperThan(op['value'], MAX_OP_VALUE_DEPTH)) return `value nested deeper than ${MAX_OP_VALUE_DEPTH}`;
  return undefined;
}

/**
 * Collects ops and damage. `addOp` takes one parsed value at its line; `finish` applies the policy.
 * Ops without an index get their position, as Jepsen numbers them.
 */
export function createHistoryCollector(file: string): {
  add(value: unknown, line: number): void;
  damaged(line: number, reason: string): void;
  finish(torn?: HistoryDamage): LoadedHistory;
} {
  const ops: Op[] = [];
  const damage: HistoryDamage[] = [];
  let damagedCount = 0;
  const damaged = (line: number, reason: string): void => {
    damagedCount++;
    if (damage.length < MAX_DAMAGE_LISTED) damage.push({ line, reason });
  };
  return {
    add(value, line) {
      const problem = opShapeProblem(value);
      if (problem !== undefined) return damaged(line, problem);
      const op = value as Op;
      if (op.index === undefined) op.index = ops.length;
      ops.push(op);
    },
    damaged,
    finish(torn) {
      if (damagedCount > 0) throw new DamagedHistoryError(file, damage, damagedCount);
      return torn === undefined ? { ops } : { ops, torn };
    },
  };
}

/** history.jsonl's text: one op per line; see the policy above. */
export function parseHistoryJsonl(text: string, file = 'history.jsonl'): LoadedHistory {
  const history = createHistoryCollector(file);
  let torn: HistoryDamage | undefined;
  let line = 0;
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    line++;
    const lineText = text.slice(start, end);
    start = end + 1;
    if (lineText.trim() === '') continue;
    if (lineText.length > MAX_HISTORY_LINE_CHARS) {
      history.damaged(line, `longer than ${MAX_HISTORY_LINE_CHARS} characters`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (err) {
      const reason = `not JSON (${err instanceof Error ? err.message : String(err)})`;
      // The file ends inside this line: the writer was cut off, not the line damaged.
      if (newline === -1) torn = { line, reason: `torn last line, dropped: ${reason}` };
      else history.damaged(line, reason);
      continue;
    }
    history.add(value, line);
  }
  return history.finish(torn);
}
