// Command-line settings of the kafka node (everything after `--` on a Maelstrom command line).

import type { ArgsResult } from '../lib/args.js';
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

export const usage = `usage: kafka [options]
A Maelstrom kafka node (Gossip Glomers 5a-5c). Assigns offsets locally (node i of N uses
offsets i mod N), replicates batches to every peer, and lets polls see a key only up to the
offset below which it knows every offset that exists, so no poll ever skips one.

  --interval MS|auto replication flush interval; auto = ${autoIntervalPerNodeMs} ms x node count, so
                     100 ms at 2 nodes, 250 at 5 (default auto)
  --retry MS         resend what a peer has not acknowledged after MS without progress,
                     at most once per MS (default: 1000 or four intervals if longer)
  --batch N          at most N entries in one replication message (default ${defaultOptions.maxBatchEntries})
  --poll-max N       at most N messages per key in one poll reply (default ${defaultOptions.maxPollPerKey})
  --storage MODE     memory  nothing on disk; a killed node forgets (not for --nemesis kill)
                     file    append each record with write(2) before acknowledging; survives
                             SIGKILL, not a machine crash (default)
                     fsync   as file, plus a shared fsync before acknowledging clients and
                             peers and before answering reads; survives a power cut
  --dir DIR          directory for kafka-<node>.<test>.log (default: the working directory)
  --max-state-mb N   accept sends only while the log takes at most N MiB of memory, reckoned
                     as JSON of key and msg + 160 bytes per entry (default ${defaultOptions.maxStateBytes / 1024 / 1024});
                     the record file stays below twice its live records (smaller than
                     that) plus 4 MiB
  --max-keys N       accept sends to at most N distinct keys (default ${defaultOptions.maxKeys})
  -h, --help         print this and exit

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

interface NumericFlag {
  integer: boolean;
  min: number;
  set(options: KafkaOptions, value: number): void;
}

const numericFlags: Readonly<Record<string, NumericFlag>> = {
  '--interval': { integer: false, min: 1, set: (o, v) => void (o.intervalMs = v) },
  '--retry': { integer: false, min: 1, set: (o, v) => void (o.retryMs = v) },
  '--batch': { integer: true, min: 1, set: (o, v) => void (o.maxBatchEntries = v) },
  '--poll-max': { integer: true, min: 1, set: (o, v) => void (o.maxPollPerKey = v) },
  '--max-keys': { integer: true, min: 1, set: (o, v) => void (o.maxKeys = v) },
  '--max-state-mb': { integer: true, min: 1, set: (o, v) => void (o.maxStateBytes = v * 1024 * 1024) },
};

export function parseArgs(argv: readonly string[]): ParseResult {
  const options: KafkaOptions = { ...defaultOptions };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const takeValue = (): string | undefined => {
      if (inline !== undefined) return inline;
      i += 1;
      return argv[i];
    };
    if (flag === '-h' || flag === '--help') return { kind: 'help' };
    if (flag === '--storage') {
      const value = takeValue();
      if (value === undefined || !storageModes.includes(value as StorageMode)) {
        return { kind: 'error', message: `--storage must be one of ${storageModes.join(', ')}, got '${value ?? ''}'` };
      }
      options.storage = value as StorageMode;
      continue;
    }
    if (flag === '--interval' && (inline ?? argv[i + 1]) === 'auto') {
      if (inline === undefined) i += 1;
      options.intervalMs = undefined;
      continue;
    }
    if (flag === '--dir') {
      const value = takeValue();
      if (value === undefined || value === '') return { kind: 'error', message: '--dir needs a directory' };
      options.dir = value;
      continue;
    }
    const setting = Object.hasOwn(numericFlags, flag) ? numericFlags[flag] : undefined;
    if (setting === undefined) return { kind: 'error', message: `unknown argument '${arg}'` };
    const raw = takeValue();
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || (setting.integer && !Number.isInteger(value)) || value < setting.min) {
      return { kind: 'error', message: `${flag} must be ${setting.integer ? 'an integer' : 'a number'} >= ${setting.min}, got '${raw ?? ''}'` };
    }
    setting.set(options, value);
  }
  return { kind: 'options', options };
}
