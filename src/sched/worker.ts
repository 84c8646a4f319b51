// The worker's bookkeeping (docs/workloads/sched.md, "bin/sched"): reservations schedulers left
// here (late binding: a reservation becomes a task only when a slot is about to be free), and per
// slot the task running and the one fetched to follow it, so a slot does not wait a round trip
// between tasks. Pure functions of state, input and time; the server does the I/O.

export interface HeldTask {
  id: string;
  durationMs: number;
  /** the scheduler that granted it, told when it is done */
  scheduler: string;
}

export interface Slot {
  running: HeldTask | null;
  startedMs: number;
  /** fetched and waiting for this slot's running task to finish */
  next: HeldTask | null;
  fetching: boolean;
}

/** A set that forgets its oldest members beyond `limit` (answers about long-gone tasks). */
export interface BoundedSet {
  readonly limit: number;
  readonly items: Set<string>;
}

export function boundedSet(limit: number): BoundedSet {
  return { limit, items: new Set() };
}

export function remember(set: BoundedSet, item: string): void {
  set.items.delete(item);
  set.items.add(item);
  if (set.items.size > set.limit) set.items.delete(set.items.values().next().value as string);
}

export interface WorkerState {
  /** this process's identity: a restarted node is another incarnation, which holds nothing */
  incarnation: string;
  /** schedulers that left a reservation, oldest first */
  reservations: string[];
  slots: Slot[];
  /** tasks this incarnation ran to completion */
  done: BoundedSet;
  /** tasks this incarnation said it does not hold: it must never run them (a late grant is refused) */
  disowned: BoundedSet;
  /** smoothed round trip of a fetch, for how early to fetch a slot's next task */
  fetchRttMs: number;
  /** the last grant said its scheduler had more tasks waiting: fetch early, nothing waits for it */
  backlog: boolean;
}

export interface WorkerConfig {
  maxReservations: number;
  /** remembered done and disowned task ids */
  memory: number;
  /** fetch this long (plus twice the round trip) before the running task should end */
  leadMs: number;
  /**
   * the same while schedulers have a backlog: a task fetched early then waits for this slot but
   * would have waited anyway, and the slot is covered against a slow round trip (a loaded host)
   */
  backlogLeadMs: number;
}

export const defaultWorkerConfig: WorkerConfig = { maxReservations: 10_000, memory: 100_000, leadMs: 2, backlogLeadMs: 20 };

export function createWorker(slots: number, incarnation: string, config: WorkerConfig = defaultWorkerConfig): WorkerState {
  return {
    incarnation,
    reservations: [],
    slots: Array.from({ length: slots }, () => ({ running: null, startedMs: 0, next: null, fetching: false })),
    done: boundedSet(config.memory),
    disowned: boundedSet(config.memory),
    fetchRttMs: 1,
    backlog: false,
  };
}

/** Queues a scheduler's reservation; false when the queue is full (the scheduler probes again). */
export function reserve(state: WorkerState, scheduler: string, config: WorkerConfig = defaultWorkerConfig): boolean {
  if (state.reservations.length >= config.maxReservations) return false;
  state.reservations.push(scheduler);
  return true;
}

/** Drops every reservation of a scheduler that has nothing left to grant (proactive cancellation). */
export function cancel(state: WorkerState, scheduler: string): void {
  state.reservations = state.reservations.filter((s) => s !== scheduler);
}

function leadMs(state: WorkerState, config: WorkerConfig): number {
  return (state.backlog ? config.backlogLeadMs : config.leadMs) + 2 * state.fetchRttMs;
}

/** When slot k should fetch its next task: now for an idle slot, shortly before its task ends otherwise. */
function fetchAtMs(state: WorkerState, slot: Slot, config: WorkerConfig): number {
  if (slot.running === null) return -Infinity;
  return slot.startedMs + slot.running.durationMs - leadMs(state, config);
}

/**
 * What the slots need now: which start their fetched task, which fetch (each taking the oldest
 * reservation), and when to look again for a slot whose fetch is not yet due.
 */
export function plan(state: WorkerState, nowMs: number, config: WorkerConfig = defaultWorkerConfig): { start: number[]; fetch: Array<{ slot: number; scheduler: string }>; wakeAtMs: number | null } {
  const start: number[] = [];
  const fetch: Array<{ slot: number; scheduler: string }> = [];
  let wakeAtMs: number | null = null;
  state.slots.forEach((slot, k) => {
    if (slot.running === null && slot.next !== null) start.push(k);
  });
  state.slots.forEach((slot, k) => {
    if (slot.fetching || slot.next !== null || (slot.running === null && start.includes(k))) return;
    if (state.reservations.length === 0) return;
    const atMs = fetchAtMs(state, slot, config);
    if (atMs <= nowMs) {
      fetch.push({ slot: k, scheduler: state.reservations.shift() as string });
      slot.fetching = true;
    } else {
      wakeAtMs = wakeAtMs === null ? atMs : Math.min(wakeAtMs, atMs);
    }
  });
  return { start, fetch, wakeAtMs };
}

/** Slot k starts its fetched task. */
export function startNext(state: WorkerState, k: number, nowMs: number): HeldTask {
  const slot = state.slots[k] as Slot;
  const task = slot.next as HeldTask;
  slot.running = task;
  slot.next = null;
  slot.startedMs = nowMs;
  return task;
}

/** A fetch came back: the task (unless it was disowned meanwhile) waits for the slot. */
export function fetched(state: WorkerState, k: number, task: HeldTask | null, rttMs: number | null, backlog = false): void {
  const slot = state.slots[k] as Slot;
  slot.fetching = false;
  state.backlog = backlog;
  if (rttMs !== null) state.fetchRttMs = 0.8 * state.fetchRttMs + 0.2 * rttMs;
  if (task === null) return;
  if (!state.disowned.items.has(task.id)) slot.next = task;
  // The scheduler has more waiting: a slot idle for want of a reservation asks it too, at once,
  // rather than waiting for the scheduler's next probe (still late binding: only a free slot asks).
  if (backlog && state.reservations.length === 0 && state.slots.some(isIdle)) state.reservations.push(task.scheduler);
}

const isIdle = (slot: Slot): boolean => slot.running === null && slot.next === null && !slot.fetching;

/** Slot k's task finished (or was given up); returns it. */
export function finished(state: WorkerState, k: number, completed: boolean): HeldTask | null {
  const slot = state.slots[k] as Slot;
  const task = slot.running;
  slot.running = null;
  if (task !== null && completed) remember(state.done, task.id);
  return task;
}

/**
 * A scheduler asks after a task: running (or fetched), done, or unknown. Unknown is a promise:
 * this incarnation will never run it, so the scheduler may grant it elsewhere.
 */
export function taskStatus(state: WorkerState, taskId: string): 'running' | 'done' | 'unknown' {
  if (state.slots.some((slot) => slot.running?.id === taskId || slot.next?.id === taskId)) return 'running';
  if (state.done.items.has(taskId)) return 'done';
  remember(state.disowned, taskId);
  return 'unknown';
}

/** Throws when a slot holds something it cannot (tests call it after every step). */
export function assertWorkerInvariant(state: WorkerState): void {
  for (const slot of state.slots) {
    if (slot.next !== null && slot.fetching) throw new Error('a slot fetches while it already holds its next task');
    if (slot.running !== null && slot.running.id === slot.next?.id) throw new Error(`task ${slot.running.id} both running and next`);
  }
}
