// The simulation's virtual clock: one heap of timers ordered by (time, sequence) for the whole
// run (network, clients, interpreter, every node's timers). drive() pops the next timer, moves
// virtual time to it, runs it, and lets every microtask and promise chain settle (a real
// setImmediate turn) before the next, as Node runs one macrotask at a time.
import { getHeapStatistics } from 'node:v8';
import { MinHeap } from '../util/heap.js';
import type { Clock } from '../clock.js';

// Captured when this module loads, before the simulation patches the globals.
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;

interface Timer {
  atNs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Consecutive events at one virtual instant beyond which the run is declared stuck (no limits given). */
export const MAX_EVENTS_AT_ONE_INSTANT = 5_000_000;
/** Times the events-per-instant limit may be passed at one instant before the run is declared stuck. */
const MAX_TRIPS_AT_ONE_INSTANT = 10;
/**
 * Events between two looks at the heap and the wall clock (a look costs about a microsecond, an
 * event a few): often enough that a node keeping megabytes an event is stopped near the budget.
 */
const RESOURCE_CHECK_EVERY_EVENTS = 64;

/** A limit the run went past (sim/budget.ts); the clock goes on, and the simulation stops nodes. */
export interface OverBudget {
  kind: 'instant' | 'heap' | 'wall';
  detail: string;
}

export interface ClockLimits {
  eventsPerInstant: number;
  heapBytes: number;
  wallMs: number;
  /** Called at most once for heap and wall, and once per trip at one instant. */
  onOver(over: OverBudget): void;
}

export interface SimClock extends Clock {
  /** Like setTimer, but in ns and exact (no minimum delay). */
  setTimerNs(delayNs: number, fn: () => void): () => void;
  /** Timers still armed. */
  readonly pending: number;
  /** Keeps virtual time from moving until the returned release is called (a node loading). */
  hold(): () => void;
  /** Runs the virtual clock until work settles; real I/O it awaits is waited for in real time. */
  drive<T>(work: Promise<T>): Promise<T>;
  /** Drops every timer; nothing scheduled afterwards runs. */
  close(): void;
}

const NO_LIMITS: ClockLimits = {
  eventsPerInstant: MAX_EVENTS_AT_ONE_INSTANT,
  heapBytes: Infinity,
  wallMs: Infinity,
  onOver: () => {},
};

/** What drive() counts against the limits: events at the current instant, and heap and wall time now and then. */
function createMeter(limits: ClockLimits, nowMs: () => number): { atSameInstant(nowNs: number): string | null; timeMoved(): void; everyEvent(): void } {
  const startedMs = performance.now();
  let sameInstant = 0;
  let trips = 0;
  let events = 0;
  const reported = { heap: false, wall: false };
  return {
    atSameInstant(nowNs) {
      if (++sameInstant <= limits.eventsPerInstant) return null;
      sameInstant = 0;
      if (++trips > (limits === NO_LIMITS ? 0 : MAX_TRIPS_AT_ONE_INSTANT)) {
        return `the simulation is stuck: over ${limits.eventsPerInstant * trips} events at virtual time ${nowNs / 1e6} ms`;
      }
      limits.onOver({ kind: 'instant', detail: `over ${limits.eventsPerInstant} events at virtual time ${nowMs()} ms without time moving` });
      return null;
    },
    timeMoved() {
      sameInstant = 0;
      trips = 0;
    },
    everyEvent() {
      if (++events % RESOURCE_CHECK_EVERY_EVENTS !== 0) return;
      const heapBytes = getHeapStatistics().used_heap_size;
      if (!reported.heap && heapBytes > limits.heapBytes) {
        reported.heap = true;
        limits.onOver({ kind: 'heap', detail: `the harness's heap reached ${Math.round(heapBytes / 2 ** 20)} MB (budget ${Math.round(limits.heapBytes / 2 ** 20)} MB) at virtual time ${nowMs()} ms` });
      }
      const wallMs = performance.now() - startedMs;
      if (!reported.wall && wallMs > limits.wallMs) {
        reported.wall = true;
        limits.onOver({ kind: 'wall', detail: `the run took over ${Math.round(limits.wallMs / 1000)} s of real time (budget) by virtual time ${nowMs()} ms` });
      }
    },
  };
}

/** The clock's timers and counts, shared by the scheduling calls and drive(). */
interface ClockState {
  readonly heap: MinHeap<Timer>;
  nowNs: number;
  seq: number;
  /** timers armed and not cancelled */
  live: number;
  /** holds keeping virtual time still */
  holds: number;
  closed: boolean;
}

function schedule(state: ClockState, delayNs: number, fn: () => void): () => void {
  if (state.closed) return () => {};
  const timer: Timer = { atNs: state.nowNs + Math.max(0, Math.round(delayNs)), seq: state.seq++, fn, cancelled: false };
  state.heap.push(timer);
  state.live++;
  return () => {
    if (timer.cancelled) return;
    timer.cancelled = true;
    state.live--;
  };
}

/** Takes the earliest live timer off the heap (it counts as run: no longer live). */
function takeNext(state: ClockState): Timer {
  for (;;) {
    const timer = state.heap.pop() as Timer;
    if (timer.cancelled) continue;
    state.live--;
    timer.cancelled = true;
    return timer;
  }
}

/**
 * One step of drive(): the next timer, run at its virtual time. Returns an error when the run is
 * stuck; 'idle' when virtual time may not move (a hold, or no timer: real I/O is awaited).
 */
function stepOnce(state: ClockState, meter: ReturnType<typeof createMeter>): 'idle' | Error | (() => void) {
  if (state.holds > 0 || state.live === 0) return 'idle';
  const timer = takeNext(state);
  if (timer.atNs === state.nowNs) {
    const stuck = meter.atSameInstant(state.nowNs);
    if (stuck !== null) return new Error(stuck);
  } else {
    meter.timeMoved();
    state.nowNs = timer.atNs;
  }
  meter.everyEvent();
  return timer.fn;
}

/** Runs the clock until work settles. */
function drive<T>(state: ClockState, limits: ClockLimits, work: Promise<T>): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  const meter = createMeter(limits, () => state.nowNs / 1e6);
  let idleTurns = 0;
  // One timer per setImmediate callback: Node drains the microtask queue after each callback,
  // so every promise chain a timer starts settles before the next timer runs.
  return new Promise<T>((resolve, reject) => {
    let failed = false;
    const step = (): void => {
      if (failed) return;
      if (settled) {
        resolve(work);
        return;
      }
      const next = stepOnce(state, meter);
      if (next === 'idle') {
        // Waiting for real I/O (a node's module loading, the store folder): no virtual time passes.
        if (++idleTurns > 100) realSetTimeout(step, 1);
        else realSetImmediate(step);
        return;
      }
      idleTurns = 0;
      if (next instanceof Error) {
        failed = true;
        reject(next);
        return;
      }
      realSetImmediate(step);
      try {
        next();
      } catch (error) {
        failed = true;
        reject(error);
      }
    };
    realSetImmediate(step);
  });
}

export function createSimClock(limits: ClockLimits = NO_LIMITS): SimClock {
  const state: ClockState = {
    heap: new MinHeap<Timer>((a, b) => a.atNs < b.atNs || (a.atNs === b.atNs && a.seq < b.seq)),
    nowNs: 0,
    seq: 0,
    live: 0,
    holds: 0,
    closed: false,
  };
  return {
    nowNs: () => state.nowNs,
    // The harness's timers are exact in virtual time: no ms rounding, no lateness.
    setTimer: (delayMs, fn) => schedule(state, delayMs * 1e6, fn),
    setTimerNs: (delayNs, fn) => schedule(state, delayNs, fn),
    get pending() {
      return state.live;
    },
    hold() {
      state.holds++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        state.holds--;
      };
    },
    drive: (work) => drive(state, limits, work),
    close() {
      state.closed = true;
      state.heap.clear();
      state.live = 0;
    },
  };
}
