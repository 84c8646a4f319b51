// Command-line settings of the broadcast node (everything after `--` on a Maelstrom command
// line). The defaults pass every broadcast challenge (3a-3e) unchanged.

import { applyNumericFlags, flagHelp, lastValue, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
import { overlayKinds, type OverlayKind, type OverlaySpec } from './overlay.js';

export interface BroadcastOptions {
  overlay: OverlaySpec;
  /** Flush interval of nodes with two or more neighbours (hubs, inner tree nodes); 0 = immediate. */
  intervalMs: number;
  /** Flush interval of nodes with a single neighbour (star and tree leaves); 0 = immediate. */
  leafIntervalMs: number;
  retryMs: number;
  maxBatchValues: number;
  ackDelayMs: number;
}

export const defaultOptions: BroadcastOptions = {
  overlay: { kind: 'tree', fanout: 24 },
  intervalMs: 250,
  leafIntervalMs: 0,
  retryMs: 3000,
  maxBatchValues: 4096,
  ackDelayMs: 2000,
};

const FLAGS: readonly FlagRow[] = [
  {
    name: 'overlay',
    value: 'KIND',
    help: `who gossips with whom (default ${defaultOptions.overlay.kind}):
  tree       heap-ordered tree over node_ids, --fanout children per node
             (a fan-out of n-1 or more is a star around the first node)
  star       every node talks only to the hub (--hub)
  grid, line same shapes as Maelstrom's topologies, built from node_ids
  total      every node sends its own clients' values straight to all
  maelstrom  use the topology message Maelstrom sends`,
  },
  { name: 'fanout', value: 'K', help: `children per node for --overlay tree (default ${defaultOptions.overlay.fanout})` },
  { name: 'hub', value: 'NODE', help: 'hub for --overlay star (default: the first node id)' },
  { name: 'interval', value: 'MS', help: `batch flush interval of nodes with 2+ neighbours; 0 = send at once\n(default ${defaultOptions.intervalMs})` },
  { name: 'leaf-interval', value: 'MS', help: `flush interval of nodes with one neighbour (default ${defaultOptions.leafIntervalMs})` },
  { name: 'retry', value: 'MS', help: `resend unacknowledged values after MS, at most one resend per\nneighbour per MS (default ${defaultOptions.retryMs})` },
  { name: 'batch', value: 'N', help: `at most N values in one message (default ${defaultOptions.maxBatchValues})` },
  { name: 'ack-delay', value: 'MS|never', help: `longest an ack waits for a message to ride on (default ${defaultOptions.ackDelayMs})` },
  { name: 'help', short: 'h', help: 'print this and exit' },
];

export const usage = `usage: broadcast [options]
A Maelstrom broadcast node (Gossip Glomers 3a-3e). Answers topology, broadcast and read;
gossips batches of values to its overlay neighbours and resends them until acknowledged.

${flagHelp(FLAGS, 23)}
`;

export type ParseResult = ArgsResult<BroadcastOptions>;

const NUMBER_SETTINGS: Readonly<Record<string, Omit<NumericFlag<BroadcastOptions>, 'row'>>> = {
  fanout: { integer: true, min: 1, set: (o, v) => void (o.overlay.fanout = v) },
  interval: { integer: false, min: 0, set: (o, v) => void (o.intervalMs = v) },
  'leaf-interval': { integer: false, min: 0, set: (o, v) => void (o.leafIntervalMs = v) },
  retry: { integer: false, min: 1, set: (o, v) => void (o.retryMs = v) },
  batch: { integer: true, min: 1, set: (o, v) => void (o.maxBatchValues = v) },
  'ack-delay': { integer: false, min: 0, set: (o, v) => void (o.ackDelayMs = v) },
};

const NUMERIC: readonly NumericFlag<BroadcastOptions>[] = FLAGS.flatMap((row) => {
  const setting = NUMBER_SETTINGS[row.name];
  return setting === undefined ? [] : [{ row, ...setting }];
});

export function parseArgs(argv: readonly string[]): ParseResult {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const options: BroadcastOptions = { ...defaultOptions, overlay: { ...defaultOptions.overlay } };
  const overlay = lastValue(tokens, 'overlay');
  if (overlay !== undefined) {
    if (!overlayKinds.includes(overlay as OverlayKind)) return { kind: 'error', message: `--overlay must be one of ${overlayKinds.join(', ')}, got '${overlay}'` };
    options.overlay.kind = overlay as OverlayKind;
  }
  const hub = lastValue(tokens, 'hub');
  if (hub === '') return { kind: 'error', message: '--hub needs a node id' };
  if (hub !== undefined) options.overlay.hub = hub;
  // --ack-delay also takes `never`
  const neverAck = lastValue(tokens, 'ack-delay') === 'never';
  if (neverAck) options.ackDelayMs = Number.POSITIVE_INFINITY;
  const bad = applyNumericFlags(tokens, neverAck ? NUMERIC.filter((flag) => flag.row.name !== 'ack-delay') : NUMERIC, options);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  return { kind: 'options', options };
}
