// Jepsen's unhandled-exceptions checker: groups :info operations that carry an exception by
// the exception's class. It never invalidates a run; it only reports.

import type { CheckResult, Json, Op } from '../types.js';
import { ALWAYS_FAILING_FS } from './checkers/stats.js';

/**
 * The class name of an op's exception. Jepsen stores a Throwable map ({via: [{type, ...}]});
 * our clients may store a plain string or {type, message}; anything else is grouped together.
 */
export function exceptionClass(exception: Json | undefined): string {
  if (typeof exception === 'string') return exception.split(':')[0] ?? exception;
  if (exception !== null && typeof exception === 'object' && !Array.isArray(exception)) {
    const via = exception['via'];
    if (Array.isArray(via)) {
      const first = via[0];
      if (first !== null && typeof first === 'object' && !Array.isArray(first) && typeof first['type'] === 'string') {
        return first['type'];
      }
    }
    if (typeof exception['type'] === 'string') return exception['type'];
    if (typeof exception['class'] === 'string') return exception['class'];
  }
  return 'unknown';
}

/** An op as a plain JSON map (absent optional fields dropped). */
export function opAsJson(op: Op): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(op)) if (value !== undefined) out[key] = value;
  return out;
}

export function checkExceptions(history: Op[]): CheckResult {
  const groups = new Map<string, Op[]>();
  for (const op of history) {
    if (op.type !== 'info' || op['exception'] === undefined || op['exception'] === null) continue;
    const cls = exceptionClass(op['exception']);
    const group = groups.get(cls);
    if (group) group.push(op);
    else groups.set(cls, [op]);
  }
  if (groups.size === 0) return { 'valid?': true };
  const exceptions: Json[] = [...groups.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .map(([cls, ops]) => ({ count: ops.length, class: cls, example: opAsJson(ops[0] as Op) }));
  return { 'valid?': true, exceptions };
}

// ---------------------------------------------------------------------------------------------
// Failed and indefinite operations, by error: what went wrong, how often, when and where.

/** One error (code name and text) and the client operations that ended with it. */
export type FailureGroup = {
  /** the error's name ("not-supported", "net-timeout", an exception's class) */
  error: string;
  /** its text, as the node or the client gave it */
  text: string | null;
  count: number;
  'fail-count': number;
  'info-count': number;
  /** the operation functions it ended */
  fs: string[];
  /** the nodes the operations went through */
  nodes: string[];
  'first-s': number;
  'last-s': number;
  /** completion times (s), at most TIMES_KEPT, evenly chosen, for the report's strip */
  'times-s': number[];
  /** the first such operation, in words */
  example: string;
};

export type FailureSummary = {
  'fail-count': number;
  'info-count': number;
  /** commonest first, at most GROUPS_KEPT */
  groups: FailureGroup[];
  /** one sentence per operation function that never completed :ok (stats holds those against the run) */
  'never-ok': string[];
};

const GROUPS_KEPT = 20;
const TIMES_KEPT = 200;

/** An op's error as a name and a text: [name, text] replies, "net-timeout", "indeterminate: …", exceptions. */
export function errorOf(op: Op): { error: string; text: string | null } {
  const error = op.error;
  if (Array.isArray(error)) return { error: String(error[0] ?? 'error'), text: typeof error[1] === 'string' ? error[1] : null };
  if (typeof error === 'string') {
    const colon = error.indexOf(': ');
    return colon > 0 ? { error: error.slice(0, colon), text: error.slice(colon + 2) } : { error, text: null };
  }
  const exception = op['exception'];
  if (exception !== undefined && exception !== null) {
    const message = typeof exception === 'string' ? exception : JSON.stringify(exception);
    return { error: exceptionClass(exception), text: message.length > 300 ? `${message.slice(0, 299)}…` : message };
  }
  if (error !== undefined && error !== null) return { error: 'error', text: JSON.stringify(error) };
  if (ALWAYS_FAILING_FS.has(op.f)) return { error: op.f, text: 'by design: this operation never succeeds' };
  return { error: 'no error given', text: null };
}

function evenly<T>(items: readonly T[], limit: number): T[] {
  if (items.length <= limit) return [...items];
  const step = items.length / limit;
  return Array.from({ length: limit }, (_, k) => items[Math.floor(k * step)] as T);
}

function exampleText(invoke: Op | undefined, completion: Op, node: string): string {
  const value = JSON.stringify(invoke?.value ?? completion.value ?? null) ?? 'null';
  const shown = value.length > 60 ? `${value.slice(0, 59)}…` : value;
  return `${completion.f} ${shown} by process ${String(completion.process)} via ${node}: ${completion.type} at ${(completion.time / 1e9).toFixed(3)} s (op ${completion.index})`;
}

type Draft = FailureGroup & { times: number[] };

/**
 * Groups failed and indefinite client operations by error. `nodeOf` names the node a process
 * talks to (see explain.ts), so the report can say where errors came from.
 */
export function summarizeFailures(history: readonly Op[], nodeOf: (process: number) => string): FailureSummary {
  const drafts = new Map<string, Draft>();
  const invokes = new Map<number, Op>();
  let failCount = 0;
  let infoCount = 0;
  for (const op of history) {
    if (op.process === 'nemesis') continue;
    if (op.type === 'invoke') invokes.set(op.process, op);
    if (op.type !== 'fail' && op.type !== 'info') continue;
    if (op.type === 'fail') failCount++;
    else infoCount++;
    const { error, text } = errorOf(op);
    const node = nodeOf(op.process);
    // numbers in texts (keys, values, offsets) vary from op to op: one group per wording
    const key = `${error}\u0000${(text ?? '').replace(/-?\d+(\.\d+)?/g, '#')}`;
    let draft = drafts.get(key);
    if (draft === undefined) {
      draft = { error, text, count: 0, 'fail-count': 0, 'info-count': 0, fs: [], nodes: [], 'first-s': op.time / 1e9, 'last-s': 0, 'times-s': [], example: exampleText(invokes.get(op.process), op, node), times: [] };
      drafts.set(key, draft);
    }
    draft.count++;
    draft[op.type === 'fail' ? 'fail-count' : 'info-count']++;
    if (!draft.fs.includes(op.f)) draft.fs.push(op.f);
    if (!draft.nodes.includes(node)) draft.nodes.push(node);
    draft['last-s'] = op.time / 1e9;
    draft.times.push(Math.round(op.time / 1e6) / 1e3);
  }
  const groups = [...drafts.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, GROUPS_KEPT)
    .map(({ times, ...group }): FailureGroup => ({ ...group, nodes: group.nodes.sort(), 'times-s': evenly(times, TIMES_KEPT) }));
  return { 'fail-count': failCount, 'info-count': infoCount, groups, 'never-ok': [] };
}

/**
 * A sentence for each `f` that never completed :ok and so fails Maelstrom's stats checker (crash
 * and debug-topic-partitions never do), naming the error that ended its operations most often.
 */
export function neverOkSentences(stats: CheckResult, failures: FailureSummary): string[] {
  const byF = stats['by-f'];
  if (byF === null || byF === undefined || typeof byF !== 'object' || Array.isArray(byF)) return [];
  const sentences: string[] = [];
  for (const [f, counts] of Object.entries(byF)) {
    if (counts === null || typeof counts !== 'object' || Array.isArray(counts) || counts['valid?'] !== false || ALWAYS_FAILING_FS.has(f)) continue;
    const commonest = failures.groups.find((group) => group.fs.includes(f));
    const cause =
      commonest === undefined
        ? 'no error was recorded'
        : `commonest error: ${commonest.error}${commonest.text === null ? '' : ` "${commonest.text}"`} (${commonest.count}×), e.g. ${commonest.example}`;
    sentences.push(`No ${f} ever succeeded (${String(counts['count'])} completed: ${String(counts['fail-count'])} fail, ${String(counts['info-count'])} info); ${cause}.`);
  }
  return sentences;
}
