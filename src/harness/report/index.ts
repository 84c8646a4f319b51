// The output stage of a run: results files, the HTML report, the console summary and the
// process exit code (Maelstrom's: 0 valid, 1 invalid, 2 unknown).

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunOutput, Validity } from '../types.js';
import { toEdn } from './edn.js';
import { formatHistoryJsonl, formatResultsJson } from './history-file.js';
import { renderReportHtml } from './html.js';
import { assembleResults } from './results.js';
import { formatSummary } from './summary.js';

export { createStoreDir, formatStoreTimestamp } from './store.js';
export { assembleResults, mergeValidity, type Results } from './results.js';
export { netStats } from './net-stats.js';
export { toEdn } from './edn.js';
export { formatSummary } from './summary.js';
export { renderReportHtml } from './html.js';

export function exitCodeFor(valid: Validity): number {
  if (valid === true) return 0;
  if (valid === false) return 1;
  return 2;
}

export async function finishRun(run: RunOutput): Promise<{ valid: Validity; exitCode: number }> {
  const results = assembleResults(run);
  const dir = run.storeDir;
  await Promise.all([
    writeFile(path.join(dir, 'results.json'), formatResultsJson(results)),
    writeFile(path.join(dir, 'results.edn'), toEdn(results) + '\n'),
    writeFile(path.join(dir, 'history.jsonl'), formatHistoryJsonl(run.history)),
    writeFile(path.join(dir, 'report.html'), renderReportHtml(results, run)),
  ]);
  process.stdout.write(formatSummary(results, run));
  const valid = results['valid?'];
  return { valid, exitCode: exitCodeFor(valid) };
}
