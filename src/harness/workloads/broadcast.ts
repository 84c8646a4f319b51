// The broadcast workload: clients broadcast the integers 0, 1, 2, ... and read back what a node
// has seen. Checked by set-full with broadcast counted as add; every element acknowledged must
// end up in the last reads. Before load, each node gets the neighbour map of `--topology`.

import type { CheckResult, Op, TestOptions } from '../types.js';
import type { SetupRequest, Workload } from '../workload.js';
import { counting, eachThread, mix, once, repeat } from '../run/generator.js';
import { choiceOption, optionValue } from '../cli/options.js';
import { gridTopology, lineTopology, totalTopology, treeTopology, type Topology } from '../../lib/topology.js';
import { checkSetFull } from '../check/checkers/set-full.js';
import { setFullVerdict } from '../check/explain/set-full.js';
import { singleRpcClient, validateReply } from './rpc.js';
import { S } from './reply-schema.js';

export type { Topology };

const TOPOLOGY_BUILDERS: Readonly<Record<string, (nodes: readonly string[]) => Topology>> = {
  grid: gridTopology,
  line: lineTopology,
  total: totalTopology,
  tree: (nodes) => treeTopology(2, nodes),
  tree2: (nodes) => treeTopology(2, nodes),
  tree3: (nodes) => treeTopology(3, nodes),
  tree4: (nodes) => treeTopology(4, nodes),
};

/** The names `--topology` accepts. */
export const TOPOLOGY_NAMES: readonly string[] = Object.keys(TOPOLOGY_BUILDERS);

/** The neighbour map Maelstrom sends for topology `name`; throws for an unknown name. */
export function buildTopology(name: string, nodes: readonly string[]): Topology {
  const builder = Object.hasOwn(TOPOLOGY_BUILDERS, name) ? TOPOLOGY_BUILDERS[name] : undefined;
  if (!builder) {
    throw new Error(`Unknown broadcast topology "${name}"; expected one of: ${TOPOLOGY_NAMES.join(', ')}`);
  }
  return builder(nodes);
}

/** Set-full over the history, with broadcast counted (and reported) as add. */
export function checkBroadcast(history: readonly Op[]): CheckResult {
  return checkSetFull(history, { addF: 'broadcast' });
}

/** Maelstrom's --topology: the neighbour map each node gets before load. */
export const topologyOption = choiceOption('topology', 'topology', 'broadcast topology', TOPOLOGY_NAMES, 'grid');

export const broadcastWorkload: Workload = {
  name: 'broadcast',
  options: [topologyOption],

  setup(opts: TestOptions): SetupRequest[] {
    const topology = buildTopology(String(optionValue(opts, topologyOption)), opts.nodes);
    return opts.nodes.map((node) => ({ dest: node, body: { type: 'topology', topology }, replyType: 'topology_ok' }));
  },

  // Maelstrom mixes an endless broadcast sequence with endless reads, choosing uniformly per op;
  // the sequence only advances when a broadcast is chosen.
  generator: () => mix([counting((n) => ({ f: 'broadcast', value: n })), repeat(() => ({ f: 'read', value: null }))]),
  finalGenerator: () => eachThread(() => once({ f: 'read', value: null, final: true })),

  openClient: singleRpcClient({
    request: (op) => (op.f === 'broadcast' ? { type: 'broadcast', message: op.value } : { type: 'read' }),
    reply(op, body) {
      if (op.f === 'broadcast') {
        validateReply({ type: 'broadcast', message: op.value }, body, 'broadcast_ok', {});
        return { type: 'ok', value: op.value };
      }
      validateReply({ type: 'read' }, body, 'read_ok', { messages: S.seq(S.any) });
      return { type: 'ok', value: body.messages ?? null };
    },
    // Reads are idempotent: any error or timeout means the read simply did not happen.
    idempotent: (op) => op.f === 'read',
  }),

  check: (history, ctx) => setFullVerdict(history, ctx.opts, { addF: 'broadcast' }, { verb: 'broadcast' }),
};
