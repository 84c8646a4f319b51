// The registry of workloads the harness can run, by Maelstrom's `--workload` name.

import type { OptionSpec } from '../cli/options.js';
import type { Workload } from '../workload.js';
import { broadcastWorkload } from './broadcast.js';
import { echoWorkload } from './echo.js';
import { uniqueIdsWorkload } from './unique-ids.js';
import { txnListAppendWorkload, txnRwRegisterWorkload } from './txn.js';
import { gCounterWorkload, gSetWorkload, pnCounterWorkload } from './counters.js';
import { linKvWorkload } from './lin-kv.js';
import { kafkaWorkload } from './kafka.js';
import { schedWorkload } from './sched.js';
import { timersWorkload } from './timers.js';

export const workloads: Record<string, Workload> = {
  [echoWorkload.name]: echoWorkload,
  [uniqueIdsWorkload.name]: uniqueIdsWorkload,
  [broadcastWorkload.name]: broadcastWorkload,
  [txnRwRegisterWorkload.name]: txnRwRegisterWorkload,
  [txnListAppendWorkload.name]: txnListAppendWorkload,
  [gSetWorkload.name]: gSetWorkload,
  [gCounterWorkload.name]: gCounterWorkload,
  [pnCounterWorkload.name]: pnCounterWorkload,
  [linKvWorkload.name]: linKvWorkload,
  [kafkaWorkload.name]: kafkaWorkload,
  [schedWorkload.name]: schedWorkload,
  [timersWorkload.name]: timersWorkload,
};

export function getWorkload(name: string): Workload | undefined {
  return Object.hasOwn(workloads, name) ? workloads[name] : undefined;
}

/** Every workload flag once, with the workloads that read it (for the CLI and --help). */
export function allWorkloadOptions(): { spec: OptionSpec; workloads: string[] }[] {
  const byFlag = new Map<string, { spec: OptionSpec; workloads: string[] }>();
  for (const workload of Object.values(workloads)) {
    for (const spec of workload.options) {
      const entry = byFlag.get(spec.flag) ?? { spec, workloads: [] };
      entry.workloads.push(workload.name);
      byFlag.set(spec.flag, entry);
    }
  }
  return [...byFlag.values()].sort((a, b) => a.spec.flag.localeCompare(b.spec.flag));
}

/** A checker task that may run in a worker thread (check/parallel.ts), found by its name. */
export function parallelTask(name: string): ((input: never) => unknown) | undefined {
  for (const workload of Object.values(workloads)) {
    const task = workload.parallelTasks?.[name];
    if (task !== undefined) return task;
  }
  return undefined;
}
