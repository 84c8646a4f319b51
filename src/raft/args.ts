// Command-line settings of the Raft lin-kv node (everything after `--` on a Maelstrom command line).

import { applyNumericFlags, flagHelp, lastValue, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
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

interface TimingFlag {
  row: FlagRow;
  field: keyof RaftTimings;
  min: number;
}

const t = defaultOptions.timings;

/** Every number flag: all integers, each setting one timing. */
const TIMINGS: readonly TimingFlag[] = [
  {
    row: { name: 'heartbeat', value: 'MS', help: `a follower sent nothing for MS gets a heartbeat; also when an unanswered\nappend is sent again (default ${t.heartbeatMs})` },
    field: 'heartbeatMs',
    min: 1,
  },
  { row: { name: 'election-min', value: 'MS', help: `election timeout, lower bound (default ${t.electionMinMs})` }, field: 'electionMinMs', min: 1 },
  { row: { name: 'election-max', value: 'MS', help: `election timeout, upper bound (default ${t.electionMaxMs})` }, field: 'electionMaxMs', min: 1 },
  { row: { name: 'check-quorum', value: 'MS', help: `a leader steps down after MS without acks from a majority\n(default ${t.checkQuorumMs})` }, field: 'checkQuorumMs', min: 1 },
  {
    row: {
      name: 'request-timeout',
      value: 'MS',
      help: `answer a client request with an error after MS; keep it below the\nclient's timeout (1 s in lin-kv) (default ${t.requestTimeoutMs})`,
    },
    field: 'requestTimeoutMs',
    min: 1,
  },
  {
    row: {
      name: 'heard-window',
      value: 'MS',
      help: `relaying around one-way link failures: a peer silent this long is
reported as not heard (default ${t.heardWindowMs}; at
--latency L use about 2L more, and scale the other timings too)`,
    },
    field: 'heardWindowMs',
    min: 1,
  },
  {
    row: {
      name: 'relay-batch',
      value: 'MS',
      help: `messages that must go through a relay wait up to MS to travel together\n(each relayed message costs two; default ${t.relayBatchMs}, 0 = at once)`,
    },
    field: 'relayBatchMs',
    min: 0,
  },
  { row: { name: 'compact-every', value: 'N', help: `snapshot after N applied entries (default ${t.compactEvery})` }, field: 'compactEvery', min: 1 },
  { row: { name: 'tick', value: 'MS', help: `timer granularity (default ${t.tickMs})` }, field: 'tickMs', min: 1 },
];
const NUMERIC: readonly NumericFlag<RaftOptions>[] = TIMINGS.map(({ row, field, min }) => ({ row, integer: true, min, set: (o, v) => void (o.timings[field] = v) }));

const FLAGS: readonly FlagRow[] = [
  ...TIMINGS.map((flag) => flag.row),
  { name: 'dir', value: 'DIR', help: 'where the journal lives (default: working directory)' },
  {
    name: 'run-id',
    value: 'ID',
    help: 'test-run id; a journal from another run is ignored (default: derived\nfrom the parent process, which is the same across restarts in one test)',
  },
  { name: 'no-fsync', help: 'do not fdatasync writes (a kill still loses nothing; a machine crash may)' },
  { name: 'help', short: 'h', help: 'print this and exit' },
];

export const usage = `usage: raft [options]
A Maelstrom lin-kv node: Raft with pre-vote, appends sent at once (batched under load), ReadIndex
reads (no log entry, no clock), and term,
vote and log on disk (raft-<node>-<run>.jsonl in --dir) so a killed node restarts safely.

${flagHelp(FLAGS, 25)}
`;

export type ParseResult = ArgsResult<RaftOptions>;

export function parseArgs(argv: readonly string[]): ParseResult {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const options: RaftOptions = { ...defaultOptions, timings: { ...defaultOptions.timings } };
  if (tokens.present.has('no-fsync')) options.fsync = false;
  options.dir = lastValue(tokens, 'dir') ?? options.dir;
  options.runId = lastValue(tokens, 'run-id') ?? options.runId;
  const bad = applyNumericFlags(tokens, NUMERIC, options);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  const timings = options.timings;
  if (timings.electionMaxMs < timings.electionMinMs) return { kind: 'error', message: '--election-max must be >= --election-min' };
  if (timings.heartbeatMs >= timings.electionMinMs) return { kind: 'error', message: '--heartbeat must be below --election-min' };
  return { kind: 'options', options };
}
