// Elle-grade checkers for txn-rw-register and txn-list-append: Maelstrom's verdict under
// `workload`, and our extra findings plus plain-English explanations under `glomers`.

import type { CheckResult, Json, Op } from '../../../types.js';
import {
  type Anomalies,
  type CycleRecord,
  type Txn,
  addProcessEdges,
  addRealtimeEdges,
  extraEdges,
  findCycles,
  pairTxns,
  resultMap,
} from './common.js';
import { explainAnomalies, explainFinding } from './explain.js';
import { findMopMismatches, findWriteCycles, type GlomersFinding } from './glomers.js';
import { DeadlineError } from './graph.js';
import { analyzeListAppend } from './list-append.js';
import { anomaliesProhibitedBy } from './models.js';
import { analyzeRwRegister, CheckerThrew } from './rw-register.js';
import { listAppendExplainOrder, rwRegisterExplainOrder } from './search.js';

export interface ElleOptions {
  consistencyModels: string[];
  /** a Date.now() value; past it the check stops and answers unknown */
  deadlineMs?: number;
  /** Elle's per-SCC typed-search limit */
  cycleSearchTimeoutMs?: number;
  /** our --strict: findings under `glomers` count toward valid? */
  strict?: boolean;
}

export interface TxnCheckResult {
  workload: CheckResult;
  glomers: CheckResult;
}

type Workload = 'rw-register' | 'list-append';

function clientHistory(history: readonly Op[]): Op[] {
  return history.filter((op) => typeof op.process === 'number');
}

function checkDeadline(options: ElleOptions, phase: string): void {
  if (options.deadlineMs !== undefined && Date.now() > options.deadlineMs) throw new DeadlineError(`deadline passed ${phase}`);
}

function elleCheck(workload: Workload, history: readonly Op[], options: ElleOptions): { result: CheckResult; txns: Txn[]; records: CycleRecord[]; anomalies: Anomalies } {
  const models = options.consistencyModels;
  anomaliesProhibitedBy(models); // validates the names first, as Elle does
  const client = clientHistory(history);
  const txns = pairTxns(client);
  const anomalies: Anomalies = new Map();
  checkDeadline(options, 'before the version analysis');
  const analysis = workload === 'rw-register' ? analyzeRwRegister(txns, anomalies) : analyzeListAppend(txns, anomalies);
  checkDeadline(options, 'after the version analysis');
  const extra = extraEdges(models);
  if (extra === 'realtime') addRealtimeEdges(client, txns, analysis.graph);
  else if (extra === 'process') addProcessEdges(txns, analysis.graph);
  const graph = analysis.graph.freeze();
  checkDeadline(options, 'after building the graph');
  const records: CycleRecord[] = [];
  findCycles(
    graph,
    txns,
    workload === 'rw-register' ? rwRegisterExplainOrder : listAppendExplainOrder,
    analysis.explainer,
    { consistencyModels: models, cycleSearchTimeoutMs: options.cycleSearchTimeoutMs ?? 1000, deadlineMs: options.deadlineMs },
    anomalies,
    records,
  );
  let result = resultMap(models, anomalies) as CheckResult;
  if (workload === 'rw-register') result = maelstromWrapper(result);
  return { result, txns, records, anomalies };
}

/** Maelstrom's rw-register wrapper: drop cycle-search-timeout, valid? iff no anomaly types remain. */
function maelstromWrapper(r: CheckResult): CheckResult {
  const types = ((r['anomaly-types'] as string[] | undefined) ?? []).filter((t) => t !== 'cycle-search-timeout');
  const anomalies = { ...((r.anomalies as { [key: string]: Json } | undefined) ?? {}) };
  delete anomalies['cycle-search-timeout'];
  const out: CheckResult = { 'valid?': types.length === 0, 'anomaly-types': types, anomalies };
  if (r.not !== undefined) out.not = r.not;
  if (r['also-not'] !== undefined) out['also-not'] = r['also-not'];
  return out;
}

function check(workload: Workload, history: readonly Op[], options: ElleOptions): TxnCheckResult {
  try {
    checkDeadline(options, 'before checking started');
    const { result, txns, records, anomalies } = elleCheck(workload, history, options);
    checkDeadline(options, 'before the glomers checks');
    const findings: GlomersFinding[] = [...findMopMismatches(txns, workload)];
    if (workload === 'rw-register') {
      // only what Maelstrom's own search did not already report (a G0 cycle, or proof that one exists)
      if (!anomalies.has('G0') && !anomalies.has('PL-1-cycle-exists')) findings.push(...findWriteCycles(txns, (f) => f === 'w'));
    }
    checkDeadline(options, 'after the glomers checks');
    // Elle finds cycles the requested models allow too; `reported` says which ones Maelstrom's result lists
    const reportedTypes = new Set((result['anomaly-types'] as string[] | undefined) ?? []);
    const explanations = [
      ...explainAnomalies(anomalies, records, txns).map((x) => ({ ...(x as { [key: string]: Json }), source: 'workload', reported: reportedTypes.has((x as { type: string }).type) })),
      ...findings.map((f) => ({ ...(explainFinding(f) as { [key: string]: Json }), source: 'glomers', reported: true })),
    ];
    const findingTypes = [...new Set(findings.map((f) => f.type))].sort();
    const strict = options.strict === true;
    const glomersValid = findings.length === 0;
    const glomers: CheckResult = {
      'valid?': glomersValid,
      strict,
      'finding-types': findingTypes,
      findings: findings.map((f) => ({ type: f.type, ops: f.ops.map((t) => t.completion as unknown as Json), text: f.text })),
      explanations,
    };
    if (strict && !glomersValid && result['valid?'] === true) glomers['verdict-changed'] = true;
    return { workload: result, glomers };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    if (err instanceof DeadlineError) {
      return { workload: { 'valid?': 'unknown', error: `checker deadline passed: ${error}` }, glomers: { 'valid?': 'unknown', error } };
    }
    if (err instanceof CheckerThrew || err instanceof Error) {
      return { workload: { 'valid?': 'unknown', error }, glomers: { 'valid?': 'unknown', error } };
    }
    throw err;
  }
}

/** The overall verdict: Maelstrom's, and with strict also ours (false > unknown > true). */
export function combinedValidity(r: TxnCheckResult, strict: boolean): boolean | 'unknown' {
  const a = r.workload['valid?'];
  const b = strict ? r.glomers['valid?'] : true;
  if (a === false || b === false) return false;
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  return true;
}

export function checkRwRegister(history: readonly Op[], options: ElleOptions): TxnCheckResult {
  return check('rw-register', history, options);
}

export function checkListAppend(history: readonly Op[], options: ElleOptions): TxnCheckResult {
  return check('list-append', history, options);
}
