// What only the run itself could see, read back from the results.json a glomers run wrote: the
// network's lateness, the nodes' problems and why the run stopped early. `glomers analyze` checks
// the history again but keeps these, so a run whose node crashed stays invalid when re-analysed
// and its lateness is not replaced by zeros (docs/analyze.md §4).

import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { NODE_PROBLEM_KINDS, type LatenessStats, type NodeProblem } from '../types.js';

/** results.json files larger than this are not read for facts (Elle's anomaly lists can be long). */
export const MAX_RESULTS_BYTES = 256 * 1024 * 1024;
/** lines of a problem's stderr tail kept */
const MAX_STDERR_LINES = 50;

export interface RunFacts {
  /** undefined when no glomers run recorded it (a Maelstrom store folder, a damaged results.json) */
  lateness?: LatenessStats;
  problems: NodeProblem[];
  stoppedEarly?: string;
}

const PROBLEM_KINDS: ReadonlySet<string> = new Set(NODE_PROBLEM_KINDS);

type JsonObject = { [key: string]: unknown };
const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function latenessOf(value: unknown): LatenessStats | undefined {
  if (!isObject(value) || value['not-measured'] === true) return undefined;
  const { deliveries, 'p50-ms': p50Ms, 'p99-ms': p99Ms, 'max-ms': maxMs, 'behind?': behind, 'harness-busy': busy } = value;
  if (!isNumber(deliveries) || !isNumber(p50Ms) || !isNumber(p99Ms) || !isNumber(maxMs) || typeof behind !== 'boolean') return undefined;
  // nothing delivered is nothing measured (and what analyze wrote before it kept lateness)
  if (deliveries === 0) return undefined;
  return { deliveries, p50Ms, p99Ms, maxMs, behind, ...(isNumber(busy) ? { harnessBusy: busy } : {}) };
}

function problemOf(value: unknown): NodeProblem | undefined {
  if (!isObject(value)) return undefined;
  const { node, kind, detail, 'exit-code': exitCode, signal, 'stderr-tail': tail } = value;
  if (typeof node !== 'string' || typeof kind !== 'string' || !PROBLEM_KINDS.has(kind) || typeof detail !== 'string') return undefined;
  const problem: NodeProblem = {
    node,
    kind: kind as NodeProblem['kind'],
    detail,
    stderrTail: Array.isArray(tail) ? tail.filter((line): line is string => typeof line === 'string').slice(-MAX_STDERR_LINES) : [],
  };
  if (isNumber(exitCode) || exitCode === null) problem.exitCode = exitCode;
  if (typeof signal === 'string' || signal === null) problem.signal = signal;
  return problem;
}

/** The facts in DIR/results.json's glomers section; none when there is no such section to trust. */
export function readRunFacts(dir: string): RunFacts {
  const file = path.join(dir, 'results.json');
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  if (size === undefined || size > MAX_RESULTS_BYTES) return { problems: [] };
  let results: unknown;
  try {
    results = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { problems: [] };
  }
  const glomers = isObject(results) ? results['glomers'] : undefined;
  if (!isObject(glomers)) return { problems: [] };
  const problems = Array.isArray(glomers['problems']) ? glomers['problems'].map(problemOf).filter((p): p is NodeProblem => p !== undefined) : [];
  const facts: RunFacts = { problems };
  const lateness = latenessOf(glomers['lateness']);
  if (lateness !== undefined) facts.lateness = lateness;
  if (typeof glomers['stopped-early'] === 'string') facts.stoppedEarly = glomers['stopped-early'];
  return facts;
}
