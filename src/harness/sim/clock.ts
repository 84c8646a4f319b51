// The simulation's virtual clock: one heap of timers ordered by (time, sequence) for the whole
// run (network, clients, interpreter, every node's timers). drive() pops the next timer, moves
// virtual time to it, runs it, and lets every microtask and promise chain settle (a real
// setImmediate turn) before the next, as Node runs one macrotask at a time.
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

/** Consecutive events at one virtual instant beyond which the run is declared stuck. */
export const MAX_EVENTS_AT_ONE_INSTANT = 5_000_000;

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

export function createSimClock(): SimClock {
  const heap = new MinHeap<Timer>((a, b) => a.atNs < b.atNs || (a.atNs === b.atNs && a.seq < b.seq));
  let nowNs = 0;
  let seq = 0;
  let live = 0;
  let holds = 0;
  let closed = false;

  const schedule = (delayNs: number, fn: () => void): (() => void) => {
    if (closed) return () => {};
    const timer: Timer = { atNs: nowNs + Math.max(0, Math.round(delayNs)), seq: seq++, fn, cancelled: false };
    heap.push(timer);
    live++;
    return () => {
      if (timer.cancelled) return;
      timer.cancelled = true;
      live--;
    };
  };

  const popLive = (): Timer | undefined => {
    for (;;) {
      const timer = heap.pop();
      if (timer === undefined || !timer.cancelled) return timer;
    }
  };


  return {
    nowNs: () => nowNs,
    // The harness's timers are exact in virtual time: no ms rounding, no lateness.
    setTimer: (delayMs, fn) => schedule(delayMs * 1e6, fn),
    setTimerNs: schedule,
    get pending() {
      return live;
    },
    hold() {
      holds++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds--;
      };
    },
    drive<T>(work: Promise<T>): Promise<T> {
      let settled = false;
      work.then(
        () => (settled = true),
        () => (settled = true),
      );
      let sameInstant = 0;
      let idleTurns = 0;
      // One timer per setImmediate callback: Node drains the microtask queue after each callback,
      // so every promise chain a timer starts settles before the next timer runs.
      return new Promise<T>((resolve, reject) => {
        let failed = false;
        const fail = (error: unknown): void => {
          failed = true;
          reject(error);
        };
        const step = (): void => {
          if (failed) return;
          if (settled) {
            resolve(work);
            return;
          }
          if (holds > 0 || live === 0) {
            // Waiting for real I/O (a node's module loading, the store folder): no virtual time passes.
            if (++idleTurns > 100) realSetTimeout(step, 1);
            else realSetImmediate(step);
            return;
          }
          idleTurns = 0;
          const timer = popLive() as Timer;
          live--;
          timer.cancelled = true;
          if (timer.atNs === nowNs) {
            if (++sameInstant > MAX_EVENTS_AT_ONE_INSTANT) {
              fail(new Error(`the simulation is stuck: over ${MAX_EVENTS_AT_ONE_INSTANT} events at virtual time ${nowNs / 1e6} ms`));
              return;
            }
          } else {
            sameInstant = 0;
            nowNs = timer.atNs;
          }
          realSetImmediate(step);
          try {
            timer.fn();
          } catch (error) {
            fail(error);
          }
        };
        realSetImmediate(step);
      });
    },
    close() {
      closed = true;
      heap.clear();
      live = 0;
    },
  };
}
