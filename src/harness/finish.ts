// The end of a run: the checking stage, then the output stage. The only place the two meet, so
// neither imports the other's caller.
import { checkWorkload, DEFAULT_CHECK_BUDGET_S } from './check/check.js';
import { writeResults, type FinishOptions } from './report/index.js';
import type { RunOutput, Validity } from './types.js';
import type { Workload } from './workload.js';

/** The checking stage and the results files: every file is written whatever a checker does. */
export async function finishRun(run: RunOutput, workload: Workload, options: FinishOptions = {}): Promise<{ valid: Validity; exitCode: number }> {
  const { verdict, timing } = await checkWorkload(workload, run.history, run.opts, {
    budgetMs: (run.opts.checkBudgetS ?? DEFAULT_CHECK_BUDGET_S) * 1000,
    ...(options.inWorker === undefined ? {} : { inWorker: options.inWorker }),
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    ...(run.serviceEvents === undefined ? {} : { serviceEvents: run.serviceEvents }),
  });
  return writeResults({ ...run, verdict, timings: [timing] }, options);
}
