// Command-line settings of the kafka node (everything after `--` on a Maelstrom command line).

import { applyNumericFlags, flagHelp, lastValue, numberArg, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
import { storageModes, type StorageMode } from './storage.js';

export interface KafkaOptions {
  /** How often each node sends each peer its batch of new entries, claims and acks; undefined = autoIntervalMs. */
  intervalMs: number | undefined;
  /** undefined = the larger of 1 s and four flush intervals. */
  retryMs: number | undefined;
  maxBatchEntries: number;
  maxPollPerKey: number;
  storage: StorageMode;
  /** Directory for the record files (default: the working directory, which a kill leaves in place). */
  dir: string;
  /** Bound on the entries a node accepts sends for, in bytes of memory as core.entryBytes reckons them. */
  maxStateBytes: number;
  /** Distinct keys a node accepts sends for. */
  maxKeys: number;
}

/**
 * What one request may carry (docs/storage.md §3). Past these a request is answered with error 12
 * (malformed: its shape or size) and changes nothing. The runtime itself drops any line over
 * 64 MiB; these keep what a well-formed line can make the node do far below that.
 */
export const requestLimits = {
  /** Characters in a key. */
  maxKeyChars: 1024,
  /** A send's msg as JSON, in bytes (UTF-16 units). */
  maxMsgBytes: 4096,
  /** Keys in one poll, commit_offsets or list_committed_offsets. */
  maxKeysPerRequest: 10_000,
  /** A poll reply's messages, in bytes as JSON (estimated); past it the reply stops short. */
  maxPollBytes: 1024 * 1024,
} as const;

export const defaultOptions: KafkaOptions = {
  intervalMs: undefined,
  retryMs: undefined,
  maxBatchEntries: 4096,
  maxPollPerKey: 1024,
  storage: 'file',
  dir: '.',
  maxStateBytes: 256 * 1024 * 1024,
  maxKeys: 100_000,
};

/** Per-node share of the flush interval: N nodes flush every 50*N ms (100 ms at 2 nodes, 250 at 5). */
export const autoIntervalPerNodeMs = 50;

/**
 * Every node sends every peer one message per interval while busy, N*(N-1) per interval in all;
 * stretching the interval with N keeps that to 20*(N-1) messages a second. Only visibility lag
 * (about two intervals) grows, and the checker has no recency requirement.
 */
export function flushIntervalFor(options: KafkaOptions, nodeCount: number): number {
  return options.intervalMs ?? autoIntervalPerNodeMs * Math.max(2, nodeCount);
}

export function retryIntervalFor(options: KafkaOptions, nodeCount: number): number {
  return options.retryMs ?? Math.max(1000, 4 * flushIntervalFor(options, nodeCount));
}

/** Every number flag but --interval, which also takes `auto` (parseArgs reads it itself). */
const NUMERIC: readonly NumericFlag<KafkaOptions>[] = [
  {
    row: {
      name: 'retry',
      value: 'MS',
      help: 'resend what a peer has not acknowledged after MS without progress,\nat most once per MS (default: 1000 or four intervals if longer)',
    },
    integer: false,
    min: 1,
    set: (o, v) => void (o.retryMs = v),
  },
  {
    row: { name: 'batch', value: 'N', help: `at most N entries in one replication message (default ${defaultOptions.maxBatchEntries})` },
    integer: true,
    min: 1,
    set: (o, v) => void (o.maxBatchEntries = v),
  },
  {
    row: { name: 'poll-max', value: 'N', help: `at most N messages per key in one poll reply (default ${defaultOptions.maxPollPerKey})` },
    integer: true,
    min: 1,
    set: (o, v) => void (o.maxPollPerKey = v),
  },
  {
    row: {
      name: 'max-state-mb',
      value: 'N',
      help: `accept sends only while the log takes at most N MiB of memory, reckoned
as JSON of key and msg + 160 bytes per entry (default ${defaultOptions.maxStateBytes / 1024 / 1024});
the record file stays below twice its live records (smaller than
that) plus 4 MiB`,
    },
    integer: true,
    min: 1,
    set: (o, v) => void (o.maxStateBytes = v * 1024 * 1024),
  },
  {
    row: { name: 'max-keys', value: 'N', help: `accept sends to at most N distinct keys (default ${defaultOptions.maxKeys})` },
    integer: true,
    min: 1,
    set: (o, v) => void (o.maxKeys = v),
  },
];

const FLAGS: readonly FlagRow[] = [
  {
    name: 'interval',
    value: 'MS|auto',
    help: `replication flush interval; auto = ${autoIntervalPerNodeMs} ms x node count, so\n100 ms at 2 nodes, 250 at 5 (default auto)`,
  },
  ...NUMERIC.map((flag) => flag.row),
  {
    name: 'storage',
    value: 'MODE',
    help: `memory  nothing on disk; a killed node forgets (not for --nemesis kill)
file    append each record with write(2) before acknowledging; survives
        SIGKILL, not a machine crash (default)
fsync   as file, plus a shared fsync before acknowledging clients and
        peers and before answering reads; survives a power cut`,
  },
  { name: 'dir', value: 'DIR', help: 'directory for kafka-<node>.<test>.log (default: the working directory)' },
  { name: 'help', short: 'h', help: 'print this and exit' },
];

export const usage = `usage: kafka [options]
A Maelstrom kafka node (Gossip Glomers 5a-5c). Assigns offsets locally (node i of N uses
offsets i mod N), replicates batches to every peer, and lets polls see a key only up to the
offset below which it knows every offset that exists, so no poll ever skips one.

${flagHelp(FLAGS, 21)}

Limits (a request past them changes nothing and gets an error):
  error 12  key longer than ${requestLimits.maxKeyChars} characters, msg over ${requestLimits.maxMsgBytes} bytes as JSON,
            more than ${requestLimits.maxKeysPerRequest} keys in one poll, commit_offsets or
            list_committed_offsets, offsets that are not integers >= 0
  error 14  a send to a new key past --max-keys, or one that would take the log past
            --max-state-mb
  error 20  commit_offsets for a key this node holds nothing for (nothing is committed)
  error 11  the record could not be written (e.g. disk full); nothing was stored
  error 13  fsync mode: the fsync failed, so the outcome is unknown; the node takes no
            more writes until it is restarted
A poll reply stops short at about ${requestLimits.maxPollBytes / 1024 / 1024} MiB of messages (the client polls on from there).
`;

export type ParseResult = ArgsResult<KafkaOptions>;

export function parseArgs(argv: readonly string[]): ParseResult {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const options: KafkaOptions = { ...defaultOptions };
  const storage = lastValue(tokens, 'storage');
  if (storage !== undefined) {
    if (!storageModes.includes(storage as StorageMode)) return { kind: 'error', message: `--storage must be one of ${storageModes.join(', ')}, got '${storage}'` };
    options.storage = storage as StorageMode;
  }
  const dir = lastValue(tokens, 'dir');
  if (dir === '') return { kind: 'error', message: '--dir needs a directory' };
  if (dir !== undefined) options.dir = dir;
  const interval = lastValue(tokens, 'interval');
  if (interval !== undefined && interval !== 'auto') {
    const value = numberArg('interval', interval, { min: 1 });
    if (typeof value !== 'number') return { kind: 'error', message: value.error };
    options.intervalMs = value;
  }
  const bad = applyNumericFlags(tokens, NUMERIC, options);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  return { kind: 'options', options };
}
