// Shared by the tests that drive runTest directly: stand-ins for the results stage (the workload's
// own checker, in this thread; no files), temporary store folders, and liveness of a pid.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkInThread } from '../../src/harness/check/check.js';
import { exitCodeFor } from '../../src/harness/report/index.js';
import type { RunDeps } from '../../src/harness/run/runner.js';
import type { TestOptions } from '../../src/harness/types.js';
import { getWorkload } from '../../src/harness/workloads/index.js';

/** Engine-only dependencies; `cleanup` removes every store folder they made. */
export function engineDeps(prefix: string): { deps: RunDeps; cleanup(): Promise<void> } {
  const roots: string[] = [];
  const deps: RunDeps = {
    getWorkload,
    async createStoreDir(opts: TestOptions) {
      const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-${opts.workload}-`));
      roots.push(dir);
      await mkdir(path.join(dir, 'node-logs'), { recursive: true });
      return dir;
    },
    async finishRun(run, workload) {
      const valid = (await checkInThread(workload, run.history, run.opts, 60_000, undefined, run.serviceEvents ?? [])).workload['valid?'];
      return { valid, exitCode: exitCodeFor(valid) };
    },
    progressStream: null,
  };
  return { deps, cleanup: async () => void (await Promise.all(roots.map((dir) => rm(dir, { recursive: true, force: true })))) };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
