// The clock of a whole run (network, clients, generator, nemesis, services): real time in a test,
// virtual time in a simulation (sim/clock.ts). Shared by every stage, so it lives at the root.

/** The clock the loop waits on; real time in a test, virtual time in a simulation. */
export interface Clock {
  /** ns since the test started */
  nowNs(): number;
  /** Calls fn after delayMs; returns a cancel function. */
  setTimer(delayMs: number, fn: () => void): () => void;
}

export const realClock = (t0 = process.hrtime.bigint()): Clock => ({
  nowNs: () => Number(process.hrtime.bigint() - t0),
  setTimer(delayMs, fn) {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(timer);
  },
});
