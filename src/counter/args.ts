// Command-line settings of the counter node (everything after `--` on a Maelstrom command line).
// The defaults are the ones measured on challenge 4 and the pn-counter line (docs/counters.md).

import { flagHelp, lastValue, numberArg, nodeFlags, type ArgsResult, type FlagRow } from '../lib/args.js';
import { defaultCrdtConfig, type CrdtConfig } from './crdt.js';
import { defaultCounterOptions, type CounterOptions, type Durability } from './server.js';

/** What main runs: the seq-kv node (kv, disk), or the memory-mode CRDT. */
export type CounterProgram = { mode: 'kv' | 'disk'; options: CounterOptions } | { mode: 'memory'; config: CrdtConfig };

const d = defaultCounterOptions;
const m = defaultCrdtConfig;

interface NumericFlag {
  row: FlagRow;
  set(program: { options: CounterOptions; config: CrdtConfig }, valueMs: number): void;
}

const NUMERIC: readonly NumericFlag[] = [
  { row: { name: 'flush', value: 'MS', help: `kv/disk: send pending adds (kv) or the local count (disk) to seq-kv every MS\n(default ${d.flushMs})` }, set: (p, v) => void (p.options.flushMs = v) },
  { row: { name: 'gossip', value: 'MS', help: `kv/disk: push the node's view to its peers every MS when its count changed\n(default ${d.gossipMs})` }, set: (p, v) => void (p.options.gossipMs = v) },
  { row: { name: 'keepalive', value: 'MS', help: `kv/disk: push at least every MS, changed or not (default ${d.keepaliveMs})` }, set: (p, v) => void (p.options.keepaliveMs = v) },
  { row: { name: 'kv-timeout', value: 'MS', help: `kv/disk: timeout of one seq-kv request (default ${d.kvTimeoutMs})` }, set: (p, v) => void (p.options.kvTimeoutMs = v) },
  { row: { name: 'round', value: 'MS', help: `memory: send peers what they lack every MS (default ${m.roundMs})` }, set: (p, v) => void (p.config.roundMs = v) },
  { row: { name: 'retry', value: 'MS', help: `memory: resend to a peer that has not answered for MS (default ${m.retryMs})` }, set: (p, v) => void (p.config.retryMs = v) },
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
  for (const flag of NUMERIC) {
    const raw = lastValue(tokens, flag.row.name);
    if (raw === undefined) continue;
    const value = numberArg(flag.row.name, raw, { min: 1 });
    if (typeof value !== 'number') return { kind: 'error', message: value.error };
    flag.set(program, value);
  }
  if (mode === 'memory') return { kind: 'options', options: { mode, config: program.config } };
  return { kind: 'options', options: { mode, options: { ...program.options, durability: mode } } };
}
