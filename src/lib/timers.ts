// A node's timers: every one is tracked so that stopping the node cancels them all, and a callback
// that throws or rejects is logged without stopping the node.
import type { NodeHost, TimerHandle } from './host.js';

export type TimerFn = () => void | Promise<void>;

export interface NodeTimers {
  every(intervalMs: number, fn: TimerFn): () => void;
  after(delayMs: number, fn: TimerFn): () => void;
  /** Cancels every timer; later calls make none. */
  stop(): void;
}

export function createTimers(host: NodeHost, guard: (what: string, fn: TimerFn) => void): NodeTimers {
  const timers = new Set<TimerHandle>();
  let stopped = false;
  const cancel = (timer: TimerHandle) => () => {
    host.clearTimer(timer);
    timers.delete(timer);
  };
  return {
    every(intervalMs, fn) {
      if (!(intervalMs > 0)) throw new RangeError(`every() needs a positive interval, got ${intervalMs}`);
      if (stopped) return () => {};
      const timer = host.setRepeating(intervalMs, () => guard('timer', fn));
      timers.add(timer);
      return cancel(timer);
    },
    after(delayMs, fn) {
      if (stopped) return () => {};
      const timer = host.setTimer(Math.max(0, delayMs), () => {
        timers.delete(timer);
        guard('timer', fn);
      });
      timers.add(timer);
      return cancel(timer);
    },
    stop() {
      stopped = true;
      for (const timer of timers) host.clearTimer(timer);
      timers.clear();
    },
  };
}
