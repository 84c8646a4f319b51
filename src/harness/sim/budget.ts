// What one simulated run may spend (docs/simulation.md, "Budgets"). A node's code runs in the
// harness's own thread under --sim, so a node that spins, never lets virtual time pass or eats
// memory would take the harness with it. Past a budget the run ends as errored, with the reason,
// and its results files are written. Each figure can be changed through the environment (so that
// a sweep's workers inherit it); the defaults are far above what any node of this project needs.
import type { TestOptions } from '../types.js';

export interface SimBudget {
  /**
   * Real time for the whole run. At it, the run's own check stops every node (the run goes on to
   * its end without them); at killAfterMs, the parent kills the run's process, which a node
   * spinning in one handler never lets finish.
   */
  wallMs: number;
  /** Events at one virtual instant past which the node whose event ran last is stopped. */
  eventsPerInstant: number;
  /**
   * V8 heap in use (MB) past which every node is stopped; the run's process gets V8 heap limit
   * heapMb + HARD_HEAP_MARGIN_MB, which ends it (and the parent writes the results) when one
   * handler allocates without end.
   */
  heapMb: number;
}

/** Real time a run's process gets after its wall budget to end on its own before it is killed (at most). */
export const SIM_KILL_GRACE_MS = 30_000;

/** When the parent kills a run's process: its wall budget and a grace of at most SIM_KILL_GRACE_MS (half the budget for small ones). */
export function killAfterMs(budget: SimBudget): number {
  return budget.wallMs + Math.min(SIM_KILL_GRACE_MS, budget.wallMs / 2);
}
/** Room above the heap budget for the run's checking stage and teardown before V8's own limit. */
export const HARD_HEAP_MARGIN_MB = 1024;

/** Real seconds a run gets, on top of WALL_S_PER_VIRTUAL_S for each virtual second it lasts. */
const WALL_BASE_S = 120;
/** The slowest node of this project runs about 3 virtual seconds a real second (unique-ids at rate 1000). */
const WALL_S_PER_VIRTUAL_S = 10;
/**
 * The nodes of this project reach at most 53 events at one instant (broadcast, 25 nodes, --latency
 * 0); a doubling setTimeout(0) storm holds about as many timers as it ran events, some 2 kB each.
 */
const DEFAULT_EVENTS_PER_INSTANT = 100_000;
const DEFAULT_HEAP_MB = 2048;

export const BUDGET_ENV = {
  wallS: 'GLOMERS_SIM_WALL_S',
  eventsPerInstant: 'GLOMERS_SIM_EVENTS_PER_INSTANT',
  heapMb: 'GLOMERS_SIM_HEAP_MB',
} as const;

function positiveFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: a positive number, or unset for the default ${fallback}`);
  return value;
}

/** The budget of a run of these options; the environment's figures win. */
export function simBudget(opts: Pick<TestOptions, 'timeLimitS' | 'finalWaitS'>, env: NodeJS.ProcessEnv = process.env): SimBudget {
  const defaultWallS = WALL_BASE_S + WALL_S_PER_VIRTUAL_S * (opts.timeLimitS + opts.finalWaitS);
  return {
    wallMs: positiveFrom(env, BUDGET_ENV.wallS, defaultWallS) * 1000,
    eventsPerInstant: Math.floor(positiveFrom(env, BUDGET_ENV.eventsPerInstant, DEFAULT_EVENTS_PER_INSTANT)),
    heapMb: positiveFrom(env, BUDGET_ENV.heapMb, DEFAULT_HEAP_MB),
  };
}
