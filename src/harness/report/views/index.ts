// Finds a workload's view where the workload names it (Workload.view, so a new workload adds its
// view in its own module), and keeps a broken view from breaking the report: the page and the
// summary then say the view failed, and why.

import type { RunOutput } from '../../types.js';
import type { Results } from '../../check/results-types.js';
import { escapeXml } from '../svg.js';
import { getWorkload } from '../../workloads/index.js';
import { VIEW_STYLE } from './style.js';
import type { ViewContext, WorkloadView } from './types.js';

export function viewFor(workload: string): WorkloadView | undefined {
  return getWorkload(workload)?.view;
}

function contextOf(run: RunOutput): ViewContext {
  return { history: run.history, opts: run.opts };
}

function failure(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The workload's sections for report.html (with their own style), or '' when it has no view. */
export function workloadViewHtml(results: Results, run: RunOutput): string {
  const view = viewFor(run.opts.workload);
  if (view === undefined) return '';
  let body: string;
  try {
    body = view.render(results, contextOf(run));
  } catch (err) {
    body = `<h2>${escapeXml(run.opts.workload)} findings</h2><p class="note">This view could not be drawn: ${escapeXml(failure(err))}</p>`;
  }
  return `<style>${VIEW_STYLE}</style>\n<div class="workload-view">\n${body}\n</div>`;
}

/** A few console lines naming the workload's findings in words (bounded by the view). */
export function workloadViewSummary(results: Results, run: RunOutput): string[] {
  const view = viewFor(run.opts.workload);
  if (view === undefined) return [];
  try {
    return view.summary(results, contextOf(run));
  } catch (err) {
    return [`(the ${run.opts.workload} view could not summarise the findings: ${failure(err)})`];
  }
}
