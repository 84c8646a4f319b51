// Command-line settings of bin/sched (everything after `--` on a glomers command line).

import { applyNumericFlags, flagHelp, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
import { defaultSchedulerConfig, type SchedulerConfig } from './scheduler.js';

/** Both flags count reservations: integers from 1 to 64. */
const NUMERIC: readonly NumericFlag<SchedulerConfig>[] = [
  {
    row: { name: 'probes', value: 'D', help: `reservations placed per new task (Sparrow's d; default ${defaultSchedulerConfig.probesPerTask})` },
    integer: true,
    min: 1,
    max: 64,
    set: (c, v) => void (c.probesPerTask = v),
  },
  {
    row: { name: 'cover-per-slot', value: 'C', help: `reservations per worker slot that count as covering a pending task (default ${defaultSchedulerConfig.coverPerSlot})` },
    integer: true,
    min: 1,
    max: 64,
    set: (c, v) => void (c.coverPerSlot = v),
  },
];

const FLAGS: readonly FlagRow[] = [...NUMERIC.map((flag) => flag.row), { name: 'help', short: 'h', help: 'print this and exit' }];

export const usage = `usage: sched [options]
A node for the glomers sched workload (docs/workloads/sched.md): schedules submitted jobs onto the
workers' exec slots with late binding, keeping jobs and grants in lin-kv.

${flagHelp(FLAGS, 22)}
`;

export function parseArgs(argv: readonly string[]): ArgsResult<SchedulerConfig> {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const config = { ...defaultSchedulerConfig };
  const bad = applyNumericFlags(tokens, NUMERIC, config);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  return { kind: 'options', options: config };
}
