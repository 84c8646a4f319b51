// Command-line settings of the txn node (everything after `--` on a Maelstrom command line).
// The defaults are meant for challenges 6a-6c unchanged.

import { applyNumericFlags, flagHelp, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
import { defaultTxnLimits, type TxnLimits } from './limits.js';
import { defaultReplicationConfig, validateReplicationConfig, type ReplicationConfig } from './replication.js';

export type TxnOptions = ReplicationConfig & TxnLimits;

export const defaultOptions: TxnOptions = { ...defaultReplicationConfig, ...defaultTxnLimits };

/** Without a min, validateReplicationConfig decides what is accepted. */
const NUMERIC: readonly NumericFlag<TxnOptions>[] = [
  { row: { name: 'interval', value: 'MS', help: `flush batches to peers every MS (default ${defaultOptions.flushIntervalMs})` }, integer: false, set: (o, v) => void (o.flushIntervalMs = v) },
  {
    row: { name: 'retry', value: 'MS', help: `resend an unacknowledged batch after MS; a peer not heard from for MS\ngets one message per MS (default ${defaultOptions.retryMs})` },
    integer: false,
    set: (o, v) => void (o.retryMs = v),
  },
  {
    row: { name: 'max-inflight', value: 'N', help: `unacknowledged batches kept per peer before the oldest two are merged\n(default ${defaultOptions.maxInflightBatches})` },
    integer: true,
    set: (o, v) => void (o.maxInflightBatches = v),
  },
  {
    row: { name: 'max-message', value: 'N', help: `writes per message; a larger batch still goes, alone\n(default ${defaultOptions.maxMessageWrites})` },
    integer: true,
    set: (o, v) => void (o.maxMessageWrites = v),
  },
  { row: { name: 'max-ops', value: 'N', help: `micro-ops in one txn (default ${defaultOptions.maxOpsPerTxn})` }, integer: true, min: 1, set: (o, v) => void (o.maxOpsPerTxn = v) },
  { row: { name: 'max-keys', value: 'N', help: `distinct keys the node holds (default ${defaultOptions.maxKeys})` }, integer: true, min: 1, set: (o, v) => void (o.maxKeys = v) },
  {
    row: { name: 'max-state-mb', value: 'N', help: `register values and list items the node holds, in MiB as JSON\n(default ${defaultOptions.maxStateBytes / 1024 / 1024})` },
    integer: true,
    min: 1,
    set: (o, v) => void (o.maxStateBytes = v * 1024 * 1024),
  },
];

const FLAGS: readonly FlagRow[] = [...NUMERIC.map((flag) => flag.row), { name: 'help', short: 'h', help: 'print this and exit' }];

export const usage = `usage: txn [options]
A totally available, read-committed Maelstrom node for txn-rw-register and txn-list-append
(Gossip Glomers 6a-6c). Transactions run locally and never abort; committed writes go to
every peer in batches, resent until acknowledged.

${flagHelp(FLAGS, 23)}

Limits (a txn past them is refused before any of it runs):
  error 12  more than --max-ops micro-ops, a key over ${defaultOptions.maxKeyChars} characters, a written
            value over ${defaultOptions.maxValueBytes} bytes as JSON, or a malformed micro-op
  error 14  the txn would take the node past --max-keys or --max-state-mb
Replicated writes are not refused (their origin checked them), so a node holds at most about
node count x these.
`;

export type ParseResult = ArgsResult<TxnOptions>;

export function parseArgs(argv: readonly string[]): ParseResult {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const options: TxnOptions = { ...defaultOptions };
  const bad = applyNumericFlags(tokens, NUMERIC, options);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  const problem = validateReplicationConfig(options);
  return problem === undefined ? { kind: 'options', options } : { kind: 'error', message: problem };
}
