// run.json: what produced a run folder (docs/analyze.md), written when the folder is made, so
// `glomers analyze DIR` needs no flag retyped and a folder says which workload it holds.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import packageJson from '../../../package.json' with { type: 'json' };
import { UsageError } from '../cli/cli.js';
import type { Json, TestOptions } from '../types.js';

export const RUN_RECORD_FILE = 'run.json';
/** Bumped when a field changes meaning; readers refuse formats they do not know. */
export const RUN_RECORD_FORMAT = 1;
/** Largest run.json read: ours are a few kB (the node list is the longest part). */
export const MAX_RUN_RECORD_BYTES = 1024 * 1024;

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  /** the glomers version (package.json) that ran the test */
  glomers: string;
  /** ISO-8601, UTC */
  startedAt: string;
  workload: string;
  seed: number;
  /** the arguments of `glomers test`, as typed (what analyze parses again) */
  args: string[];
  /** the directory they were typed in, against which relative paths in them resolve */
  cwd: string;
  /** the node binary as resolved, and its sha256 (null when it could not be read) */
  bin: { path: string; sha256: string | null };
  /** every option as the run used it, defaults and the drawn seed included */
  options: { [key: string]: Json };
}

async function sha256File(file: string): Promise<string | null> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return null;
  }
}

export async function makeRunRecord(args: readonly string[], opts: TestOptions, startedAt: Date, binPath: string): Promise<RunRecord> {
  return {
    format: RUN_RECORD_FORMAT,
    glomers: packageJson.version,
    startedAt: startedAt.toISOString(),
    workload: opts.workload,
    seed: opts.seed,
    args: [...args],
    cwd: process.cwd(),
    bin: { path: binPath, sha256: await sha256File(binPath) },
    options: JSON.parse(JSON.stringify(opts)) as { [key: string]: Json },
  };
}

export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  await writeFile(path.join(dir, RUN_RECORD_FILE), JSON.stringify(record, null, 2) + '\n');
}

/** A run folder's record; null when it has none (a Maelstrom store folder, or a run from before run.json). */
export function readRunRecord(dir: string): RunRecord | null {
  const file = path.join(dir, RUN_RECORD_FILE);
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  if (size === undefined) return null;
  if (size > MAX_RUN_RECORD_BYTES) throw new UsageError(`${file} is ${size} bytes, more than a run record can be (${MAX_RUN_RECORD_BYTES})`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file} is not JSON (${err instanceof Error ? err.message : String(err)}); give the test's flags (-w ...) and move it aside`);
  }
  const record = value as Partial<RunRecord> | null;
  if (record?.format !== RUN_RECORD_FORMAT || typeof record.workload !== 'string' || !Array.isArray(record.args) || !record.args.every((a) => typeof a === 'string') || typeof record.seed !== 'number') {
    throw new UsageError(`${file} is not a run record this glomers reads (format ${RUN_RECORD_FORMAT}: workload, seed, args)`);
  }
  return record as RunRecord;
}

/** Flags that name the nodes; a node list given to analyze replaces the recorded one rather than adding to it. */
const NODE_FLAGS = new Set(['--node', '--nodes', '--nodes-file', '--node-count', '-n']);

function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  if (arg.startsWith('--')) return eq === -1 ? arg : arg.slice(0, eq);
  return arg.slice(0, 2);
}

/**
 * The arguments analyze parses: the recorded test's, its nodes and seed as the run resolved them,
 * then the ones given now, which win (the parser takes the last value of a flag).
 */
export function argsFromRecord(record: RunRecord, given: readonly string[]): string[] {
  const recorded: string[] = [];
  const args = record.args;
  for (let k = 0; k < args.length; k++) {
    const arg = args[k] as string;
    if (arg === '--') break;
    if (NODE_FLAGS.has(flagName(arg))) {
      // the flag's value follows unless it is inline (--nodes=a,b or -nn1)
      if (!arg.includes('=') && !(arg.startsWith('-n') && arg.length > 2)) k++;
      continue;
    }
    recorded.push(arg);
  }
  const nodes = record.options['nodes'];
  const givesNodes = given.some((arg) => NODE_FLAGS.has(flagName(arg)));
  if (!givesNodes && Array.isArray(nodes) && nodes.length > 0) recorded.push('--nodes', nodes.join(','));
  return [...recorded, '--seed', String(record.seed), '-w', record.workload, ...given];
}

/** Whether arguments name a workload (-w, --workload). */
export function givesWorkload(args: readonly string[]): boolean {
  return args.some((arg) => flagName(arg) === '--workload' || flagName(arg) === '-w');
}
