// The store folder of one run, named and linked the way Maelstrom (Jepsen's store) does it, so
// tools that look for store/latest/results.edn keep working.

import { mkdir, rename, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { TestOptions } from '../types.js';

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * Joda's "basic date time" in the local zone, as Jepsen names run folders:
 * 20260316T065145.052Z in UTC, 20240106T150751.664+0530 elsewhere.
 */
export function formatStoreTimestamp(date: Date): string {
  const stamp =
    `${pad(date.getFullYear(), 4)}${pad(date.getMonth() + 1, 2)}${pad(date.getDate(), 2)}` +
    `T${pad(date.getHours(), 2)}${pad(date.getMinutes(), 2)}${pad(date.getSeconds(), 2)}` +
    `.${pad(date.getMilliseconds(), 3)}`;
  const offsetMinutes = -date.getTimezoneOffset();
  if (offsetMinutes === 0) return `${stamp}Z`;
  const sign = offsetMinutes > 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${stamp}${sign}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
}

/** Points `linkPath` at `target` (relative), replacing any previous link in one rename. */
async function replaceSymlink(linkPath: string, target: string): Promise<void> {
  const relativeTarget = path.relative(path.dirname(linkPath), target);
  const temporary = `${linkPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  await symlink(relativeTarget, temporary);
  try {
    await rename(temporary, linkPath);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Creates `<storeDir>/<workload>/<timestamp>/node-logs/` and points `<storeDir>/latest`,
 * `<storeDir>/current` and `<storeDir>/<workload>/latest` at the new folder. Returns its path.
 */
export async function createStoreDir(opts: TestOptions, startedAt: Date): Promise<string> {
  const storeRoot = path.resolve(opts.storeDir);
  const workloadDir = path.join(storeRoot, opts.workload);
  const runDir = path.join(workloadDir, formatStoreTimestamp(startedAt));
  await mkdir(path.join(runDir, 'node-logs'), { recursive: true });
  await replaceSymlink(path.join(storeRoot, 'latest'), runDir);
  await replaceSymlink(path.join(storeRoot, 'current'), runDir);
  await replaceSymlink(path.join(workloadDir, 'latest'), runDir);
  return runDir;
}
