// Command-line settings of the Raft lin-kv node (everything after `--` on a Maelstrom command line).

import type { ArgsResult } from '../lib/args.js';
import { defaultLimits, defaultTimings } from './raft.js';
import { defaultRelayTimings } from './relay.js';
import type { RaftTimings } from './server.js';

export interface RaftOptions {
  timings: RaftTimings;
  /** directory for the journal; default: the working directory */
  dir: string;
  /** overrides the test-run id derived from the parent process */
  runId: string | undefined;
  fsync: boolean;
}

export const defaultOptions: RaftOptions = {
  timings: { ...defaultTimings, tickMs: 10, compactEvery: defaultLimits.compactEvery, heardWindowMs: defaultRelayTimings.heardWindowMs, relayBatchMs: 40 },
  dir: '.',
  runId: undefined,
  fsync: true,
};

export const usage = `usage: raft [options]
A Maelstrom lin-kv node: Raft with pre-vote, appends sent at once (batched under load), ReadIndex
reads (no log entry, no clock), and term,
vote and log on disk (raft-<node>-<run>.jsonl in --dir) so a killed node restarts safely.

  --heartbeat MS         a follower sent nothing for MS gets a heartbeat; also when an unanswered
                         append is sent again (default ${defaultOptions.timings.heartbeatMs})
  --election-min MS      election timeout, lower bound (default ${defaultOptions.timings.electionMinMs})
  --election-max MS      election timeout, upper bound (default ${defaultOptions.timings.electionMaxMs})
  --check-quorum MS      a leader steps down after MS without acks from a majority
                         (default ${defaultOptions.timings.checkQuorumMs})
  --request-timeout MS   answer a client request with an error after MS; keep it below the
                         client's timeout (1 s in lin-kv) (default ${defaultOptions.timings.requestTimeoutMs})
  --heard-window MS      relaying around one-way link failures: a peer silent this long is
                         reported as not heard (default ${defaultOptions.timings.heardWindowMs}; at
                         --latency L use about 2L more, and scale the other timings too)
  --relay-batch MS      messages that must go through a relay wait up to MS to travel together
                         (each relayed message costs two; default ${defaultOptions.timings.relayBatchMs}, 0 = at once)
  --compact-every N      snapshot after N applied entries (default ${defaultOptions.timings.compactEvery})
  --tick MS              timer granularity (default ${defaultOptions.timings.tickMs})
  --dir DIR              where the journal lives (default: working directory)
  --run-id ID            test-run id; a journal from another run is ignored (default: derived
                         from the parent process, which is the same across restarts in one test)
  --no-fsync             do not fdatasync writes (a kill still loses nothing; a machine crash may)
  -h, --help             print this and exit
`;

export type ParseResult = ArgsResult<RaftOptions>;

const numericFlags: Record<string, { field: keyof RaftTimings; min: number }> = {
  '--heartbeat': { field: 'heartbeatMs', min: 1 },
  '--election-min': { field: 'electionMinMs', min: 1 },
  '--election-max': { field: 'electionMaxMs', min: 1 },
  '--check-quorum': { field: 'checkQuorumMs', min: 1 },
  '--request-timeout': { field: 'requestTimeoutMs', min: 1 },
  '--compact-every': { field: 'compactEvery', min: 1 },
  '--tick': { field: 'tickMs', min: 1 },
  '--heard-window': { field: 'heardWindowMs', min: 1 },
  '--relay-batch': { field: 'relayBatchMs', min: 0 },
};

export function parseArgs(argv: readonly string[]): ParseResult {
  const options: RaftOptions = { ...defaultOptions, timings: { ...defaultOptions.timings } };
  for (let k = 0; k < argv.length; k++) {
    const flag = argv[k] as string;
    if (flag === '-h' || flag === '--help') return { kind: 'help' };
    if (flag === '--no-fsync') {
      options.fsync = false;
      continue;
    }
    const value = argv[k + 1];
    if (flag === '--dir' || flag === '--run-id') {
      if (value === undefined) return { kind: 'error', message: `${flag} needs a value` };
      if (flag === '--dir') options.dir = value;
      else options.runId = value;
      k++;
      continue;
    }
    const numeric = numericFlags[flag];
    if (numeric === undefined) return { kind: 'error', message: `unknown option '${flag}'` };
    const parsed = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isInteger(parsed) || parsed < numeric.min) {
      return { kind: 'error', message: `${flag} must be an integer >= ${numeric.min}, got '${value ?? ''}'` };
    }
    options.timings[numeric.field] = parsed;
    k++;
  }
  const t = options.timings;
  if (t.electionMaxMs < t.electionMinMs) return { kind: 'error', message: '--election-max must be >= --election-min' };
  if (t.heartbeatMs >= t.electionMinMs) return { kind: 'error', message: '--heartbeat must be below --election-min' };
  return { kind: 'options', options };
}
