// `glomers analyze DIR`: every checker again on a stored run, ours (history.jsonl) or Maelstrom's
// (history.edn), with the results written into DIR and the exit code `test` would give. For a
// user whose Maelstrom analysis hangs or crashes, this is our verdict on the same history.
// What it reads, what it refuses and why: docs/analyze.md.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { checkWorkload } from './check/check.js';
import { countEvent, emptyNetCounts, JOURNAL_HEAD_EVENTS } from './net/journal.js';
import { parseHistoryEdn } from './report/edn-read.js';
import { EXIT_USAGE, MAIN_HELP, parseTestArgs, testHelp, UsageError } from './cli/cli.js';
import { MAX_DAMAGE_LISTED, MAX_HISTORY_FILE_BYTES, MAX_HISTORY_LINE_CHARS, parseHistoryJsonl, type HistoryDamage, type LoadedHistory } from './run/history-file.js';
import { argsFromRecord, givesWorkload, readRunRecord, RUN_RECORD_FILE } from './run/record.js';
import { readRunFacts } from './run/run-facts.js';
import { getWorkload } from './workloads/index.js';
import type { JournalEvent, NetCounts, ServiceEvent, TestOptions } from './types.js';

export interface StoredHistory extends LoadedHistory {
  source: 'history.jsonl' | 'history.edn';
}

function readBounded(file: string): Buffer {
  const size = statSync(file).size;
  if (size > MAX_HISTORY_FILE_BYTES) throw new Error(`${file} is ${size} bytes; analyze reads at most ${MAX_HISTORY_FILE_BYTES}`);
  return readFileSync(file);
}

/** The history of a run folder: ours first, then Maelstrom's. Throws DamagedHistoryError on damage. */
export function readStoredHistory(dir: string): StoredHistory {
  const jsonl = path.join(dir, 'history.jsonl');
  if (existsSync(jsonl)) return { ...parseHistoryJsonl(readBounded(jsonl).toString('utf8'), jsonl), source: 'history.jsonl' };
  const edn = path.join(dir, 'history.edn');
  if (existsSync(edn)) return { ...parseHistoryEdn(readBounded(edn), edn), source: 'history.edn' };
  throw new Error(`${dir} has neither history.jsonl (glomers) nor history.edn (Maelstrom)`);
}

function isJournalEvent(value: unknown): value is JournalEvent {
  const event = value as Partial<JournalEvent> | null;
  return typeof event === 'object' && event !== null && (event.kind === 'send' || event.kind === 'recv') && typeof event.src === 'string' && typeof event.dest === 'string';
}

/** Whole enough to draw: the diagrams read its time, id and body too. */
function isDrawable(event: JournalEvent): boolean {
  const body = event.body as unknown;
  return Number.isFinite(event.timeNs) && Number.isFinite(event.id) && typeof body === 'object' && body !== null && !Array.isArray(body);
}

export interface StoredNetCounts {
  counts: NetCounts;
  /** lines left out of the counts, the first MAX_DAMAGE_LISTED named */
  damaged: HistoryDamage[];
  damagedCount: number;
  /** the first JOURNAL_HEAD_EVENTS events, for the report's message diagrams, as a run keeps them */
  head: JournalEvent[];
}

/**
 * :net counts from the streamed journal of one of our runs, or null when the folder has none.
 * A damaged line is left out and named: the counts describe traffic, not the verdict, so a bad
 * line costs one message's count rather than the analysis.
 */
export async function readNetCounts(dir: string): Promise<StoredNetCounts | null> {
  const file = path.join(dir, 'net-journal.jsonl');
  if (!existsSync(file)) return null;
  const counts = emptyNetCounts();
  const damaged: HistoryDamage[] = [];
  let damagedCount = 0;
  let lineNumber = 0;
  const head: JournalEvent[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNumber++;
    if (line === '') continue;
    let event: unknown;
    try {
      event = line.length <= MAX_HISTORY_LINE_CHARS ? JSON.parse(line) : undefined;
    } catch {
      event = undefined;
    }
    if (isJournalEvent(event)) {
      countEvent(counts, event);
      if (head.length < JOURNAL_HEAD_EVENTS && isDrawable(event)) head.push(event);
    } else if (damagedCount++ < MAX_DAMAGE_LISTED) damaged.push({ line: lineNumber, reason: 'not a journal event' });
  }
  return { counts, damaged, damagedCount, head };
}

function netNote(net: StoredNetCounts | null): string | undefined {
  if (net === null) return 'no network journal in this folder (Maelstrom keeps it as fressian); :net counts are zero';
  if (net.damagedCount === 0) return undefined;
  return `net-journal.jsonl: ${net.damagedCount} damaged line(s) left out of the counts (line ${net.damaged.map((d) => d.line).join(', ')}${net.damagedCount > net.damaged.length ? ', ...' : ''})`;
}

function say(line: string): void {
  process.stderr.write(`glomers: ${line}\n`);
}

/** Analyses DIR with options already settled; refuses (EXIT_USAGE, nothing written) an unreadable history. */
/**
 * What a run's workload services recorded (service-events.jsonl, for sched's and timers' checkers),
 * or none when the folder has no such file. A torn last line (the run stopped there) is dropped; a
 * damaged line elsewhere is refused by number.
 */
export function readServiceEvents(dir: string): ServiceEvent[] {
  const file = path.join(dir, 'service-events.jsonl');
  if (!existsSync(file)) return [];
  const lines = readBounded(file).toString('utf8').split('\n');
  const events: ServiceEvent[] = [];
  lines.forEach((line, k) => {
    if (line.trim() === '') return;
    try {
      events.push(JSON.parse(line) as ServiceEvent);
    } catch {
      if (k < lines.length - 1 && lines.slice(k + 1).some((rest) => rest.trim() !== '')) throw new Error(`${file} line ${k + 1} is not JSON`);
    }
  });
  return events;
}

export async function analyzeStoredRun(dir: string, opts: TestOptions): Promise<number> {
  const workload = getWorkload(opts.workload);
  if (workload === undefined) {
    say(`unknown workload ${opts.workload}`);
    return EXIT_USAGE;
  }
  const started = performance.now();
  let stored: StoredHistory;
  try {
    stored = readStoredHistory(dir);
  } catch (err) {
    // a folder we cannot judge is refused; a TypeError is our bug, left to surface as one
    if (!(err instanceof Error) || err instanceof TypeError) throw err;
    say(err.message);
    return EXIT_USAGE;
  }
  if (stored.torn !== undefined) say(`${stored.source} line ${stored.torn.line}: ${stored.torn.reason}; judging the history before it, as a run stopped there`);
  const net = await readNetCounts(dir);
  const note = netNote(net);
  if (net !== null && note !== undefined) say(note);
  say(`analysing ${stored.ops.length} operations from ${path.join(dir, stored.source)}`);
  // No network to keep delivering here, so the checker runs in this thread: its own deadline
  // bounds it, and a worker's start-up would only add to the wait.
  let serviceEvents: ServiceEvent[];
  try {
    serviceEvents = readServiceEvents(dir);
  } catch (err) {
    if (!(err instanceof Error) || err instanceof TypeError) throw err;
    say(err.message);
    return EXIT_USAGE;
  }
  const facts = readRunFacts(dir);
  const torn = stored.torn === undefined ? undefined : `${stored.source} ends in a torn line (line ${stored.torn.line}), dropped`;
  // a second analysis finds its own earlier reason in results.json: said once
  const stoppedEarly = [...new Set([facts.stoppedEarly, torn].filter((reason): reason is string => reason !== undefined))].join('; ');
  const { verdict, timing } = await checkWorkload(workload, stored.ops, opts, { budgetMs: (opts.checkBudgetS ?? 300) * 1000, inWorker: false, serviceEvents });
  const analyzed = {
    opts: { ...opts, storeDir: dir },
    startedAt: new Date(),
    storeDir: path.resolve(dir),
    history: stored.ops,
    serviceEvents,
    netCounts: net?.counts ?? emptyNetCounts(),
    journalHead: net?.head ?? [],
    // what only the run could see comes from its own results.json (run/run-facts.ts)
    lateness: facts.lateness ?? { deliveries: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, behind: false, measured: false },
    problems: facts.problems,
    verdict,
    timings: [timing],
    ...(note === undefined ? {} : { netNote: note }),
    ...(stoppedEarly === '' ? {} : { stoppedEarly }),
  };
  const { writeResults } = await import('./report/index.js');
  const { exitCode } = await writeResults(analyzed, { writeHistory: false });
  const totalS = ((performance.now() - started) / 1000).toFixed(2);
  const each = analyzed.timings.map((t) => `${t.checker} ${(t.ms / 1000).toFixed(2)} s`).join(', ');
  say(`analysis took ${totalS} s, start-up excluded (${each})`);
  return exitCode;
}

/**
 * The options for DIR: its run.json's test arguments with the ones given now after them (so given
 * flags win), or the given ones alone for a folder without a record, which must then name its
 * workload. A number is the exit status (help, or a refusal already explained on stderr).
 */
export function analyzeOptions(dir: string, given: string[], knownWorkloads: readonly string[]): TestOptions | number {
  try {
    const record = readRunRecord(dir);
    if (record === null && !givesWorkload(given)) {
      say(`${dir} has no ${RUN_RECORD_FILE} saying which workload it holds (a Maelstrom store folder, or a run from before glomers wrote one): give -w WORKLOAD and the test's flags`);
      return EXIT_USAGE;
    }
    const parsed = parseTestArgs(record === null ? given : argsFromRecord(record, given), knownWorkloads, { requireBin: false });
    if (parsed.kind === 'help') {
      process.stdout.write(testHelp());
      return 0;
    }
    return parsed.opts;
  } catch (err) {
    if (err instanceof UsageError) {
      say(err.message);
      return EXIT_USAGE;
    }
    throw err;
  }
}

/** `glomers analyze DIR [flags]` from the command line. */
export async function analyzeCommand(args: string[], knownWorkloads: readonly string[]): Promise<number> {
  const [dir, ...rest] = args;
  if (dir === undefined || dir.startsWith('-')) {
    if (dir === '-h' || dir === '--help') {
      process.stdout.write(MAIN_HELP);
      return 0;
    }
    say("analyze needs a run folder: glomers analyze DIR [-w WORKLOAD and the test's flags, which override the folder's run.json]");
    return EXIT_USAGE;
  }
  const opts = analyzeOptions(dir, rest, knownWorkloads);
  if (typeof opts === 'number') return opts;
  return analyzeStoredRun(dir, opts);
}
