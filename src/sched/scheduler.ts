// The scheduler's bookkeeping (docs/workloads/sched.md, "bin/sched"): the tasks of the jobs this
// node accepted, which of them wait for a slot, which a worker holds, and how many reservations
// this node has standing at each worker. Pure functions of state, input and time; the server does
// the I/O. Invariant: a task is in exactly one of pending, granting, granted or done, and `pending`
// and `granted` hold exactly the tasks in those states.

/** Where lin-kv says a task went: the worker incarnation it was granted to, or done. */
export type Claim = { w: string; i: string } | 'done';

export type TaskStatus = 'pending' | 'granting' | 'granted' | 'done';

export interface Task {
  id: string;
  job: string;
  durationMs: number;
  status: TaskStatus;
  /** the claim lin-kv holds as far as we know; null: none yet */
  claim: Claim | null;
  /** granted: when to ask after it next */
  checkAtMs: number;
  /** a status check is in flight */
  checking: boolean;
}

export interface JobRecord {
  tasks: string[];
  /** log chunk the job is in (for the low-water mark) */
  chunk: number;
  remaining: number;
}

export interface Standing {
  count: number;
  /** last probe sent to, or task asked by, that worker */
  lastMs: number;
}

export interface SchedulerState {
  tasks: Map<string, Task>;
  jobs: Map<string, JobRecord>;
  /** pending task ids in the order they became pending (oldest first) */
  pending: Set<string>;
  granted: Set<string>;
  /** reservations this node believes it has queued at each worker */
  standing: Map<string, Standing>;
  /** log chunk -> jobs in it not yet finished */
  openByChunk: Map<number, number>;
}

export interface SchedulerConfig {
  /** probes per new task (Sparrow's d) */
  probesPerTask: number;
  /** wait past a granted task's duration before asking its worker about it */
  checkAfterMs: number;
  /** a worker that has not asked for this long has lost our reservations (killed, partitioned) */
  reservationStaleMs: number;
  /** upper bound on probes sent per tick */
  maxProbesPerTick: number;
  /** reservations per slot of a worker that count as covering pending tasks */
  coverPerSlot: number;
}

export const defaultSchedulerConfig: SchedulerConfig = {
  probesPerTask: 2,
  checkAfterMs: 1_000,
  reservationStaleMs: 1_000,
  maxProbesPerTick: 256,
  coverPerSlot: 2,
};

export function createScheduler(): SchedulerState {
  return { tasks: new Map(), jobs: new Map(), pending: new Set(), granted: new Set(), standing: new Map(), openByChunk: new Map() };
}

function setStatus(state: SchedulerState, task: Task, status: TaskStatus): void {
  state.pending.delete(task.id);
  state.granted.delete(task.id);
  if (status === 'pending') state.pending.add(task.id);
  if (status === 'granted') state.granted.add(task.id);
  task.status = status;
  task.checking = false;
}

/** Adds an accepted job; its tasks start with the status lin-kv gave them (recovery) or pending. */
export function addJob(
  state: SchedulerState,
  job: { id: string; tasks: ReadonlyArray<{ id: string; durationMs: number }> },
  chunk: number,
): void {
  if (state.jobs.has(job.id)) return;
  state.jobs.set(job.id, { tasks: job.tasks.map((task) => task.id), chunk, remaining: job.tasks.length });
  state.openByChunk.set(chunk, (state.openByChunk.get(chunk) ?? 0) + 1);
  for (const spec of job.tasks) {
    const task: Task = { id: spec.id, job: job.id, durationMs: spec.durationMs, status: 'pending', claim: null, checkAtMs: 0, checking: false };
    state.tasks.set(spec.id, task);
    state.pending.add(spec.id);
  }
}

/** The task to grant a worker: the oldest pending one (FIFO keeps response times even). */
export function takeTask(state: SchedulerState): Task | undefined {
  for (const id of state.pending) {
    const task = state.tasks.get(id) as Task;
    setStatus(state, task, 'granting');
    return task;
  }
  return undefined;
}

/** A worker asked for a task: one of our reservations there is used up. */
export function noteAsk(state: SchedulerState, worker: string, nowMs: number): void {
  const standing = state.standing.get(worker);
  if (standing === undefined) return;
  standing.count = Math.max(0, standing.count - 1);
  standing.lastMs = nowMs;
}

/** The grant's claim is in lin-kv: the worker holds the task. */
export function granted(state: SchedulerState, task: Task, claim: Claim, nowMs: number, config: SchedulerConfig): void {
  task.claim = claim;
  setStatus(state, task, 'granted');
  task.checkAtMs = nowMs + task.durationMs + config.checkAfterMs;
}

/** The task waits for lin-kv to say where it is (recovery, a failed grant): neither pending nor granted. */
export function hold(state: SchedulerState, task: Task): void {
  if (task.status !== 'done') setStatus(state, task, 'granting');
}

/** The task goes back to waiting for a slot (its grant failed, or its worker lost it). */
export function requeue(state: SchedulerState, task: Task): void {
  if (task.status === 'done') return;
  setStatus(state, task, 'pending');
}

/** A task is done; returns the log chunk whose last open job it finished, if it did. */
export function markDone(state: SchedulerState, taskId: string): { finishedJob?: string; finishedChunk?: number } {
  const task = state.tasks.get(taskId);
  if (task === undefined || task.status === 'done') return {};
  task.claim = 'done';
  setStatus(state, task, 'done');
  const job = state.jobs.get(task.job);
  if (job === undefined) return {};
  job.remaining--;
  if (job.remaining > 0) return {};
  // A finished job leaves memory; lin-kv keeps its claims, the server remembers its id.
  for (const id of job.tasks) state.tasks.delete(id);
  state.jobs.delete(task.job);
  const open = (state.openByChunk.get(job.chunk) ?? 1) - 1;
  if (open > 0) {
    state.openByChunk.set(job.chunk, open);
    return { finishedJob: task.job };
  }
  state.openByChunk.delete(job.chunk);
  return { finishedJob: task.job, finishedChunk: job.chunk };
}

/**
 * Jobs whose log chunk landed at another index than the one they were given (the index was taken
 * by a late write of an earlier incarnation): their open count moves with them.
 */
export function moveChunk(state: SchedulerState, jobIds: readonly string[], from: number, to: number): void {
  if (from === to) return;
  for (const id of jobIds) {
    const job = state.jobs.get(id);
    if (job === undefined || job.chunk !== from) continue;
    job.chunk = to;
    const open = (state.openByChunk.get(from) ?? 1) - 1;
    if (open > 0) state.openByChunk.set(from, open);
    else state.openByChunk.delete(from);
    state.openByChunk.set(to, (state.openByChunk.get(to) ?? 0) + 1);
  }
}

/** The lowest log chunk that still has an open job, or `next` when none has. */
export function lowWater(state: SchedulerState, next: number): number {
  let low = next;
  for (const chunk of state.openByChunk.keys()) low = Math.min(low, chunk);
  return low;
}

/**
 * Workers to probe now: Sparrow's d probes per new task, spread over the workers from a random
 * one (batch sampling: no worker gets two of a job's probes before every worker has one), plus
 * one probe per pending task that no useful reservation covers, to the workers with the most room
 * under their cap (an idle or restarted worker first). Reservations at a worker that has not
 * asked for reservationStaleMs are written off (dead, cut off), and a busy worker's reservations
 * count only up to coverPerSlot per slot: a backlog queued there would not reach idle slots.
 */
export function probesDue(
  state: SchedulerState,
  workers: ReadonlyArray<{ id: string; slots: number }>,
  newTasks: number,
  nowMs: number,
  config: SchedulerConfig,
  random: () => number,
): string[] {
  let covered = 0;
  for (const worker of workers) {
    const standing = state.standing.get(worker.id);
    if (standing === undefined) continue;
    if (standing.count > 0 && nowMs - standing.lastMs > config.reservationStaleMs) standing.count = 0;
    covered += Math.min(standing.count, config.coverPerSlot * worker.slots);
  }
  const targets: string[] = [];
  const batch = Math.min(config.maxProbesPerTick, newTasks * config.probesPerTask);
  const start = Math.floor(random() * workers.length);
  for (let k = 0; k < batch && workers.length > 0; k++) targets.push((workers[(start + k) % workers.length] as { id: string }).id);
  for (const target of targets) addStanding(state, target, nowMs);
  const deficit = Math.min(config.maxProbesPerTick - targets.length, state.pending.size - newTasks * config.probesPerTask - covered);
  const room = (worker: { id: string; slots: number }): number => config.coverPerSlot * worker.slots - (state.standing.get(worker.id)?.count ?? 0);
  for (let k = 0; k < deficit && workers.length > 0; k++) {
    let best = workers[(start + k) % workers.length] as { id: string; slots: number };
    for (const worker of workers) if (room(worker) > room(best)) best = worker;
    // Every worker already holds as many as count: more would only queue behind them.
    if (room(best) <= 0) break;
    addStanding(state, best.id, nowMs);
    targets.push(best.id);
  }
  return targets;
}

function addStanding(state: SchedulerState, worker: string, nowMs: number): void {
  const standing = state.standing.get(worker) ?? { count: 0, lastMs: nowMs };
  // The wait for an ask starts with the first reservation, not the latest.
  if (standing.count === 0) standing.lastMs = nowMs;
  standing.count++;
  state.standing.set(worker, standing);
}

/** Workers to tell to drop our reservations: nothing is pending, they would only ask in vain. */
export function cancellationsDue(state: SchedulerState): string[] {
  if (state.pending.size > 0) return [];
  const targets: string[] = [];
  for (const [worker, standing] of state.standing) {
    if (standing.count === 0) continue;
    standing.count = 0;
    targets.push(worker);
  }
  return targets;
}

/** Granted tasks whose worker should have finished by now and has not said so. */
export function checksDue(state: SchedulerState, nowMs: number, limit: number): Task[] {
  const due: Task[] = [];
  for (const id of state.granted) {
    if (due.length >= limit) break;
    const task = state.tasks.get(id) as Task;
    if (!task.checking && task.checkAtMs <= nowMs) due.push(task);
  }
  return due;
}

/** Throws when the invariant above is broken (tests call it after every step). */
export function assertSchedulerInvariant(state: SchedulerState): void {
  for (const task of state.tasks.values()) {
    if (state.pending.has(task.id) !== (task.status === 'pending')) throw new Error(`task ${task.id}: pending set disagrees with status ${task.status}`);
    if (state.granted.has(task.id) !== (task.status === 'granted')) throw new Error(`task ${task.id}: granted set disagrees with status ${task.status}`);
  }
  const openByChunk = new Map<number, number>();
  for (const job of state.jobs.values()) {
    const open = job.tasks.filter((id) => state.tasks.get(id)?.status !== 'done').length;
    if (open !== job.remaining) throw new Error(`job remaining ${job.remaining} but ${open} tasks open`);
    openByChunk.set(job.chunk, (openByChunk.get(job.chunk) ?? 0) + 1);
  }
  for (const [chunk, count] of state.openByChunk) {
    if (openByChunk.get(chunk) !== count) throw new Error(`chunk ${chunk}: ${count} open jobs counted, ${openByChunk.get(chunk) ?? 0} held`);
  }
}
