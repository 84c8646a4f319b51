// The Elle part of the kafka checker (docs/checkers.md §2.4): a graph over send/poll completions
// with wr edges (writer → every other reader of its message) and realtime edges, checked as
// strict-serializable. With only wr and realtime edges the possible findings are one
// strong-PL-2-cycle-exists and one G1c-realtime cycle per strongly connected component, or
// empty-transaction-graph when there is no edge at all.

import type { Json, Op } from '../../../types.js';
import { jsonEqual, opRecord } from '../json-values.js';
import type { KafkaCase } from './cases.js';
import { KafkaAnalysisError } from './cases.js';
import {
  addRealtimeEdges,
  EDGE_REALTIME,
  EDGE_WR,
  EdgeGraph,
  fallbackCycle,
  shortestCycleThrough,
  stronglyConnectedComponents,
  type DeadlineTicker,
} from './cycles.js';
import { valueOf, type ClientHistory, type KafkaOp } from './ops.js';
import type { Derived } from './version-orders.js';

/** Elle's per-SCC limit on the typed cycle search. */
export const CYCLE_SEARCH_TIMEOUT_MS = 1000;

export interface ElleFindings {
  /** anomaly type → entries (cycle entries are cases so the report can show them) */
  anomalies: Map<string, KafkaCase[] | true>;
}

const ANALYSED_F = new Set(['send', 'poll', 'txn']);

function buildGraph(client: ClientHistory, derived: Derived, ticker: DeadlineTicker): EdgeGraph {
  const graph = new EdgeGraph(client.ops.length);
  for (const [key, byValue] of derived.readersOf) {
    for (const [vk, readers] of byValue) {
      ticker.tick();
      const writer = derived.writerOf.get(key)?.get(vk);
      if (!writer) throw new KafkaAnalysisError(`no writer of value ${JSON.stringify(valueOf(vk))} in key ${key}`);
      for (const reader of readers) if (reader !== writer) graph.addEdge(writer.position, reader.position, EDGE_WR);
    }
  }
  const analysed = client.ops.filter((kop) => ANALYSED_F.has(kop.op.f));
  const analysedPosition = new Int32Array(client.ops.length).fill(-1);
  analysed.forEach((kop, i) => (analysedPosition[kop.position] = i));
  addRealtimeEdges(
    graph,
    analysed.map((kop) => kop.op),
    (i) => analysed[i]!.position,
    (i) => {
      const completion = client.completionOf[analysed[i]!.position]!;
      return completion < 0 ? -1 : analysedPosition[completion]!;
    },
    ticker,
  );
  graph.freeze();
  return graph;
}

/** Index of the mop that sent (key, value), as Elle's mop-index. */
function sendMopIndex(op: Op, key: string, value: Json): number | null {
  if (!Array.isArray(op.value)) return null;
  const index = op.value.findIndex(
    (mop) => Array.isArray(mop) && mop[0] === 'send' && mop[1] === key && jsonEqual(Array.isArray(mop[2]) ? mop[2][1] : mop[2], value),
  );
  return index < 0 ? null : index;
}

function pollMopIndex(op: Op, key: string, value: Json): number | null {
  if (!Array.isArray(op.value)) return null;
  const index = op.value.findIndex((mop) => {
    if (!Array.isArray(mop) || mop[0] !== 'poll') return false;
    const polled = mop[1];
    if (typeof polled !== 'object' || polled === null || Array.isArray(polled)) return false;
    const pairs = polled[key];
    return Array.isArray(pairs) && pairs.some((pair) => Array.isArray(pair) && jsonEqual(pair[1], value));
  });
  return index < 0 ? null : index;
}

interface Step {
  kind: 'wr' | 'realtime';
  json: { [key: string]: Json };
}

function explainStep(graph: EdgeGraph, client: ClientHistory, derived: Derived, a: KafkaOp, b: KafkaOp): Step {
  const bits = graph.kindsBetween(a.position, b.position);
  if (bits & EDGE_WR && b.reads) {
    for (const [key, pairs] of b.reads) {
      for (const pair of pairs) {
        if (derived.writerOf.get(key)?.get(pair.vk) !== a) continue;
        return {
          kind: 'wr',
          json: {
            type: 'wr',
            key,
            value: pair.value,
            'a-mop-index': sendMopIndex(a.op, key, pair.value),
            'b-mop-index': pollMopIndex(b.op, key, pair.value),
          },
        };
      }
    }
  }
  const invocation = client.invocationOf[b.position]!;
  return {
    kind: 'realtime',
    json: { type: 'realtime', "a'": opRecord(a.op), b: invocation >= 0 ? opRecord(client.ops[invocation]!.op) : null },
  };
}

function cycleCase(graph: EdgeGraph, client: ClientHistory, derived: Derived, cycle: readonly number[]): [string, KafkaCase] {
  const ops = cycle.map((position) => client.ops[position]!);
  const steps: Step[] = [];
  for (let i = 0; i + 1 < ops.length; i++) steps.push(explainStep(graph, client, derived, ops[i]!, ops[i + 1]!));
  const wr = steps.filter((step) => step.kind === 'wr').length;
  const realtime = steps.length - wr;
  const type = `${wr > 0 ? 'G1c' : 'G0'}${realtime > 0 ? '-realtime' : ''}`;
  const firstWr = steps.find((step) => step.kind === 'wr');
  const key = firstWr ? String(firstWr.json.key) : '';
  return [
    type,
    {
      key,
      sortBy: steps.length,
      offsets: [],
      opIndices: ops.slice(0, -1).map((kop) => kop.op.index),
      render: () => ({ cycle: ops.map((kop) => opRecord(kop.op)), steps: steps.map((step) => step.json), type }),
      describe: () =>
        `A cycle of ${steps.length} steps: ` +
        steps
          .map((step, i) =>
            step.kind === 'wr'
              ? `op ${ops[i]!.op.index} sent ${JSON.stringify(step.json.value)} to key ${String(step.json.key)}, which op ${ops[i + 1]!.op.index} polled`
              : `op ${ops[i]!.op.index} completed before op ${ops[i + 1]!.op.index} was invoked`,
          )
          .join('; ') +
        '. A poll saw a message whose send had not yet begun.',
    },
  ];
}

function plainCase(entry: { [key: string]: Json }, opIndices: number[], text: string): KafkaCase {
  return { key: '', sortBy: 0, offsets: [], opIndices, render: () => entry, describe: () => text };
}

export function elleFindings(
  client: ClientHistory,
  derived: Derived,
  ticker: DeadlineTicker,
  cycleSearchTimeoutMs: number = CYCLE_SEARCH_TIMEOUT_MS,
): ElleFindings {
  const anomalies = new Map<string, KafkaCase[] | true>();
  const add = (type: string, entry: KafkaCase): void => {
    const list = anomalies.get(type);
    if (Array.isArray(list)) list.push(entry);
    else anomalies.set(type, [entry]);
  };
  const graph = buildGraph(client, derived, ticker);
  if (!graph.hasVertexWithEdges()) anomalies.set('empty-transaction-graph', true);
  for (const component of stronglyConnectedComponents(graph, ticker)) {
    const indices = component.map((position) => client.ops[position]!.op.index).sort((a, b) => a - b);
    add(
      'strong-PL-2-cycle-exists',
      plainCase(
        {
          type: 'strong-PL-2-cycle-exists',
          not: 'strong-read-committed',
          subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'realtime'],
          'scc-size': component.length,
          scc: indices,
        },
        indices,
        `Ops ${indices.join(', ')} form a cycle of write-read and real-time order.`,
      ),
    );
    const outcome = shortestCycleThrough(graph, component, component[0]!, Date.now() + cycleSearchTimeoutMs);
    if ('cycle' in outcome) {
      const [type, entry] = cycleCase(graph, client, derived, outcome.cycle);
      add(type, entry);
    } else {
      add(
        'cycle-search-timeout',
        plainCase(
          { type: 'cycle-search-timeout', 'anomaly-spec-type': 'G1c-realtime', 'does-not-contain': [], 'scc-size': component.length },
          [],
          `The cycle search gave up on a component of ${component.length} ops after ${cycleSearchTimeoutMs} ms.`,
        ),
      );
      const [type, entry] = cycleCase(graph, client, derived, fallbackCycle(graph, component));
      add(type, entry);
    }
  }
  return { anomalies };
}

export { EDGE_REALTIME };
