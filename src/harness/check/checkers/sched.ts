// The sched workload's checker (docs/workloads/sched.md): follows every submitted task from the
// client's submit to the exec service's record of where and when it ran. Errors: a task of an
// accepted job that never completed (lost), a run the service was asked for that nobody submitted
// (phantom), a task of a definitely refused job that completed anyway (ran-after-failure), and,
// invalid only under --exactly-once, tasks completed more than once (duplicated). Figures: how
// well the slots were used (efficiency, utilization) and how long jobs took (response ratio,
// queue delay).

import type { CheckResult, Json, Op } from '../../types.js';
import type { ServiceEvent } from '../../workload.js';
import { reportedQuantiles } from './set-full.js';
import { isClientOp } from './json-values.js';
import { byNodeName, explainSafely, explanation, listText, nodeOfProcess, type Explanation, type Fact, type Plot } from '../explain.js';
import { EXEC_SERVICE_ID } from '../../net/exec-service.js';
import { cappedKinds } from '../../net/record-bound.js';
import { MinHeap } from '../../util/heap.js';
import { maxOf, minOf } from '../../util/extent.js';

/** Examples listed beside each error count: enough to debug, bounded for results.json. */
export const MAX_EXAMPLES = 50;
/** Bins of the occupancy plot; bounds the report data whatever the run's length. */
export const OCCUPANCY_BINS = 200;
/** Points of the response-ratio plot; jobs beyond it are sampled evenly. */
export const MAX_RATIO_POINTS = 2_000;

export interface SchedCheckOptions {
  /** slots over every worker: the efficiency's denominator */
  totalSlots: number;
  /** worker -> its slots, for the occupancy plot */
  slotsByWorker: Readonly<Record<string, number>>;
  /** --exactly-once: duplicated tasks make the run invalid */
  exactlyOnce: boolean;
  /** the nodes clients submit to, and the client threads (to name the node that took a submit) */
  schedulers: readonly string[];
  concurrency: number;
}

export interface TaskSpec {
  id: string;
  durationMs: number;
}

interface Job {
  id: string;
  tasks: TaskSpec[];
  process: number;
  invokeMs: number;
  outcome: 'ok' | 'fail' | 'info' | 'pending';
  completeMs: number | null;
}

interface TaskRecord {
  durationMs: number;
  job: string;
  /** completions, in order */
  completionsMs: number[];
  firstStartMs: number | null;
}

interface RunInterval {
  node: string;
  task: string;
  startMs: number;
  endMs: number | null;
  killed: boolean;
}

/** Reads a submit's value ({job, tasks: [{id, duration_ms}]}); null when it is not one. */
export function parseSubmitValue(value: Json | undefined): { job: string; tasks: TaskSpec[] } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { job, tasks } = value;
  if (typeof job !== 'string' || !Array.isArray(tasks)) return null;
  const specs: TaskSpec[] = [];
  for (const task of tasks) {
    if (typeof task !== 'object' || task === null || Array.isArray(task)) return null;
    if (typeof task.id !== 'string' || typeof task.duration_ms !== 'number') return null;
    specs.push({ id: task.id, durationMs: task.duration_ms });
  }
  return { job, tasks: specs };
}

/** Jobs from the history's submits, paired invoke to completion by process. */
function collectJobs(history: readonly Op[]): Job[] {
  const jobs: Job[] = [];
  const open = new Map<number, Job>();
  for (const op of history) {
    if (!isClientOp(op) || op.f !== 'submit') continue;
    const process = op.process as number;
    if (op.type === 'invoke') {
      const parsed = parseSubmitValue(op.value);
      if (parsed === null) throw new Error(`submit ${op.index} has no {job, tasks} value: ${JSON.stringify(op.value)}`);
      const job: Job = { id: parsed.job, tasks: parsed.tasks, process, invokeMs: op.time / 1e6, outcome: 'pending', completeMs: null };
      jobs.push(job);
      open.set(process, job);
      continue;
    }
    const job = open.get(process);
    if (job === undefined) throw new Error(`submit completion ${op.index} has no invocation`);
    open.delete(process);
    job.outcome = op.type;
    job.completeMs = op.time / 1e6;
  }
  return jobs;
}

const str = (event: ServiceEvent, key: string): string => {
  const value = event[key];
  return typeof value === 'string' ? value : '';
};
const num = (event: ServiceEvent, key: string): number => {
  const value = event[key];
  return typeof value === 'number' ? value : 0;
};

interface ExecFacts {
  tasks: Map<string, TaskRecord>;
  runs: RunInterval[];
  phantoms: Json[];
  refusedCount: number;
  killedCount: number;
  killedSlotMs: number;
}

/** Replays the exec service's log against the submitted tasks. */
function replayExec(jobs: readonly Job[], events: readonly ServiceEvent[]): ExecFacts {
  const tasks = new Map<string, TaskRecord>();
  for (const job of jobs) {
    for (const task of job.tasks) tasks.set(task.id, { durationMs: task.durationMs, job: job.id, completionsMs: [], firstStartMs: null });
  }
  const facts: ExecFacts = { tasks, runs: [], phantoms: [], refusedCount: 0, killedCount: 0, killedSlotMs: 0 };
  const openRuns = new Map<number, RunInterval>();
  for (const event of events) {
    if (event.service !== EXEC_SERVICE_ID) continue;
    const taskId = str(event, 'task');
    const record = tasks.get(taskId);
    switch (event.type) {
      case 'start': {
        // The service refuses unsubmitted runs, so a start it recorded for one is its own bug;
        // counted as a phantom all the same rather than trusted.
        if (record === undefined || record.durationMs !== num(event, 'duration_ms')) {
          facts.phantoms.push({ task: taskId, node: event.node, duration_ms: num(event, 'duration_ms') });
        }
        if (record !== undefined && record.firstStartMs === null) record.firstStartMs = event.timeMs;
        const run: RunInterval = { node: event.node, task: taskId, startMs: event.timeMs, endMs: null, killed: false };
        openRuns.set(num(event, 'run'), run);
        facts.runs.push(run);
        break;
      }
      case 'complete': {
        record?.completionsMs.push(event.timeMs);
        const run = openRuns.get(num(event, 'run'));
        if (run !== undefined) run.endMs = event.timeMs;
        break;
      }
      case 'killed': {
        facts.killedCount++;
        facts.killedSlotMs += num(event, 'ran_ms');
        const run = openRuns.get(num(event, 'run'));
        if (run !== undefined) {
          run.endMs = event.timeMs;
          run.killed = true;
        }
        break;
      }
      case 'refused':
        facts.refusedCount++;
        break;
      case 'phantom':
        facts.phantoms.push({ task: taskId, node: event.node, duration_ms: num(event, 'duration_ms'), submitted_ms: record?.durationMs ?? null });
        break;
    }
  }
  return facts;
}


const round = (value: number, places = 4): number => Math.round(value * 10 ** places) / 10 ** places;

function busyMsWithin(runs: readonly RunInterval[], fromMs: number, toMs: number): number {
  let busy = 0;
  for (const run of runs) {
    const end = Math.min(run.endMs ?? toMs, toMs);
    const start = Math.max(run.startMs, fromMs);
    if (end > start) busy += end - start;
  }
  return busy;
}

interface Verdicts {
  lost: string[];
  ranAfterFailure: string[];
  duplicated: Array<{ task: string; completions: number }>;
}

function verdicts(jobs: readonly Job[], tasks: ReadonlyMap<string, TaskRecord>): Verdicts {
  const result: Verdicts = { lost: [], ranAfterFailure: [], duplicated: [] };
  for (const job of jobs) {
    for (const task of job.tasks) {
      const completions = tasks.get(task.id)?.completionsMs.length ?? 0;
      if (job.outcome === 'ok' && completions === 0) result.lost.push(task.id);
      if (job.outcome === 'fail' && completions > 0) result.ranAfterFailure.push(task.id);
      if (completions > 1) result.duplicated.push({ task: task.id, completions });
    }
  }
  return result;
}

interface JobTiming {
  submitMs: number;
  ratio: number;
}

/** Response ratio of every accepted job whose tasks all completed (first completions). */
function jobTimings(jobs: readonly Job[], tasks: ReadonlyMap<string, TaskRecord>): { ratios: JobTiming[]; queueDelaysMs: number[] } {
  const ratios: JobTiming[] = [];
  const queueDelaysMs: number[] = [];
  for (const job of jobs) {
    if (job.outcome !== 'ok' || job.tasks.length === 0) continue;
    let lastMs = -Infinity;
    let longestMs = 0;
    let complete = true;
    for (const task of job.tasks) {
      const record = tasks.get(task.id);
      const first = record?.completionsMs[0];
      if (first === undefined) complete = false;
      else lastMs = Math.max(lastMs, first);
      longestMs = Math.max(longestMs, task.durationMs);
      // A worker may start a task before the submit_ok reaches the client: no wait, not a negative one.
      if (record?.firstStartMs != null && job.completeMs !== null) queueDelaysMs.push(Math.max(0, record.firstStartMs - job.completeMs));
    }
    if (complete && longestMs > 0) ratios.push({ submitMs: job.invokeMs, ratio: (lastMs - job.invokeMs) / longestMs });
  }
  return { ratios, queueDelaysMs };
}

/** Average busy slots per worker in OCCUPANCY_BINS equal bins of [fromMs, toMs]. */
export function occupancy(runs: readonly RunInterval[], workers: readonly string[], fromMs: number, toMs: number): { binMs: number; byWorker: Record<string, number[]> } {
  const binMs = Math.max(1, (toMs - fromMs) / OCCUPANCY_BINS);
  const byWorker: Record<string, number[]> = {};
  for (const worker of workers) byWorker[worker] = new Array<number>(OCCUPANCY_BINS).fill(0);
  for (const run of runs) {
    const bins = byWorker[run.node];
    if (bins === undefined) continue;
    const end = Math.min(run.endMs ?? toMs, toMs);
    for (let at = Math.max(run.startMs, fromMs); at < end; ) {
      const bin = Math.min(OCCUPANCY_BINS - 1, Math.floor((at - fromMs) / binMs));
      const binEnd = Math.min(end, fromMs + (bin + 1) * binMs);
      bins[bin] = (bins[bin] ?? 0) + (binEnd - at) / binMs;
      at = binEnd > at ? binEnd : end;
    }
  }
  for (const worker of workers) byWorker[worker] = (byWorker[worker] ?? []).map((value) => round(value, 3));
  return { binMs: round(binMs, 3), byWorker };
}

/**
 * The response ratios an ideal scheduler would give the accepted jobs: one global FIFO queue of
 * tasks onto every slot, no message ever sent, each job's tasks taken at its submit time. A
 * yardstick for the real ratios: what queueing alone costs at this load and these arrivals.
 */
export function idealResponseRatios(jobs: ReadonlyArray<{ invokeMs: number; tasks: readonly TaskSpec[] }>, totalSlots: number): number[] {
  if (totalSlots <= 0) return [];
  const freeAtMs = new MinHeap<number>((a, b) => a < b);
  for (let k = 0; k < totalSlots; k++) freeAtMs.push(0);
  const ratios: number[] = [];
  for (const job of [...jobs].sort((a, b) => a.invokeMs - b.invokeMs)) {
    let lastMs = job.invokeMs;
    let longestMs = 0;
    for (const task of job.tasks) {
      const endMs = Math.max(freeAtMs.pop() ?? 0, job.invokeMs) + task.durationMs;
      freeAtMs.push(endMs);
      lastMs = Math.max(lastMs, endMs);
      longestMs = Math.max(longestMs, task.durationMs);
    }
    if (longestMs > 0) ratios.push((lastMs - job.invokeMs) / longestMs);
  }
  return ratios;
}

function sampled<T>(items: readonly T[], bound: number): T[] {
  if (items.length <= bound) return [...items];
  const stride = items.length / bound;
  return Array.from({ length: bound }, (_, k) => items[Math.floor(k * stride)] as T);
}

export interface SchedVerdict {
  workload: CheckResult;
  extra: { [key: string]: Json };
  explanation: Explanation;
}

/** The checker: history of submits, the exec service's events, the cluster's slots. */
export function checkSched(history: readonly Op[], events: readonly ServiceEvent[], options: SchedCheckOptions): SchedVerdict {
  const jobs = collectJobs(history);
  const facts = replayExec(jobs, events);
  const capped = cappedKinds(events, EXEC_SERVICE_ID);
  const found = verdicts(jobs, facts.tasks);
  const { ratios, queueDelaysMs } = jobTimings(jobs, facts.tasks);

  const completionsMs = [...facts.tasks.values()].flatMap((task) => task.completionsMs);
  const firstSubmitMs = jobs.length > 0 ? minOf(jobs.map((job) => job.invokeMs)) : null;
  const lastSubmitMs = jobs.length > 0 ? maxOf(jobs.map((job) => job.invokeMs)) : null;
  const lastCompletionMs = completionsMs.length > 0 ? maxOf(completionsMs) : null;
  let doneMs = 0;
  for (const task of facts.tasks.values()) if (task.completionsMs.length > 0) doneMs += task.durationMs;
  const spanMs = firstSubmitMs !== null && lastCompletionMs !== null ? lastCompletionMs - firstSubmitMs : 0;
  const efficiency = spanMs > 0 && options.totalSlots > 0 ? round(doneMs / (options.totalSlots * spanMs)) : null;
  const loadMs = firstSubmitMs !== null && lastSubmitMs !== null ? lastSubmitMs - firstSubmitMs : 0;
  const utilization =
    loadMs > 0 && options.totalSlots > 0 && firstSubmitMs !== null
      ? round(busyMsWithin(facts.runs, firstSubmitMs, firstSubmitMs + loadMs) / (options.totalSlots * loadMs))
      : null;

  const duplicatedInvalid = options.exactlyOnce && found.duplicated.length > 0;
  const valid = found.lost.length === 0 && facts.phantoms.length === 0 && found.ranAfterFailure.length === 0 && !duplicatedInvalid;
  const count = (outcome: Job['outcome']): number => jobs.filter((job) => job.outcome === outcome).length;
  const workload: CheckResult = {
    'valid?': valid,
    'job-count': jobs.length,
    'ok-job-count': count('ok'),
    'fail-job-count': count('fail'),
    'info-job-count': count('info') + count('pending'),
    'task-count': facts.tasks.size,
    'completed-task-count': [...facts.tasks.values()].filter((task) => task.completionsMs.length > 0).length,
    'lost-count': found.lost.length,
    lost: found.lost.slice(0, MAX_EXAMPLES),
    'phantom-count': facts.phantoms.length,
    phantom: facts.phantoms.slice(0, MAX_EXAMPLES),
    'ran-after-failure-count': found.ranAfterFailure.length,
    'ran-after-failure': found.ranAfterFailure.slice(0, MAX_EXAMPLES),
    'duplicated-count': found.duplicated.length,
    duplicated: found.duplicated.slice(0, MAX_EXAMPLES),
    'refused-count': facts.refusedCount,
    // exec stopped recording these kinds at its bound: their counts are at least what is shown
    ...(capped.length === 0 ? {} : { 'counts-capped': capped }),
    'killed-count': facts.killedCount,
    'killed-slot-ms': round(facts.killedSlotMs, 3),
    efficiency,
    utilization,
    'response-ratio': reportedQuantiles(ratios.map((timing) => round(timing.ratio))),
    'queue-delay-ms': reportedQuantiles(queueDelaysMs.map((delay) => round(delay, 3))),
  };
  const workers = Object.keys(options.slotsByWorker).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const plotFromMs = firstSubmitMs ?? 0;
  const plotToMs = Math.max(lastCompletionMs ?? plotFromMs, ...facts.runs.map((run) => run.endMs ?? run.startMs));
  const ideal = idealResponseRatios(jobs.filter((job) => job.outcome === 'ok'), options.totalSlots);
  const extra = {
    'ideal-response-ratio': reportedQuantiles(ideal.map((ratio) => round(ratio))),
    'slots-by-worker': { ...options.slotsByWorker },
    occupancy: { 'from-ms': round(plotFromMs, 3), ...occupancy(facts.runs, workers, plotFromMs, plotToMs) },
    'response-ratios': sampled(ratios, MAX_RATIO_POINTS).map((timing) => [round(timing.submitMs, 1), round(timing.ratio)]),
  };
  const explain = (): Explanation => explainSched({ jobs, facts, found, workload, extra, options });
  return { workload, extra, explanation: explainSafely(explain) };
}

const ms = (timeMs: number): string => `${(timeMs / 1000).toFixed(3)} s`;

interface ExplainInput {
  jobs: readonly Job[];
  facts: ExecFacts;
  found: Verdicts;
  workload: CheckResult;
  extra: { [key: string]: Json };
  options: SchedCheckOptions;
}

/** Where a task ran, in words: "started on n3 at 1.200 s, killed at 1.250 s; ..." */
function runsText(runs: readonly RunInterval[]): string {
  if (runs.length === 0) return 'it never started';
  return runs
    .map((run) => `${run.killed ? 'killed' : run.endMs === null ? 'still running' : 'ran'} on ${run.node} from ${ms(run.startMs)}${run.endMs === null ? '' : ` to ${ms(run.endMs)}`}`)
    .join('; ');
}

/** The verdict in words (lost, phantom, ran-after-failure and duplicated tasks) and two plots. */
function explainSched({ jobs, facts, found, workload, extra, options }: ExplainInput): Explanation {
  const runsByTask = new Map<string, RunInterval[]>();
  for (const run of facts.runs) runsByTask.set(run.task, [...(runsByTask.get(run.task) ?? []), run]);
  const jobOf = new Map<string, Job>();
  for (const job of jobs) for (const task of job.tasks) jobOf.set(task.id, job);
  const submitText = (taskId: string): string => {
    const job = jobOf.get(taskId);
    if (job === undefined) return '';
    const node = nodeOfProcess(job.process, { nodes: [...options.schedulers], concurrency: options.concurrency });
    return `job ${job.id} submitted to ${node} at ${ms(job.invokeMs)} (${job.outcome})`;
  };
  const factsOut: Fact[] = [];
  const at = (taskId: string): number => (jobOf.get(taskId)?.invokeMs ?? 0) * 1e6;
  for (const task of found.lost) factsOut.push({ text: `Lost: task ${task} of ${submitText(task)} never completed; ${runsText(runsByTask.get(task) ?? [])}.`, atNs: at(task) });
  for (const phantom of facts.phantoms) {
    const p = phantom as { task: string; node: string; duration_ms: number; submitted_ms?: number | null };
    const why = p.submitted_ms === null || p.submitted_ms === undefined ? 'which no client submitted' : `submitted with duration_ms ${p.submitted_ms}`;
    factsOut.push({ text: `Phantom: ${p.node} asked exec to run ${p.task} for ${p.duration_ms} ms, ${why}.`, nodes: [p.node] });
  }
  for (const task of found.ranAfterFailure) factsOut.push({ text: `Ran after failure: task ${task} of ${submitText(task)} ran anyway; ${runsText(runsByTask.get(task) ?? [])}.`, atNs: at(task) });
  for (const { task, completions } of found.duplicated) {
    const nodes = [...new Set((runsByTask.get(task) ?? []).map((run) => run.node))].sort(byNodeName);
    factsOut.push({ text: `Duplicated: task ${task} of ${submitText(task)} completed ${completions} times (on ${listText(nodes)}); ${runsText(runsByTask.get(task) ?? [])}.`, atNs: at(task), nodes });
  }
  const counts = `lost ${String(workload['lost-count'])}, phantom ${String(workload['phantom-count'])}, ran-after-failure ${String(workload['ran-after-failure-count'])}, duplicated ${String(workload['duplicated-count'])}`;
  const ratio = workload['response-ratio'] as { [k: string]: number } | null;
  // The figures ride in the headline: the console shows the view's own line only without facts.
  const figures = `efficiency ${String(workload.efficiency)}, response ratio median ${String(ratio?.['0.5'] ?? '-')}, p99 ${String(ratio?.['0.99'] ?? '-')}`;
  const headline =
    workload['valid?'] === true
      ? `Every task of every accepted job completed, none of a refused job ran, no run was asked for a task nobody submitted (${counts}); ${figures}.`
      : `Tasks went wrong: ${counts}${options.exactlyOnce ? ' (duplicates count under --exactly-once)' : ''}; ${figures}.`;
  return explanation(headline, factsOut, [occupancyPlot(extra), ratioPlot(extra)]);
}

/** One colour per worker line, told apart at a glance (cycled beyond ten workers). */
const WORKER_COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

function occupancyPlot(extra: { [key: string]: Json }): Plot {
  const occupancy = extra.occupancy as { 'from-ms': number; binMs: number; byWorker: Record<string, number[]> };
  const series = Object.entries(occupancy.byWorker).map(([worker, bins], k) => ({
    label: worker,
    colour: WORKER_COLOURS[k % WORKER_COLOURS.length] as string,
    style: 'steps' as const,
    points: bins.map((busy, k) => [(occupancy['from-ms'] + k * occupancy.binMs) / 1000, busy] as [number, number]),
  }));
  return {
    id: 'sched-occupancy',
    title: 'Busy slots per worker',
    yLabel: 'busy slots',
    series,
    caption: `Average busy exec slots of each worker in ${OCCUPANCY_BINS} steps from the first submit to the last run; a worker's line at its slot count is a worker with no idle slot.`,
  };
}

function ratioPlot(extra: { [key: string]: Json }): Plot {
  const points = (extra['response-ratios'] as Array<[number, number]>).map(([submitMs, ratio]) => [submitMs / 1000, ratio] as [number, number]);
  return {
    id: 'sched-response-ratio',
    title: 'Response ratio of each job by its submit time',
    yLabel: 'response ratio',
    // the legend is narrow: the formula goes in the caption
    series: [{ label: 'a job', style: 'dots', points }],
    caption: "Each dot is a job: (its last task's completion - its submit) / its longest task. A job at 1 ran all its tasks at once as soon as it was submitted; above 1, its tasks waited for slots (queueing, or faults: shaded).",
  };
}
