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
import { checkSetFull } from '../checkers/set-full.js';
import { DEFAULT_RPC_TIMEOUT_MS, errorCompletion, listValue, validateReply } from './rpc.js';

export type Topology = Record<string, string[]>;

/**
 * A roughly square grid, side ceil(sqrt(n)), node i at row floor(i/side), column i mod side.
 * Neighbours in the order below, above, right, left, skipping cells outside the grid or past the
 * last node.
 */
export function gridTopology(nodes: readonly string[]): Topology {
  const n = nodes.length;
  const side = Math.ceil(Math.sqrt(n));
  const at = (row: number, col: number): string | undefined => {
    if (row < 0 || col < 0 || col >= side) return undefined;
    const index = row * side + col;
    return index < n ? nodes[index] : undefined;
  };
  const topology: Topology = {};
  nodes.forEach((node, i) => {
    const row = Math.floor(i / side);
    const col = i % side;
    topology[node] = [at(row + 1, col), at(row - 1, col), at(row, col + 1), at(row, col - 1)].filter(
      (x): x is string => x !== undefined,
    );
  });
  return topology;
}

/** A chain: each node's left then right neighbour. Fewer than two nodes give an empty map. */
export function lineTopology(nodes: readonly string[]): Topology {
  const n = nodes.length;
  const topology: Topology = {};
  if (n < 2) return topology;
  nodes.forEach((node, i) => {
    if (i === 0) topology[node] = [nodes[1] as string];
    else if (i === n - 1) topology[node] = [nodes[n - 2] as string];
    else topology[node] = [nodes[i - 1] as string, nodes[i + 1] as string];
  });
  return topology;
}

/** Everyone neighbours everyone else, in node-list order. */
export function totalTopology(nodes: readonly string[]): Topology {
  const topology: Topology = {};
  for (const node of nodes) topology[node] = nodes.filter((other) => other !== node);
  return topology;
}

/**
 * A tree with branching factor `branching` in heap layout: node i's parent is
 * floor((i-1)/branching), its children branching*i+1 .. branching*i+branching. Neighbours are
 * the parent (if any) then the children in order.
 */
export function treeTopology(branching: number, nodes: readonly string[]): Topology {
  const n = nodes.length;
  const topology: Topology = {};
  nodes.forEach((node, i) => {
    const neighbours: string[] = [];
    if (i > 0) neighbours.push(nodes[Math.floor((i - 1) / branching)] as string);
    for (let child = branching * i + 1; child <= branching * i + branching && child < n; child++) {
      neighbours.push(nodes[child] as string);
    }
    topology[node] = neighbours;
  });
  return topology;
}

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
