// Command-line settings of the g-set node (everything after `--` on a Maelstrom command line).
// The defaults are the ones measured on the g-set line (docs/counters.md).

import { applyNumericFlags, flagHelp, nodeFlags, type ArgsResult, type FlagRow, type NumericFlag } from '../lib/args.js';
import { defaultGsetConfig, type GsetConfig } from './core.js';

const d = defaultGsetConfig;

const NUMERIC: readonly NumericFlag<GsetConfig>[] = [
  { row: { name: 'round', value: 'MS', help: `leaves send at multiples of MS on the clock, the hub just after (default ${d.roundMs})` }, integer: true, min: 1, set: (c, v) => void (c.roundMs = v) },
  { row: { name: 'hub-delay', value: 'MS', help: `the hub's round starts MS after the leaves' (default ${d.hubDelayMs})` }, integer: true, min: 0, set: (c, v) => void (c.hubDelayMs = v) },
  { row: { name: 'retry', value: 'MS', help: `resend unacknowledged elements to a peer at most every MS (default ${d.retryMs})` }, integer: true, min: 1, set: (c, v) => void (c.retryMs = v) },
  { row: { name: 'suspect', value: 'MS', help: `a peer that has got none of our data sent MS ago is cut off (default ${d.suspectMs})` }, integer: true, min: 1, set: (c, v) => void (c.suspectMs = v) },
  { row: { name: 'probe', value: 'MS', help: `try a cut link every MS: the hub in its rounds, a leaf in between (default ${d.probeMs})` }, integer: true, min: 1, set: (c, v) => void (c.probeMs = v) },
  { row: { name: 'batch', value: 'N', help: `at most N elements in one message (default ${d.maxBatchElements})` }, integer: true, min: 1, set: (c, v) => void (c.maxBatchElements = v) },
  { row: { name: 'max-elements', value: 'N', help: `take at most N elements from clients, then error 11 (default ${d.maxElements})` }, integer: true, min: 1, set: (c, v) => void (c.maxElements = v) },
];

const FLAGS: readonly FlagRow[] = [...NUMERIC.map((flag) => flag.row), { name: 'help', short: 'h', help: 'print this and exit' }];

export const usage = `usage: g-set [options]
A Maelstrom g-set node: a grow-only set of integers. Acknowledges an add once the element is in
the node's memory; nodes pass on only what a peer has not acknowledged, leaves through the hub
(the first node) once per round, directly to each other when the hub is cut off.

${flagHelp(FLAGS, 22)}
`;

export function parseArgs(argv: readonly string[]): ArgsResult<GsetConfig> {
  const flags = nodeFlags(argv, FLAGS);
  if (flags.kind !== 'tokens') return flags;
  const { tokens } = flags;
  const config: GsetConfig = { ...defaultGsetConfig };
  const bad = applyNumericFlags(tokens, NUMERIC, config);
  if (bad !== undefined) return { kind: 'error', message: bad.error };
  return { kind: 'options', options: config };
}
