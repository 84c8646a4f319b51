// Command-line settings of the txn node (everything after `--` on a Maelstrom command line).
// The defaults are meant for challenges 6a-6c unchanged.

import type { ArgsResult } from '../lib/args.js';
import { defaultTxnLimits, type TxnLimits } from './limits.js';
import { defaultReplicationConfig, validateReplicationConfig, type ReplicationConfig } from './replication.js';

export type TxnOptions = ReplicationConfig & TxnLimits;

export const defaultOptions: TxnOptions = { ...defaultReplicationConfig, ...defaultTxnLimits };

export const usage = `usage: txn [options]
A totally available, read-committed Maelstrom node for txn-rw-register and txn-list-append
(Gossip Glomers 6a-6c). Transactions run locally and never abort; committed writes go to
every peer in batches, resent until acknowledged.

  --interval MS        flush batches to peers every MS (default ${defaultOptions.flushIntervalMs})
  --retry MS           resend an unacknowledged batch after MS; a peer not heard from for MS
                       gets one message per MS (default ${defaultOptions.retryMs})
  --max-inflight N     unacknowledged batches kept per peer before the oldest two are merged
                       (default ${defaultOptions.maxInflightBatches})
  --max-message N      writes per message; a larger batch still goes, alone
                       (default ${defaultOptions.maxMessageWrites})
  --max-ops N          micro-ops in one txn (default ${defaultOptions.maxOpsPerTxn})
  --max-keys N         distinct keys the node holds (default ${defaultOptions.maxKeys})
  --max-state-mb N     register values and list items the node holds, in MiB as JSON
                       (default ${defaultOptions.maxStateBytes / 1024 / 1024})
  -h, --help           print this and exit

Limits (a txn past them is refused before any of it runs):
  error 12  more than --max-ops micro-ops, a key over ${defaultOptions.maxKeyChars} characters, a written
            value over ${defaultOptions.maxValueBytes} bytes as JSON, or a malformed micro-op
  error 14  the txn would take the node past --max-keys or --max-state-mb
Replicated writes are not refused (their origin checked them), so a node holds at most about
node count x these.
`;

export type ParseResult = ArgsResult<TxnOptions>;

interface NumericFlag {
  integer: boolean;
  /** Smallest value accepted; undefined = validateReplicationConfig decides. */
  min?: number;
  set(options: TxnOptions, value: number): void;
}

const numericFlags: Readonly<Record<string, NumericFlag>> = {
  '--interval': { integer: false, set: (o, v) => void (o.flushIntervalMs = v) },
  '--retry': { integer: false, set: (o, v) => void (o.retryMs = v) },
  '--max-inflight': { integer: true, set: (o, v) => void (o.maxInflightBatches = v) },
  '--max-message': { integer: true, set: (o, v) => void (o.maxMessageWrites = v) },
  '--max-ops': { integer: true, min: 1, set: (o, v) => void (o.maxOpsPerTxn = v) },
  '--max-keys': { integer: true, min: 1, set: (o, v) => void (o.maxKeys = v) },
  '--max-state-mb': { integer: true, min: 1, set: (o, v) => void (o.maxStateBytes = v * 1024 * 1024) },
};

export function parseArgs(argv: readonly string[]): ParseResult {
  const options: TxnOptions = { ...defaultOptions };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const setting = Object.hasOwn(numericFlags, flag) ? numericFlags[flag] : undefined;
    if (setting === undefined) return { kind: 'error', message: `unknown argument '${arg}'` };
    let raw: string | undefined;
    if (equals !== -1) raw = arg.slice(equals + 1);
    else raw = argv[++i];
    if (raw === undefined) return { kind: 'error', message: `${flag} needs a value` };
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || (setting.integer && !Number.isInteger(value))) {
      return { kind: 'error', message: `${flag} must be ${setting.integer ? 'an integer' : 'a number'}, got '${raw}'` };
    }
    if (setting.min !== undefined && value < setting.min) return { kind: 'error', message: `${flag} must be >= ${setting.min}, got '${raw}'` };
    setting.set(options, value);
  }
  const problem = validateReplicationConfig(options);
  return problem === undefined ? { kind: 'options', options } : { kind: 'error', message: problem };
}
