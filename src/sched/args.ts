// Command-line settings of bin/sched (everything after `--` on a glomers command line).

import type { ArgsResult } from '../lib/args.js';
import { defaultSchedulerConfig, type SchedulerConfig } from './scheduler.js';

export const usage = `usage: sched [options]
A node for the glomers sched workload (docs/workloads/sched.md): schedules submitted jobs onto the
workers' exec slots with late binding, keeping jobs and grants in lin-kv.

  --probes D        reservations placed per new task (Sparrow's d; default ${defaultSchedulerConfig.probesPerTask})
  --cover-per-slot C  reservations per worker slot that count as covering a pending task (default ${defaultSchedulerConfig.coverPerSlot})
  --help            this text
`;

export function parseArgs(argv: readonly string[]): ArgsResult<SchedulerConfig> {
  const config = { ...defaultSchedulerConfig };
  for (let k = 0; k < argv.length; k++) {
    const flag = argv[k];
    if (flag === '--help') return { kind: 'help' };
    const raw = argv[k + 1];
    const value = Number(raw);
    const ok = raw !== undefined && Number.isInteger(value) && value >= 1 && value <= 64;
    if (flag === '--probes' || flag === '--cover-per-slot') {
      if (!ok) return { kind: 'error', message: `${flag} needs an integer from 1 to 64, got ${JSON.stringify(raw ?? '')}` };
      if (flag === '--probes') config.probesPerTask = value;
      else config.coverPerSlot = value;
      k++;
      continue;
    }
    return { kind: 'error', message: `unknown argument ${JSON.stringify(flag)}` };
  }
  return { kind: 'options', options: config };
}
