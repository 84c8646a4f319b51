// Command-line settings of the timers node (everything after `--` on a glomers command line).
// The defaults are the ones docs/workloads/timers.md measures.

import { applyNumericFlags, flagHelp, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
import type { BucketLimits } from './bucket.js';
import type { LeaseConfig } from './lease.js';

export interface TimersOptions extends LeaseConfig, BucketLimits {
  /** lin-kv keys the timers are spread over */
  buckets: number;
  /** how often the leader looks for due timers (and every node steps its lease) */
  tickMs: number;
  /** how often the leader re-reads every bucket, for timers whose note to it was lost */
  pollMs: number;
  /** how long before its due time a timer is claimed (a cancel within it is refused with 22) */
  claimAheadMs: number;
  kvTimeoutMs: number;
  changeDeadlineMs: number;
  readRetryMs: number;
  maxQueuedPerBucket: number;
  maxChangesPerCas: number;
  maxViewTimers: number;
  maxTimerIdChars: number;
  /** how long a node waits for the leader to answer a forwarded schedule or cancel before doing it itself */
  forwardTimeoutMs: number;
  /** after a forward timed out, how long the node writes itself without trying the leader */
  forwardPauseMs: number;
  /** a gap this long between ticks means the process was stalled (paused) */
  stallMs: number;
  /** a client request is answered only this soon after it may have been sent (clients give up after 5 s) */
  replyWithinMs: number;
  /**
   * false only in the test fixture of a leader that does not fence itself: it fires from its view
   * whenever it believes it leads. Not a command-line flag.
   */
  fence: boolean;
}

export const defaultOptions: TimersOptions = {
  buckets: 8,
  leaseMs: 600,
  renewMs: 100,
  watchMs: 100,
  guardMs: 50,
  tickMs: 5,
  pollMs: 1000,
  claimAheadMs: 200,
  kvTimeoutMs: 1000,
  changeDeadlineMs: 3000,
  readRetryMs: 50,
  maxQueuedPerBucket: 2048,
  maxChangesPerCas: 256,
  maxViewTimers: 100_000,
  maxTimerIdChars: 256,
  forwardTimeoutMs: 300,
  forwardPauseMs: 1000,
  stallMs: 500,
  replyWithinMs: 4000,
  maxEntries: 4096,
  doneRetentionMs: 60_000,
  fence: true,
};

/** The options a number flag can set. */
type NumberOption = { [K in keyof TimersOptions]: TimersOptions[K] extends number ? K : never }[keyof TimersOptions];

/** Every flag but --help: integers, each setting one option. */
const OPTION_FLAGS: ReadonlyArray<{ row: FlagRow; key: NumberOption; min: number }> = [
  { row: { name: 'buckets', value: 'N', help: `lin-kv keys the timers are spread over (default ${defaultOptions.buckets})` }, key: 'buckets', min: 1 },
  { row: { name: 'lease', value: 'MS', help: `lease length; a silent leader is replaced after about this long (default ${defaultOptions.leaseMs})` }, key: 'leaseMs', min: 10 },
  { row: { name: 'renew', value: 'MS', help: `how often the leader renews its lease (default ${defaultOptions.renewMs})` }, key: 'renewMs', min: 1 },
  { row: { name: 'watch', value: 'MS', help: `how often the others read the lease (default ${defaultOptions.watchMs})` }, key: 'watchMs', min: 1 },
  { row: { name: 'tick', value: 'MS', help: `how often the leader looks for due timers (default ${defaultOptions.tickMs})` }, key: 'tickMs', min: 1 },
  { row: { name: 'poll', value: 'MS', help: `how often the leader re-reads every bucket (default ${defaultOptions.pollMs})` }, key: 'pollMs', min: 10 },
  {
    row: {
      name: 'claim-ahead',
      value: 'MS',
      help: `claim timers this long before they are due, then fire them on a local\ntimer; a cancel inside it gets 22 (default ${defaultOptions.claimAheadMs})`,
    },
    key: 'claimAheadMs',
    min: 0,
  },
];

const NUMERIC: readonly NumericFlag<TimersOptions>[] = OPTION_FLAGS.map(({ row, key, min }) => ({ row, integer: true, min, set: (o, v) => void (o[key] = v) }));

const FLAGS: readonly FlagRow[] = [...NUMERIC.map((flag) => flag.row), { name: 'help', short: 'h', help: 'print this and exit' }];

export const usage = `usage: timers [options]
A durable-timers node (glomers workload timers): stores timers in lin-kv and lets one leader,
elected by a lease in lin-kv, fire them to the webhook service.

${flagHelp(FLAGS, 19)}
`;

export function parseArgs(argv: readonly string[]): ArgsResult<TimersOptions> {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const options: TimersOptions = { ...defaultOptions };
  const bad = applyNumericFlags(tokens, NUMERIC, options);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  if (options.renewMs + options.guardMs >= options.leaseMs) {
    return { kind: 'error', message: `--renew (${options.renewMs}) must be well below --lease (${options.leaseMs}) less the ${options.guardMs} ms guard` };
  }
  return { kind: 'options', options };
}
