// Jepsen's kafka checker (jepsen.tests.kafka/checker) as Maelstrom runs it: the whole `workload`
// section of results.json, plus data for report.html. docs/checkers.md §2 describes the rules;
// the pieces live in ./kafka/. Unlike Maelstrom, memory and time follow the history, not the
// largest offset (maelstrom #51), and a key whose ok polls were all empty does not crash the
// lost-write check (maelstrom #98).

import type { CheckResult, Json, Op } from '../../types.js';
import { valueKey } from './json-values.js';
import {
  byProcess,
  duplicates,
  g1a,
  inconsistentOffsets,
  internalPollCases,
  internalSendCases,
  KafkaAnalysisError,
  lostWrites,
  nonmonotonicSends,
  pollCases,
  precommittedReads,
  type KafkaCase,
} from './kafka/cases.js';
import { DeadlineError, DeadlineTicker } from './kafka/cycles.js';
import { elleFindings, CYCLE_SEARCH_TIMEOUT_MS } from './kafka/elle-part.js';
import { clientHistory } from './kafka/ops.js';
import { realtimeLag, unseenJson, unseenWalk, worstLagJson, type LagResult } from './kafka/timeline.js';
import { buildLogs, derive } from './kafka/version-orders.js';

export interface KafkaCheckOptions {
  /** a Date.now() value; past it the analysis stops and answers unknown with the reason */
  deadlineMs?: number;
  /** Elle's per-component cycle search limit (1000 ms); for tests */
  cycleSearchTimeoutMs?: number;
}

/** Error types that do not invalidate a Maelstrom kafka test (no ww-deps, assign only). */
export const ALLOWED_ERROR_TYPES: ReadonlySet<string> = new Set([
  'int-send-skip',
  'G0',
  'G0-process',
  'G0-realtime',
  'PL-1-cycle-exists',
  'strong-PL-1-cycle-exists',
]);

/** Ops whose f the unseen plot accepts at the end of the history. */
const FINAL_PHASE_F = new Set(['poll', 'crash', 'assign', 'debug-topic-partitions']);

export interface KafkaErrorReport {
  type: string;
  key: string;
  offsets: number[];
  /** history indices of the ops involved */
  ops: number[];
  text: string;
}

export interface KafkaReportData {
  /** per key, points of (poll invocation time s, lag s), highest lag per 100 ms */
  lag: Array<{ key: string; points: Array<[number, number]> }>;
  /** every error found (at most MAX_REPORTED_PER_TYPE per type), with the total per type */
  errors: KafkaErrorReport[];
  errorCounts: { [type: string]: number };
}

const MAX_REPORTED_PER_TYPE = 500;

interface Analysis {
  result: CheckResult;
  report: KafkaReportData;
}

type Findings = Map<string, KafkaCase[] | true>;

function condensedErrs(type: string, cases: KafkaCase[]): KafkaCase[] {
  const stable = (list: KafkaCase[]) => list.map((c, i) => [c, i] as const).sort((a, b) => a[0].sortBy - b[0].sortBy || a[1] - b[1]).map(([c]) => c);
  if (type === 'duplicate' || type === 'inconsistent-offsets') return stable(cases).slice(0, 32);
  if (/^G(0|1c)(-process|-realtime)?$/.test(type)) return stable(cases).slice(0, 8);
  if (type.includes('nonmonotonic')) return stable(cases).slice(0, 8);
  if (type.endsWith('skip')) return stable(cases).slice(-8);
  return cases;
}

function analyze(history: readonly Op[], options: KafkaCheckOptions): Analysis {
  const deadline = options.deadlineMs;
  const ticker = (phase: string) => new DeadlineTicker(deadline, phase);
  const client = clientHistory(history);
  const derived = derive(client.ops, ticker('indexing'));
  const logs = buildLogs(client.ops, derived.okReads, ticker('version orders'));
  const processes = byProcess(client.ops);
  const polls = pollCases(processes, logs);
  const internal = internalPollCases(client.ops, logs);
  const findings: Findings = new Map();
  const put = (type: string, cases: KafkaCase[]) => {
    if (cases.length > 0) findings.set(type, cases);
  };
  put('duplicate', duplicates(logs));
  put('int-poll-skip', internal.skip);
  put('int-nonmonotonic-poll', internal.nonmonotonic);
  const internalSends = internalSendCases(client.ops, logs);
  put('int-nonmonotonic-send', internalSends.nonmonotonic);
  put('int-send-skip', internalSends.skip);
  put('inconsistent-offsets', inconsistentOffsets(logs));
  put('precommitted-read', precommittedReads(client.ops));
  put('G1a', g1a(client.ops, derived));
  put('lost-write', lostWrites(logs, derived, ticker('lost writes')));
  put('nonmonotonic-poll', polls.nonmonotonic);
  put('nonmonotonic-send', nonmonotonicSends(processes, logs));
  put('poll-skip', polls.skip);
  const unseen = unseenWalk(client.ops, ticker('unseen'));
  const elle = elleFindings(client, derived, ticker('cycle search'), options.cycleSearchTimeoutMs ?? CYCLE_SEARCH_TIMEOUT_MS);
  for (const [type, entries] of elle.anomalies) findings.set(type, entries);
  const lag = realtimeLag(client, ticker('realtime lag'));
  if (unseen && unseen.hasPlotPoints && !endsInFinalPhase(history)) {
    throw new KafkaAnalysisError(
      `NullPointerException: the history does not end with a poll, crash or assign (last op: ${history[history.length - 1]?.f}), which Maelstrom's unseen plot needs`,
    );
  }
  return assemble(history, findings, unseen, lag);
}

function endsInFinalPhase(history: readonly Op[]): boolean {
  const last = history[history.length - 1];
  return last !== undefined && FINAL_PHASE_F.has(last.f);
}

function infoTxnCauses(history: readonly Op[]): Json[] {
  const seen = new Set<ReturnType<typeof valueKey>>();
  const causes: Json[] = [];
  for (const op of history) {
    if (typeof op.process !== 'number' || op.type !== 'info') continue;
    if (op.f !== 'send' && op.f !== 'poll' && op.f !== 'txn') continue;
    const cause = op.error ?? null;
    const key = valueKey(cause);
    if (seen.has(key)) continue;
    seen.add(key);
    causes.push(cause);
  }
  return causes;
}

function assemble(
  history: readonly Op[],
  findings: Findings,
  unseen: ReturnType<typeof unseenWalk>,
  lag: LagResult,
): Analysis {
  const result: CheckResult = { 'valid?': true };
  const errorTypes: string[] = [...findings.keys()];
  const unseenResult = unseen && unseen.unseen.size > 0 ? unseen : undefined;
  if (unseenResult) errorTypes.push('unseen');
  errorTypes.sort();
  const report: KafkaReportData = { lag: [], errors: [], errorCounts: {} };
  for (const [type, entries] of findings) {
    if (entries === true) {
      result[type] = { count: 1, errs: true };
      report.errorCounts[type] = 1;
      report.errors.push({ type, key: '', offsets: [], ops: [], text: 'No operation depends on any other: the dependency graph is empty.' });
      continue;
    }
    result[type] = { count: entries.length, errs: condensedErrs(type, entries).map((c) => c.render()) };
    report.errorCounts[type] = entries.length;
    for (const c of entries.slice(0, MAX_REPORTED_PER_TYPE)) {
      report.errors.push({ type, key: c.key, offsets: c.offsets, ops: c.opIndices, text: c.describe() });
    }
  }
  if (unseenResult) {
    result.unseen = unseenJson(unseenResult);
    let total = 0;
    for (const [key, set] of unseenResult.unseen) {
      total += set.size;
      report.errors.push({
        type: 'unseen',
        key,
        offsets: [],
        ops: [],
        text: `${set.size} acknowledged message(s) of key ${key} were never returned by any poll.`,
      });
    }
    report.errorCounts.unseen = total;
  }
  const bad = errorTypes.filter((type) => !ALLOWED_ERROR_TYPES.has(type));
  result['valid?'] = bad.length === 0;
  result['worst-realtime-lag'] = worstLagJson(lag.worst);
  result['bad-error-types'] = bad;
  result['error-types'] = errorTypes;
  result['info-txn-causes'] = infoTxnCauses(history);
  report.lag = [...lag.perKey.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([key, points]) => ({ key, points: points.map(([t, l]) => [t / 1e9, l / 1e9] as [number, number]) }));
  return { result, report };
}

function unknown(err: unknown): Analysis {
  const reason = err instanceof DeadlineError || err instanceof KafkaAnalysisError ? err.message : `${err instanceof Error ? err.name + ': ' + err.message : String(err)}`;
  return { result: { 'valid?': 'unknown', error: reason }, report: { lag: [], errors: [], errorCounts: {} } };
}

function analyzeSafely(history: readonly Op[], options: KafkaCheckOptions): Analysis {
  try {
    return analyze(history, options);
  } catch (err) {
    return unknown(err);
  }
}

/** Maelstrom's whole kafka `workload` section for a history. */
export function checkKafka(history: readonly Op[], options: KafkaCheckOptions = {}): CheckResult {
  return analyzeSafely(history, options).result;
}

/** Ours, for report.html: realtime lag over time per key, and every error in words. */
export function kafkaReportData(history: readonly Op[], options: KafkaCheckOptions = {}): KafkaReportData {
  return analyzeSafely(history, options).report;
}

/** Both at once, for callers that want the verdict and the report without analysing twice. */
export function checkKafkaWithReport(history: readonly Op[], options: KafkaCheckOptions = {}): { result: CheckResult; report: KafkaReportData } {
  return analyzeSafely(history, options);
}
