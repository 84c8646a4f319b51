// Access to the real Maelstrom runs in ../shared/reference-runs (beside the repository clone),
// for conformance tests that replay their histories through our checkers.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Availability, Json, Op } from '../types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared folder that sits beside the repository clone. */
export const sharedDir = path.resolve(repoRoot, '../shared');

export const referenceRunsDir = path.join(sharedDir, 'reference-runs');

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

export function loadReferenceRun(name: string): ReferenceRun {
  const dir = path.join(referenceRunsDir, name);
  const command = readFileSync(path.join(dir, 'command.txt'), 'utf8');
  const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { [key: string]: Json };
  const history = gunzipSync(readFileSync(path.join(dir, 'history.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Op);
  const flag = /--availability\s+(\S+)/.exec(command);
  const availability: Availability | null = flag ? (flag[1] === 'total' ? 'total' : Number(flag[1])) : null;
  return { name, command, results, history, availability };
}
