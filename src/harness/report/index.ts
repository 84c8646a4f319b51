// The output stage of a run: results files, the HTML report, the console summary and the
// process exit code (Maelstrom's: 0 valid, 1 invalid, 2 unknown).

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Validity } from '../types.js';
import { toEdn } from './edn.js';
import { formatHistoryJsonl, formatResultsJson } from '../run/history-file.js';
import { renderReportHtml } from './html.js';
import { assembleResults, type AnalyzedRun } from '../check/results.js';
import { formatSummary } from './summary.js';

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

export async function writeResults(run: AnalyzedRun, options: FinishOptions = {}): Promise<{ valid: Validity; exitCode: number }> {
  const results = assembleResults(run);
  const dir = run.storeDir;
  const writes = [
    writeFile(path.join(dir, 'results.json'), formatResultsJson(results)),
    writeFile(path.join(dir, 'results.edn'), toEdn(results) + '\n'),
    writeFile(path.join(dir, 'report.html'), renderReportHtml(results, run)),
  ];
  if (options.writeHistory !== false && run.historyWritten !== true) writes.push(writeFile(path.join(dir, 'history.jsonl'), formatHistoryJsonl(run.history)));
  await Promise.all(writes);
  (options.out ?? process.stdout).write(formatSummary(results, run));
  const valid = results['valid?'];
  return { valid, exitCode: exitCodeFor(valid) };
}
