// Assembles the results map: the same sections and key names as Maelstrom's results.edn, plus
// one section of our own under "glomers".

import type { CheckResult, Json, NodeProblem, RunOutput, Validity } from '../types.js';
import { clientTargets, type WorkloadVerdict } from '../workload.js';
import { timedCheck, type CheckTiming } from './check.js';
import { gradeChallenge } from './challenge.js';
import { checkAvailability } from './checkers/availability.js';
import { checkStats } from './checkers/stats.js';
import { checkExceptions, neverOkSentences, summarizeFailures } from './exceptions.js';
import { explanation as makeExplanation, nodeOfProcess, type Explanation } from './explain.js';
import type { GlomersSection, Results } from './results-types.js';
import { nemesisSummary } from './faults.js';
import { netStatsFromCounts } from './net-stats.js';
import { getWorkload } from '../workloads/index.js';

/** A run and its workload checker's verdict: everything the results and the report are made of. */
export interface AnalyzedRun extends RunOutput {
  verdict: WorkloadVerdict;
  /** how long each checker took, workload first */
  timings: CheckTiming[];
}

export type { GlomersSection, Results } from './results-types.js';

const WARNING_KINDS: ReadonlySet<NodeProblem['kind']> = new Set(['bad-line', 'flood', 'not-draining']);

const VALIDITY_RANK: Record<string, number> = { true: 0, unknown: 1, false: 2 };

/** Jepsen's merge-valid: false beats "unknown", which beats true. */
export function mergeValidity(values: Validity[]): Validity {
  let worst: Validity = true;
  for (const value of values) {
    if ((VALIDITY_RANK[String(value)] ?? 1) > (VALIDITY_RANK[String(worst)] ?? 1)) worst = value;
  }
  return worst;
}

export function problemAsJson(problem: NodeProblem): { [key: string]: Json } {
  const out: { [key: string]: Json } = { node: problem.node, kind: problem.kind, detail: problem.detail };
  if (problem.exitCode !== undefined) out['exit-code'] = problem.exitCode;
  if (problem.signal !== undefined) out['signal'] = problem.signal;
  out['stderr-tail'] = problem.stderrTail;
  return out;
}

/**
 * A crash or a failed init/setup makes the run invalid: in Maelstrom it is a test error that never
 * reaches a verdict. A bad stdout line does not: Maelstrom stops reading that node and lets the
 * checkers judge what follows (its operations time out), and our verdict must be the one Maelstrom
 * would give. The problem is still listed here and shouted in the summary.
 */
function glomersSection(run: AnalyzedRun): GlomersSection {
  const { lateness } = run;
  const extra = run.verdict.extra;
  const extraValid = extra?.['valid?'];
  // Problems Maelstrom would not fail a test for: it stops reading a node after a bad line, and
  // knows nothing of floods (it would run out of memory instead).
  const nodesOk = run.problems.every((problem) => WARNING_KINDS.has(problem.kind));
  const section: GlomersSection = {
    // A run stopped early has not shown what it set out to show.
    'valid?': mergeValidity([nodesOk, run.stoppedEarly === undefined ? true : 'unknown', extraValid === false || extraValid === 'unknown' ? extraValid : true]),
    seed: run.opts.seed,
    lateness: {
      deliveries: lateness.deliveries,
      'p50-ms': lateness.p50Ms,
      'p99-ms': lateness.p99Ms,
      'max-ms': lateness.maxMs,
      'behind?': lateness.behind,
      ...(lateness.harnessBusy === undefined ? {} : { 'harness-busy': Math.round(lateness.harnessBusy * 100) / 100 }),
      ...(lateness.measured === false ? { 'not-measured': true } : {}),
    },
    problems: run.problems.map(problemAsJson),
    nemesis: nemesisSummary(run.history, run.opts),
    failures: summarizeFailures(run.history, (process) => nodeOfProcess(process, { nodes: [...clientTargets(getWorkload(run.opts.workload), run.opts)], concurrency: run.opts.concurrency })),
    explanation: withNothingJudged(run.verdict.explanation ?? makeExplanation(defaultHeadline(run.verdict.workload), []), run.verdict.workload, checkStats(run.history)),
  };
  if (run.simulated === true) section.simulated = true;
  else section['checker-ms'] = Object.fromEntries(run.timings.map((t) => [t.checker, Math.round(t.ms)]));
  if (extra !== undefined) section.workload = extra;
  if (run.stoppedEarly !== undefined) section['stopped-early'] = run.stoppedEarly;
  return section;
}

/** What a checker without an explanation of its own is taken to say. */
function defaultHeadline(workload: CheckResult): string {
  const valid = workload['valid?'];
  if (valid === true) return 'The workload checker found nothing wrong.';
  const error = workload['error'];
  if (valid === 'unknown') return `The workload checker could not decide${typeof error === 'string' ? `: ${error}` : '.'}`;
  return 'The workload checker found the history invalid; its keys below say how.';
}

/** A checker that found nothing wrong in a run where nothing succeeded says so: it judged nothing. */
function withNothingJudged(explanation: Explanation, workload: CheckResult, stats: CheckResult): Explanation {
  if (workload['valid?'] !== true || stats['ok-count'] !== 0) return explanation;
  return { ...explanation, headline: `${explanation.headline} But no operation succeeded, so there was nothing to judge (see the failed operations).` };
}

export function assembleResults(run: AnalyzedRun): Results {
  // Maelstrom's perf and timeline checkers only draw pictures; they are always valid.
  const perf: CheckResult = { 'latency-graph': { 'valid?': true }, 'rate-graph': { 'valid?': true }, 'valid?': true };
  const timeline: CheckResult = { 'valid?': true };
  const exceptions = timedCheck('exceptions', run.timings, () => checkExceptions(run.history));
  const stats = timedCheck('stats', run.timings, () => checkStats(run.history));
  const availability = timedCheck('availability', run.timings, () => checkAvailability(run.history, run.opts.availability));
  const net = timedCheck('net', run.timings, () => netStatsFromCounts(run.netCounts, run.history));
  if (run.netNote !== undefined) net['glomers-note'] = run.netNote;
  const workload = run.verdict.workload;
  const glomers = glomersSection(run);
  glomers.failures['never-ok'] = neverOkSentences(stats, glomers.failures);
  // Under --challenge the run is judged by the challenge too: a missed limit fails it.
  if (run.opts.challenge !== undefined) {
    const grade = gradeChallenge(run.opts.challenge, { net, workload });
    glomers.challenge = grade;
    glomers['valid?'] = mergeValidity([glomers['valid?'], grade['valid?']]);
  }
  const valid = mergeValidity(
    [perf, timeline, exceptions, stats, availability, net, workload, glomers].map((section) => section['valid?']),
  );
  return { perf, timeline, exceptions, stats, availability, net, workload, glomers, 'valid?': valid };
}
