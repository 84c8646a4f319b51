// The counter's local file in disk mode: one small JSON object, replaced atomically (write a
// temporary file, then rename), so a kill mid-write leaves either the old or the new count.
// No fsync: the nemesis kills processes, not machines, and a completed write() survives SIGKILL.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Versioned } from './counter.js';

/**
 * One file per node and per test run: Maelstrom runs every node in the same shared directory
 * (the system temp dir), which outlives runs, so the run token keeps an old run's file out.
 */
export function localFilePath(dir: string, runToken: string, node: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, '_');
  return path.join(dir, `glomers-counter-${safe(runToken)}-${safe(node)}.json`);
}

export function loadLocal(file: string): Versioned | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as { count?: unknown; version?: unknown };
    if (Number.isSafeInteger(parsed.count) && Number.isSafeInteger(parsed.version)) {
      return { count: parsed.count as number, version: parsed.version as number };
    }
  } catch {
    // a torn file cannot happen with rename; treat anything unreadable as absent
  }
  return undefined;
}

export function saveLocal(file: string, local: Versioned): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify({ count: local.count, version: local.version }));
  renameSync(temporary, file);
}
