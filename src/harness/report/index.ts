// The output stage of a run: results files, the HTML report, the console summary and the
// process exit code (Maelstrom's: 0 valid, 1 invalid, 2 unknown).

import { unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Validity } from '../types.js';
import { EDN_MAX_LIST_ITEMS, toEdn } from './edn.js';
import { formatHistoryJsonl, formatResultsJson } from '../run/history-file.js';
import { renderReportHtml } from './html.js';
import { assembleResults, type AnalyzedRun } from '../check/results.js';
import { formatSummary } from './summary.js';
import { journalEventsBetween, plannedWindows, windowCollector, type MessageWindow } from './messages.js';
import type { Results } from '../check/results-types.js';

export { createStoreDir, formatStoreTimestamp } from './store.js';
export { assembleResults, mergeValidity, type AnalyzedRun, type Results } from '../check/results.js';
export { netStats } from '../check/net-stats.js';
export { toEdn } from './edn.js';
export { formatSummary } from './summary.js';
export { renderReportHtml } from './html.js';

export function exitCodeFor(valid: Validity): number {
  if (valid === true) return 0;
  if (valid === false) return 1;
  return 2;
}

export interface FinishOptions {
  /** false: check in this thread (unit tests) */
  inWorker?: boolean;
  /** past the budget, how long the checker may take to say so itself */
  graceMs?: number;
  /** false: leave history.jsonl as it is (analyze of a stored run) */
  writeHistory?: boolean;
  /** where the summary goes (default stdout) */
  out?: NodeJS.WritableStream;
}

/**
 * The journal around the explanation's first facts: read from net-journal.jsonl (only the span
 * the windows cover is parsed), or from the head kept in memory when there is no file.
 */
async function messageWindows(results: Results, run: AnalyzedRun): Promise<MessageWindow[]> {
  const planned = plannedWindows(results.glomers.explanation.facts);
  if (planned.length === 0) return [];
  const fromNs = Math.min(...planned.map((w) => w.fromNs));
  const toNs = Math.max(...planned.map((w) => w.toNs));
  const fromFile = windowCollector(planned);
  let read = 0;
  try {
    for await (const event of journalEventsBetween(path.join(run.storeDir, 'net-journal.jsonl'), fromNs, toNs)) {
      fromFile.add(event);
      read++;
    }
  } catch {
    // an unreadable journal costs the windows, not the report
  }
  // a window with no message in it (no journal, or a quiet moment) gets no link and no diagram
  const drawn = (windows: MessageWindow[]): MessageWindow[] => windows.filter((window) => window.messages.length > 0);
  if (read > 0) return drawn(fromFile.windows());
  const fromHead = windowCollector(planned);
  for (const event of run.journalHead) fromHead.add(event);
  return drawn(fromHead.windows());
}

export async function writeResults(run: AnalyzedRun, options: FinishOptions = {}): Promise<{ valid: Validity; exitCode: number }> {
  const results = assembleResults(run);
  const dir = run.storeDir;
  const files: Array<[string, () => string | Promise<string>]> = [
    ['results.json', () => formatResultsJson(results)],
    // results.edn shows at most EDN_MAX_LIST_ITEMS of a list; results.json has every finding
    ['results.edn', () => toEdn(results, undefined, EDN_MAX_LIST_ITEMS) + '\n'],
    ['report.html', async () => renderReportHtml(results, run, await messageWindows(results, run))],
  ];
  if (options.writeHistory !== false && run.historyWritten !== true) files.push(['history.jsonl', () => formatHistoryJsonl(run.history)]);
  // A full disk or a read-only store costs the files, never the verdict: it is printed, then what failed.
  // A file cut short is removed: none is clearer than a truncated one.
  const written = await Promise.allSettled(
    files.map(async ([name, text]) => writeFile(path.join(dir, name), await text()).catch(async (err: unknown) => {
      await unlink(path.join(dir, name)).catch(() => {});
      throw err;
    })),
  );
  (options.out ?? process.stdout).write(formatSummary(results, run));
  written.forEach((outcome, k) => {
    if (outcome.status === 'fulfilled') return;
    const reason = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
    process.stderr.write(`glomers: could not write ${path.join(dir, files[k]?.[0] ?? '')}: ${reason}\n`);
  });
  const valid = results['valid?'];
  return { valid, exitCode: exitCodeFor(valid) };
}
