// The shape of the results map, apart from the code that assembles it (results.ts), so the report
// and the workload views that read it depend on types alone, not on the checking stage's code.

import type { CheckResult, Json, Validity } from '../types.js';
import type { FailureSummary } from './exceptions.js';
import type { Explanation } from './explain.js';
import type { NemesisSummary } from './faults.js';

/**
 * Ours, not Maelstrom's: facts about how the harness ran that Maelstrom has no key for.
 * `valid?` is false when a node crashed or failed init/setup (see glomersSection).
 */
export interface GlomersSection extends CheckResult {
  seed: number;
  lateness: { [key: string]: Json };
  problems: Json[];
  /** the workload checker's own findings (WorkloadVerdict.extra), when it has any */
  workload?: { [key: string]: Json };
  'stopped-early'?: string;
  /** wall-clock time of each checker; left out of simulated runs, whose results must be the same bytes for a seed */
  'checker-ms'?: { [checker: string]: number };
  /** present and true for a run in the deterministic simulation */
  simulated?: boolean;
  /** what the nemesis did: counts, time partitioned by shape, and per node time isolated, down and paused */
  nemesis: NemesisSummary;
  /** failed and indefinite client operations by error, and why an f that never succeeded fails the run */
  failures: FailureSummary;
  /** the workload checker's explanation of its verdict (facts and plots; see check/explain.ts) */
  explanation: Explanation;
  /** --challenge: the challenge's limits against this run (check/challenge.ts) */
  challenge?: { [key: string]: Json };
}

/** Keys in Maelstrom's order (the order its console and results.edn show). */
export interface Results {
  perf: CheckResult;
  timeline: CheckResult;
  exceptions: CheckResult;
  stats: CheckResult;
  availability: CheckResult;
  net: CheckResult;
  workload: CheckResult;
  glomers: GlomersSection;
  'valid?': Validity;
}
