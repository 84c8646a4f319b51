// Which processes a test started are still there (Linux /proc): children of a pid, and whether a
// pid is alive. A zombie (exited, waiting for a parent that may itself be gone) counts as gone.
import { readdirSync, readFileSync } from 'node:fs';

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] {
  const stat = readOr(`/proc/${pid}/stat`);
  return stat === '' ? [] : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Pids whose parent is `pid`. */
export function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => Number(statFields(child)[1]) === pid);
}

export function commandLine(pid: number): string {
  return readOr(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');
}

export function isAlive(pid: number): boolean {
  const state = statFields(pid)[0];
  return state !== undefined && state !== 'Z';
}

/** Waits until none of `pids` is alive, at most `timeoutMs`; returns those still alive. */
export async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const started = Date.now();
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    alive = alive.filter(isAlive);
  }
  return alive;
}
