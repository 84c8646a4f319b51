// Command-line settings of the txn node (everything after `--` on a Maelstrom command line).
// The defaults are meant for challenges 6a-6c unchanged.

import type { ArgsResult } from '../lib/args.js';
import { defaultReplicationConfig, validateReplicationConfig, type ReplicationConfig } from './replication.js';

export type TxnOptions = ReplicationConfig;

export const defaultOptions: TxnOptions = { ...defaultReplicationConfig };

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
  -h, --help           print this and exit
`;

export type ParseResult = ArgsResult<TxnOptions>;

interface NumericFlag {
  integer: boolean;
  set(options: TxnOptions, value: number): void;
}

const numericFlags: Readonly<Record<string, NumericFlag>> = {
  '--interval': { integer: false, set: (o, v) => void (o.flushIntervalMs = v) },
  '--retry': { integer: false, set: (o, v) => void (o.retryMs = v) },
  '--max-inflight': { integer: true, set: (o, v) => void (o.maxInflightBatches = v) },
  '--max-message': { integer: true, set: (o, v) => void (o.maxMessageWrites = v) },
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
    setting.set(options, value);
  }
  const problem = validateReplicationConfig(options);
  return problem === undefined ? { kind: 'options', options } : { kind: 'error', message: problem };
}
