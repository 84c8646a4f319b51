// Command-line settings of the counter node (everything after `--` on a Maelstrom command line).
// The defaults are the ones measured on challenge 4 and the pn-counter line (docs/counters.md).

import { applyNumericFlags, flagHelp, lastValue, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
import { defaultCrdtConfig, type CrdtConfig } from './crdt.js';
import { defaultCounterOptions, type CounterOptions, type Durability } from './server.js';

/** What main runs: the seq-kv node (kv, disk), or the memory-mode CRDT. */
export type CounterProgram = { mode: 'kv' | 'disk'; options: CounterOptions } | { mode: 'memory'; config: CrdtConfig };

const d = defaultCounterOptions;
const m = defaultCrdtConfig;

/** Every number flag: milliseconds, at least 1. */
const NUMERIC: readonly NumericFlag<{ options: CounterOptions; config: CrdtConfig }>[] = [
  { row: { name: 'flush', value: 'MS', help: `kv/disk: send pending adds (kv) or the local count (disk) to seq-kv every MS\n(default ${d.flushMs})` }, min: 1, set: (p, v) => void (p.options.flushMs = v) },
  { row: { name: 'gossip', value: 'MS', help: `kv/disk: push the node's view to its peers every MS when its count changed\n(default ${d.gossipMs})` }, min: 1, set: (p, v) => void (p.options.gossipMs = v) },
  { row: { name: 'keepalive', value: 'MS', help: `kv/disk: push at least every MS, changed or not (default ${d.keepaliveMs})` }, min: 1, set: (p, v) => void (p.options.keepaliveMs = v) },
  { row: { name: 'kv-timeout', value: 'MS', help: `kv/disk: timeout of one seq-kv request (default ${d.kvTimeoutMs})` }, min: 1, set: (p, v) => void (p.options.kvTimeoutMs = v) },
  { row: { name: 'round', value: 'MS', help: `memory: send peers what they lack every MS (default ${m.roundMs})` }, min: 1, set: (p, v) => void (p.config.roundMs = v) },
  { row: { name: 'retry', value: 'MS', help: `memory: resend to a peer that has not answered for MS (default ${m.retryMs})` }, min: 1, set: (p, v) => void (p.config.retryMs = v) },
];

const FLAGS: readonly FlagRow[] = [
  {
    name: 'durability',
    value: 'MODE',
    help: `where an add must be before it is acknowledged (default ${d.durability}):
  kv      a cas of the node's own seq-kv key (one seq-kv round trip per add);
          survives kills
  disk    the node's file in --data-dir; the seq-kv key follows once per
          --flush; survives kills
  memory  the node's memory, no seq-kv; peers get a state CRDT; a kill loses
          the adds its process had not yet sent to a peer`,
  },
  { name: 'data-dir', value: 'DIR', help: 'disk: directory of the file (default: the working directory)' },
  ...NUMERIC.map((flag) => flag.row),
  { name: 'help', short: 'h', help: 'print this and exit' },
];

export const usage = `usage: counter [options]
A Maelstrom g-counter / pn-counter node (Gossip Glomers 4). Refuses (12) an add that would
take a node's count out of the range where every read total is a safe integer.

${flagHelp(FLAGS, 22)}
`;

function isDurability(value: string): value is Durability | 'memory' {
  return value === 'kv' || value === 'disk' || value === 'memory';
}

export function parseArgs(argv: readonly string[]): ArgsResult<CounterProgram> {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const program = { options: { ...defaultCounterOptions }, config: { ...defaultCrdtConfig } };
  const mode = lastValue(tokens, 'durability') ?? d.durability;
  if (!isDurability(mode)) return { kind: 'error', message: `--durability must be kv, disk or memory, got '${mode}'` };
  const dataDir = lastValue(tokens, 'data-dir');
  if (dataDir !== undefined) {
    if (dataDir === '') return { kind: 'error', message: '--data-dir needs a directory' };
    program.options.dataDir = dataDir;
  }
  const bad = applyNumericFlags(tokens, NUMERIC, program);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  if (mode === 'memory') return { kind: 'options', options: { mode, config: program.config } };
  return { kind: 'options', options: { mode, options: { ...program.options, durability: mode } } };
}
