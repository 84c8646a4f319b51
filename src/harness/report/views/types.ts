// The contract of a workload view: HTML sections for report.html and a few console lines.

import type { Op, RunOutput } from '../../types.js';
import type { Results } from '../../check/results-types.js';

export interface ViewContext {
  history: readonly Op[];
  opts: RunOutput['opts'];
}

export interface WorkloadView {
  /** HTML sections (h2 and what follows) appended to report.html; every string escaped */
  render(results: Results, context: ViewContext): string;
  /** console lines naming the findings in words, at most SUMMARY_LINE_LIMIT plus "... and N more" */
  summary(results: Results, context: ViewContext): string[];
}
