// Access to the real Maelstrom runs kept in test/reference-runs (copied from the team's shared
// folder, so a bare clone has them), for conformance tests that replay their histories.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Availability, Json, Op } from '../../src/harness/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const referenceRunsDir = path.join(repoRoot, 'test', 'reference-runs');

export interface ReferenceRun {
  name: string;
  command: string;
  /** Maelstrom's results.edn as JSON */
  results: { [key: string]: Json };
  history: Op[];
  /** the run's `--availability`, or null when unset */
  availability: Availability | null;
}

export function referenceRunNames(): string[] {
  if (!existsSync(referenceRunsDir)) return [];
  return readdirSync(referenceRunsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

export function loadReferenceHistory(name: string): Op[] {
  return gunzipSync(readFileSync(path.join(referenceRunsDir, name, 'history.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Op);
}

export function loadReferenceResults(name: string): { [key: string]: Json } {
  return JSON.parse(readFileSync(path.join(referenceRunsDir, name, 'results.json'), 'utf8')) as { [key: string]: Json };
}

export function loadReferenceRun(name: string): ReferenceRun {
  const command = readFileSync(path.join(referenceRunsDir, name, 'command.txt'), 'utf8');
  const results = loadReferenceResults(name);
  const history = loadReferenceHistory(name);
  const flag = /--availability\s+(\S+)/.exec(command);
  const availability: Availability | null = flag ? (flag[1] === 'total' ? 'total' : Number(flag[1])) : null;
  return { name, command, results, history, availability };
}
