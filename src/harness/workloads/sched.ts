// The sched workload (docs/workloads/sched.md): clients submit jobs of tasks to scheduler nodes,
// which must see every task of an accepted job run to completion, exactly once where they can, on
// the workers' slots of the `exec` service. Before load every node learns who schedules and how
// many slots each worker has (`cluster`); the final phase waits until every accepted task ran.
import type { Json, Op, ServiceEvent, TestOptions } from '../types.js';
import type { SetupRequest, Workload } from '../workload.js';
import { counting } from '../run/generator.js';
import { choiceOption, exactlyOnceOption, intOption, intOptionValue, optionValue } from '../cli/options.js';
import { deriveRng } from '../util/rng.js';
import { drawLatencyMs } from '../net/network.js';
import { createExecService, EXEC_SERVICE_ID } from '../net/exec-service.js';
import { checkSched, parseSubmitValue } from '../check/checkers/sched.js';
import type { LatencyDist } from '../types.js';
import { singleRpcClient, validateReply } from './rpc.js';
import { schedView } from '../report/views/sched.js';

/** Tasks per job the generator may ask for: one submit stays a small request. */
export const MAX_JOB_TASKS = 1_000;

export const schedulersOption = intOption('schedulers', 'schedulers', 'nodes n0..n(S-1) schedule and have no slots; 0: every node schedules and has slots (default 0)', 0, { min: 0 });
export const slotsOption = intOption('slots', 'slots', 'exec slots per worker (default 2)', 2, { min: 1, max: 1024 });
export const jobTasksOption = intOption('job-tasks', 'jobTasks', 'tasks per submitted job (default 1)', 1, { min: 1, max: MAX_JOB_TASKS });
export const taskMsOption = intOption('task-ms', 'taskMs', 'mean task duration in ms (default 100)', 100, { min: 1, max: 600_000 });
export const taskDistOption = choiceOption('task-dist', 'taskDist', 'task durations', ['constant', 'uniform', 'exponential'], 'constant');

/** Longest task the exponential distribution draws, in means: bounds one run's length. */
const EXPONENTIAL_CAP_MEANS = 20;

/** The final wait of this workload: long enough for a backlog of tasks to drain after healing. */
export const SCHED_FINAL_WAIT_S = 120;

export interface SchedCluster {
  schedulers: string[];
  /** worker -> slots (schedulers with S > 0 are absent: they have none) */
  slots: Record<string, number>;
}

/** Who schedules and who has slots, from --schedulers and --slots. */
export function schedCluster(opts: TestOptions): SchedCluster {
  const s = intOptionValue(opts, schedulersOption) ?? 0;
  const k = intOptionValue(opts, slotsOption) ?? 2;
  const schedulers = s === 0 ? [...opts.nodes] : opts.nodes.slice(0, s);
  const workers = s === 0 ? opts.nodes : opts.nodes.slice(s);
  return { schedulers, slots: Object.fromEntries(workers.map((node) => [node, k])) };
}

/** The tasks of job n: ids j<n>.<k>, durations drawn from --task-dist around --task-ms (a pure function of seed and n). */
export function jobTasks(opts: TestOptions, n: number): Array<{ id: string; duration_ms: number }> {
  const count = intOptionValue(opts, jobTasksOption) ?? 1;
  const meanMs = intOptionValue(opts, taskMsOption) ?? 100;
  const dist = String(optionValue(opts, taskDistOption)) as LatencyDist;
  const rng = deriveRng(opts.seed, `sched-job-${n}`);
  return Array.from({ length: count }, (_, k) => ({
    id: `j${n}.${k}`,
    duration_ms: Math.min(EXPONENTIAL_CAP_MEANS * meanMs, Math.max(1, drawLatencyMs(dist, meanMs, rng))),
  }));
}

// The exec service must know what clients submitted (error 12 otherwise); clients register each
// job's tasks before sending it. One table per run, found by the run's options object, which the
// runner hands to both services() and openClient().
const submittedByRun = new WeakMap<TestOptions, Map<string, number>>();

function submittedTable(opts: TestOptions): Map<string, number> {
  const table = submittedByRun.get(opts) ?? new Map<string, number>();
  submittedByRun.set(opts, table);
  return table;
}

/**
 * True once no submit is in flight (one still may be acknowledged: a paused scheduler answers
 * when it resumes) and every task of every acknowledged submit has a completion in the exec log.
 */
export function allAcceptedTasksDone(history: readonly Op[], events: readonly ServiceEvent[]): boolean {
  const completed = new Set<string>();
  for (const event of events) {
    if (event.service === EXEC_SERVICE_ID && event.type === 'complete' && typeof event.task === 'string') completed.add(event.task);
  }
  const inFlight = new Set<number | 'nemesis'>();
  for (const op of history) {
    if (op.f !== 'submit') continue;
    if (op.type === 'invoke') inFlight.add(op.process);
    else inFlight.delete(op.process);
    if (op.type !== 'ok') continue;
    const job = parseSubmitValue(op.value);
    if (job === null || job.tasks.some((task) => !completed.has(task.id))) return false;
  }
  return inFlight.size === 0;
}

const submitClient = singleRpcClient({
  request: (op) => ({ type: 'submit', ...(op.value as { [key: string]: Json }) }),
  reply(op, body) {
    validateReply({ type: 'submit' }, body, 'submit_ok', {});
    return { type: 'ok', value: op.value ?? null };
  },
});

export const schedWorkload: Workload = {
  name: 'sched',
  options: [schedulersOption, slotsOption, jobTasksOption, taskMsOption, taskDistOption, exactlyOnceOption],
  defaultFinalWaitS: SCHED_FINAL_WAIT_S,
  view: schedView,

  validate(opts) {
    const s = intOptionValue(opts, schedulersOption) ?? 0;
    if (s >= opts.nodes.length) return `--schedulers ${s} leaves no worker among ${opts.nodes.length} node(s); use fewer schedulers or more nodes`;
    return undefined;
  },

  setup(opts): SetupRequest[] {
    const { schedulers, slots } = schedCluster(opts);
    return opts.nodes.map((node) => ({ dest: node, body: { type: 'cluster', schedulers, slots }, replyType: 'cluster_ok' }));
  },

  services(opts) {
    const table = submittedTable(opts);
    return [createExecService({ slots: schedCluster(opts).slots, submittedDurationMs: (task) => table.get(task) })];
  },

  clientNodes: (opts) => schedCluster(opts).schedulers,

  generator: (opts) => counting((n) => ({ f: 'submit', value: { job: `j${n}`, tasks: jobTasks(opts, n) } })),

  openClient(conn, opts) {
    const table = submittedTable(opts);
    const client = submitClient(conn, opts);
    return {
      invoke(op) {
        for (const task of parseSubmitValue(op.value)?.tasks ?? []) table.set(task.id, task.durationMs);
        return client.invoke(op);
      },
    };
  },

  finalWaitUntil: allAcceptedTasksDone,

  check(history, ctx) {
    const { schedulers, slots } = schedCluster(ctx.opts);
    const totalSlots = Object.values(slots).reduce((sum, k) => sum + k, 0);
    return checkSched(history, ctx.serviceEvents ?? [], {
      totalSlots,
      slotsByWorker: slots,
      exactlyOnce: optionValue(ctx.opts, exactlyOnceOption) === true,
      schedulers,
      concurrency: ctx.opts.concurrency,
    });
  },
};
