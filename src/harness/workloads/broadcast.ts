// The broadcast workload: clients broadcast the integers 0, 1, 2, ... and read back what a node
// has seen. Checked by set-full with broadcast counted as add; every element acknowledged must
// end up in the last reads. Before load, each node gets the neighbour map of `--topology`.

import type {
  Body,
  CheckResult,
  Completion,
  Generator,
  OpSpec,
  Op,
  Rng,
  SetupRequest,
  TestOptions,
  Workload,
} from '../types.js';
import { gridTopology, lineTopology, totalTopology, treeTopology, type Topology } from '../../lib/topology.js';
import { checkSetFull } from '../checkers/set-full.js';
import { DEFAULT_RPC_TIMEOUT_MS, errorCompletion, listValue, validateReply } from './rpc.js';

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

function broadcastRequest(op: OpSpec): Body {
  if (op.f === 'broadcast') return { type: 'broadcast', message: op.value };
  if (op.f === 'read') return { type: 'read' };
  throw new Error(`broadcast workload has no operation "${op.f}"`);
}

/** Set-full over the history, with broadcast counted (and reported) as add. */
export function checkBroadcast(history: readonly Op[]): CheckResult {
  return checkSetFull(history, { addF: 'broadcast' });
}

export const broadcastWorkload: Workload = {
  name: 'broadcast',
  hasFinalPhase: true,

  rpcTimeoutMs(): number {
    return DEFAULT_RPC_TIMEOUT_MS;
  },

  setup(opts: TestOptions): SetupRequest[] {
    const topology = buildTopology(opts.topology, opts.nodes);
    return opts.nodes.map((node) => ({
      dest: node,
      body: { type: 'topology', topology },
      replyType: 'topology_ok',
    }));
  },

  generator(_opts: TestOptions, rng: Rng): Generator {
    // Maelstrom mixes an endless broadcast sequence with endless reads, choosing uniformly per
    // op; the sequence only advances when a broadcast is chosen.
    let nextMessage = 0;
    return {
      next(): OpSpec {
        if (rng.int(2) === 0) return { f: 'broadcast', value: nextMessage++ };
        return { f: 'read', value: null };
      },
    };
  },

  finalOps(): OpSpec[] {
    return [{ f: 'read', value: null, final: true }];
  },

  request: broadcastRequest,

  onReply(op: OpSpec, body: Body): Completion {
    if (op.f === 'broadcast') {
      validateReply(broadcastRequest(op), body, 'broadcast_ok', {});
      return { type: 'ok', value: op.value };
    }
    validateReply(broadcastRequest(op), body, 'read_ok', { messages: listValue });
    return { type: 'ok', value: body.messages ?? null };
  },

  onError(op: OpSpec, code: number, text: string | undefined): Completion {
    // Reads are idempotent: any error or timeout means the read simply did not happen.
    return errorCompletion(op, code, text, op.f === 'read');
  },

  check(history: Op[]): CheckResult {
    return checkBroadcast(history);
  },
};
