// Command-line settings of the timers node (everything after `--` on a glomers command line).
// The defaults are the ones docs/workloads/timers.md measures.

import type { ArgsResult } from '../lib/args.js';
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

export const usage = `usage: timers [options]
A durable-timers node (glomers workload timers): stores timers in lin-kv and lets one leader,
elected by a lease in lin-kv, fire them to the webhook service.

  --buckets N      lin-kv keys the timers are spread over (default ${defaultOptions.buckets})
  --lease MS       lease length; a silent leader is replaced after about this long (default ${defaultOptions.leaseMs})
  --renew MS       how often the leader renews its lease (default ${defaultOptions.renewMs})
  --watch MS       how often the others read the lease (default ${defaultOptions.watchMs})
  --tick MS        how often the leader looks for due timers (default ${defaultOptions.tickMs})
  --poll MS        how often the leader re-reads every bucket (default ${defaultOptions.pollMs})
  --claim-ahead MS claim timers this long before they are due, then fire them on a local
                   timer; a cancel inside it gets 22 (default ${defaultOptions.claimAheadMs})
  -h, --help       print this and exit
`;

const numericFlags: Readonly<Record<string, { key: keyof TimersOptions; min: number }>> = {
  '--buckets': { key: 'buckets', min: 1 },
  '--lease': { key: 'leaseMs', min: 10 },
  '--renew': { key: 'renewMs', min: 1 },
  '--watch': { key: 'watchMs', min: 1 },
  '--tick': { key: 'tickMs', min: 1 },
  '--poll': { key: 'pollMs', min: 10 },
  '--claim-ahead': { key: 'claimAheadMs', min: 0 },
};

export function parseArgs(argv: readonly string[]): ArgsResult<TimersOptions> {
  const options: TimersOptions = { ...defaultOptions };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const spec = numericFlags[flag];
    if (spec === undefined) return { kind: 'error', message: `unknown argument '${arg}'` };
    const raw = inline ?? argv[++i];
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isInteger(value) || value < spec.min) {
      return { kind: 'error', message: `${flag} must be an integer >= ${spec.min}, got '${raw ?? ''}'` };
    }
    (options[spec.key] as number) = value;
  }
  if (options.renewMs + options.guardMs >= options.leaseMs) {
    return { kind: 'error', message: `--renew (${options.renewMs}) must be well below --lease (${options.leaseMs}) less the ${options.guardMs} ms guard` };
  }
  return { kind: 'options', options };
}
