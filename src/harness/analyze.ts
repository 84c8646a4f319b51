// `glomers analyze DIR`: every checker again on a stored run, ours (history.jsonl) or Maelstrom's
// (history.edn), with the results written into DIR and the exit code `test` would give. For a
// user whose Maelstrom analysis hangs or crashes, this is our verdict on the same history.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { checkWorkload } from './check/check.js';
import { countEvent, emptyNetCounts } from './net/journal.js';
import { parseHistoryEdn } from './report/edn-read.js';
import { writeResults } from './report/index.js';
import { EXIT_USAGE } from './cli/cli.js';
import { getWorkload } from './workloads/index.js';
import type { JournalEvent, NetCounts, Op, ServiceEvent, TestOptions } from './types.js';

export interface StoredHistory {
  history: Op[];
  source: 'history.jsonl' | 'history.edn';
}

/** The history of a run folder: ours first, then Maelstrom's. */
export function readStoredHistory(dir: string): StoredHistory {
  const jsonl = path.join(dir, 'history.jsonl');
  if (existsSync(jsonl)) {
    const history = readFileSync(jsonl, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Op);
    return { history, source: 'history.jsonl' };
  }
  const edn = path.join(dir, 'history.edn');
  if (existsSync(edn)) return { history: parseHistoryEdn(readFileSync(edn, 'utf8')), source: 'history.edn' };
  throw new Error(`${dir} has neither history.jsonl (glomers) nor history.edn (Maelstrom)`);
}

/** What a run's workload services recorded (service-events.jsonl), or none when the folder has no such file. */
export function readServiceEvents(dir: string): ServiceEvent[] {
  const file = path.join(dir, 'service-events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ServiceEvent);
}

/** :net counts from the streamed journal of one of our runs, or null when the folder has none. */
export async function readNetCounts(dir: string): Promise<NetCounts | null> {
  const file = path.join(dir, 'net-journal.jsonl');
  if (!existsSync(file)) return null;
  const counts = emptyNetCounts();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line !== '') countEvent(counts, JSON.parse(line) as JournalEvent);
  }
  return counts;
}

export async function analyzeStoredRun(dir: string, opts: TestOptions): Promise<number> {
  const workload = getWorkload(opts.workload);
  if (workload === undefined) {
    process.stderr.write(`glomers: unknown workload ${opts.workload}\n`);
    return EXIT_USAGE;
  }
  let stored: StoredHistory;
  try {
    stored = readStoredHistory(dir);
  } catch (err) {
    process.stderr.write(`glomers: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_USAGE;
  }
  const started = performance.now();
  const netCounts = await readNetCounts(dir);
  process.stderr.write(`glomers: analysing ${stored.history.length} operations from ${path.join(dir, stored.source)}\n`);
  // No network to keep delivering here, so the checker runs in this thread: its own deadline
  // bounds it, and a worker's start-up would only add to the wait.
  const serviceEvents = readServiceEvents(dir);
  const { verdict, timing } = await checkWorkload(workload, stored.history, opts, { budgetMs: (opts.checkBudgetS ?? 300) * 1000, inWorker: false, serviceEvents });
  const analyzed = {
    opts: { ...opts, storeDir: dir },
    startedAt: new Date(),
      storeDir: path.resolve(dir),
      history: stored.history,
      serviceEvents,
      netCounts: netCounts ?? emptyNetCounts(),
      journalHead: [],
      lateness: { deliveries: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, behind: false },
      problems: [],
      verdict,
      timings: [timing],
    ...(netCounts === null ? { netNote: 'no network journal in this folder (Maelstrom keeps it as fressian); :net counts are zero' } : {}),
  };
  const { exitCode } = await writeResults(analyzed, { writeHistory: false });
  const totalS = ((performance.now() - started) / 1000).toFixed(2);
  const each = analyzed.timings.map((t) => `${t.checker} ${(t.ms / 1000).toFixed(2)} s`).join(', ');
  process.stderr.write(`glomers: analysis took ${totalS} s, start-up excluded (${each})\n`);
  return exitCode;
}
