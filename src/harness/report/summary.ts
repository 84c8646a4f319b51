// The console summary: the figures people look at after a Maelstrom run (net stats, stable
// latencies), what went wrong with nodes, and Jepsen's closing verdict line.

import type { Json, NodeProblem, RunOutput } from '../types.js';
import { toEdn } from './edn.js';
import type { Results } from '../check/results-types.js';
import { challengeSummaryLine } from '../check/challenge.js';
import { workloadViewSummary } from './views/index.js';
import { CONSOLE_FACTS, explanationLines, LATENESS_NOT_MEASURED, failureGroupText, latencyByF, latencyRowText, nemesisLines, neverOkHeader, operationsText, SECTION_NAMES } from './figures.js';

export const VERDICT_VALID = 'Everything looks good! ヽ(‘ー`)ノ';
export const VERDICT_INVALID = 'Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻';
export const VERDICT_UNKNOWN = 'Errors occurred during analysis, but no anomalies found. ಠ~ಠ';


/** Counts that describe the test's size rather than a fault, so they explain nothing. */
const NEUTRAL_COUNTS = new Set(['count', 'ok-count', 'attempt-count', 'stable-count', 'acknowledged-count', 'read-count']);
/** Keys that explain a failing checker in a word or two when present. */
const EXPLAINING_KEYS = ['error', 'anomaly-types', 'not', 'also-not', 'ok-fraction', 'lost', 'errors', 'final-reads', 'acceptable'];
const REASON_MAX_CHARS = 240;

function isMap(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

function brief(value: Json): string {
  const text = toEdn(value, Number.MAX_SAFE_INTEGER);
  return text.length > REASON_MAX_CHARS ? `${text.slice(0, REASON_MAX_CHARS)} …` : text;
}

/** Facts explaining why one checker's map is not valid, and the same for its invalid sub-maps. */
function reasonsFor(path: string, section: { [key: string]: Json | undefined }, depth: number): string[] {
  const facts: string[] = [];
  for (const [key, value] of Object.entries(section)) {
    if (key.endsWith('-count') && typeof value === 'number' && value > 0 && !NEUTRAL_COUNTS.has(key)) {
      facts.push(`${key} ${value}`);
    }
  }
  for (const key of EXPLAINING_KEYS) {
    const value = section[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    facts.push(`${key} ${brief(value)}`);
  }
  const lines = [`${path}: valid? ${String(section['valid?'])}${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`];
  if (depth < 3) {
    for (const [key, value] of Object.entries(section)) {
      if (!isMap(value)) continue;
      if (value['valid?'] === false || value['valid?'] === 'unknown') {
        lines.push(...reasonsFor(`${path} ${key}`, value, depth + 1));
      } else if (depth < 2) {
        // Maps of sub-results (stats by-f) hold checker maps one level further down.
        for (const [innerKey, inner] of Object.entries(value)) {
          if (isMap(inner) && (inner['valid?'] === false || inner['valid?'] === 'unknown')) {
            lines.push(...reasonsFor(`${path} ${key} ${innerKey}`, inner, depth + 2));
          }
        }
      }
    }
  }
  return lines;
}

function problemLines(problem: NodeProblem): string[] {
  const status: string[] = [];
  if (problem.exitCode !== undefined && problem.exitCode !== null) status.push(`exit status ${problem.exitCode}`);
  if (problem.signal) status.push(`signal ${problem.signal}`);
  const lines = [`  ${problem.node}: ${problem.kind}${status.length > 0 ? ` (${status.join(', ')})` : ''}: ${problem.detail}`];
  if (problem.stderrTail.length > 0) {
    lines.push(`    last stderr lines:`);
    for (const line of problem.stderrTail) lines.push(`      ${line}`);
  }
  return lines;
}

/** The failed and indefinite operations: the commonest errors with an example, and every f that never succeeded. */
function failureLines(results: Results): string[] {
  const failures = results.glomers.failures;
  const lines: string[] = [];
  if (failures.groups.length > 0) {
    lines.push(`Failed or indefinite operations: ${failures['fail-count']} fail, ${failures['info-count']} info; commonest errors:`);
    for (const group of failures.groups.slice(0, 3)) lines.push(`  ${failureGroupText(group)}`, `    e.g. ${group.example}`);
    if (failures.groups.length > 3) lines.push(`  ... and ${failures.groups.length - 3} more kinds (see report.html)`);
  }
  if (failures['never-ok'].length > 0) lines.push(`${neverOkHeader(results)}:`);
  for (const sentence of failures['never-ok']) lines.push(`  ${sentence}`);
  return lines;
}

export function formatSummary(results: Results, run: RunOutput): string {
  const lines: string[] = [];
  lines.push(`:net ${toEdn(results.net, 100).replace(/\n/g, '\n     ')}`);
  const latencies = results.workload['stable-latencies'];
  if (latencies !== undefined) lines.push(`:workload :stable-latencies ${toEdn(latencies)} (ms)`);
  if (results.workload['lost-count'] !== undefined) lines.push(`:workload :lost-count ${toEdn(results.workload['lost-count'])}`);

  lines.push(`Operations: ${operationsText(results)}`);
  const latencyRows = latencyByF(run.history);
  if (latencyRows.length > 0) lines.push(`Latency: ${latencyRows.map(latencyRowText).join('; ')}`);
  const { lateness } = run;
  if (run.opts.nemesis.length > 0) {
    const [counts, ...perNode] = nemesisLines(results);
    lines.push(`Nemesis (${run.opts.nemesis.join(',')}): ${counts}`);
    for (const line of perNode) lines.push(`  ${line}`);
  }
  lines.push(
    run.simulated === true
      ? `Simulated on virtual time (seed ${run.opts.seed}): every delivery on its deadline; replay with the same --seed`
      : lateness.measured === false
        ? `Network lateness: ${LATENESS_NOT_MEASURED}`
        : `Network lateness: p50 ${lateness.p50Ms} ms, p99 ${lateness.p99Ms} ms, max ${lateness.maxMs} ms over ${lateness.deliveries} deliveries${lateness.harnessBusy === undefined ? '' : `; harness busy ${Math.round(lateness.harnessBusy * 100)} % of the load phase`}`,
  );
  if (lateness.behind) {
    lines.push('  WARNING: the harness fell behind schedule; measured latencies are inflated. Try a lower --rate or fewer nodes.');
  }
  if (run.problems.length > 0) {
    lines.push(`Node problems (${run.problems.length}):`);
    for (const problem of run.problems) lines.push(...problemLines(problem));
  }
  lines.push(...failureLines(results));
  const factLimit = results['valid?'] === true ? CONSOLE_FACTS.valid : CONSOLE_FACTS.invalid;
  lines.push(...explanationLines(results.glomers.explanation, factLimit).map((line, k) => (k === 0 ? `Why: ${line}` : line)));
  // a view's own lines only when the checker gave no facts of its own: the explanation says it once
  const findings = results.glomers.explanation.factCount === 0 ? workloadViewSummary(results, run) : [];
  if (findings.length > 0) {
    lines.push('Findings:');
    for (const finding of findings) lines.push(`  ${finding}`);
  }
  const challenge = challengeSummaryLine(results.glomers.challenge);
  if (challenge !== null) lines.push(challenge);
  lines.push(`Results in ${run.storeDir}`);
  lines.push('');

  const valid = results['valid?'];
  if (valid === true) {
    lines.push(VERDICT_VALID);
  } else {
    lines.push(valid === false ? VERDICT_INVALID : VERDICT_UNKNOWN);
    for (const name of SECTION_NAMES) {
      const section = results[name];
      if (section['valid?'] === true) continue;
      const reasons = reasonsFor(name, section, 0);
      if (name === 'glomers' && run.problems.length > 0) {
        reasons[0] = `glomers: valid? false (${run.problems.map((p) => `${p.node} ${p.kind}`).join('; ')})`;
      }
      for (const reason of reasons) lines.push(`  ${reason}`);
    }
  }
  return lines.join('\n') + '\n';
}
