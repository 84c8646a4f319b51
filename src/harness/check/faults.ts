// What the nemesis did, node by node, read back from its operations in the history: when each
// partition held and who was cut off from the majority, which nodes were down or paused and for
// how long. One reading of the nemesis ops, shared by results.json, the summary and the report.

import type { Json, Op, TestOptions } from '../types.js';

export type FaultKind = 'partition' | 'kill' | 'pause';

/** One fault while it held: ns since the start; `nodes` are the nodes it hit (for a partition: those cut off from a majority). */
export type FaultSpan = {
  kind: FaultKind;
  fromNs: number;
  toNs: number;
  nodes: string[];
  /** a partition's shape (majority, one, ...) */
  shape?: string;
  /** a partition's grudge: node -> the nodes it cannot hear from */
  grudge?: { [node: string]: string[] };
  /**
   * a partition whose grudge drops nothing: Jepsen's shapes can come out empty (minority-third
   * on 3 or 4 nodes splits off ⌊(n−1)/3⌋ = 0), and such a span is no fault to shade or blame
   */
  cutsNothing?: true;
};

/** results.json glomers.nemesis: counts (kept from before) and durations in seconds. */
export type NemesisSummary = {
  partitions: number;
  kills: number;
  'nodes-killed': number;
  pauses: number;
  'nodes-paused': number;
  restarts: number;
  /** seconds during which some partition held */
  'partitioned-s': number;
  /** how many partitions of each shape took effect */
  'partition-shapes': { [shape: string]: number };
  /** how many of those partitions dropped no message at all (an empty grudge) */
  'partitions-cutting-nothing': number;
  /** per node: seconds cut off from a majority of the cluster */
  'isolated-s': { [node: string]: number };
  /** per node: seconds killed */
  'down-s': { [node: string]: number };
  /** per node: seconds paused */
  'paused-s': { [node: string]: number };
};

function asMap(value: Json | undefined): { [key: string]: Json } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function grudgeOf(outcome: Json | undefined): { [node: string]: string[] } | undefined {
  if (!Array.isArray(outcome) || outcome[0] !== 'isolated') return undefined;
  const grudge: { [node: string]: string[] } = {};
  for (const [node, cut] of Object.entries(asMap(outcome[1]))) {
    grudge[node] = Array.isArray(cut) ? cut.filter((peer): peer is string => typeof peer === 'string') : [];
  }
  return grudge;
}

/** Nodes that cannot hear from a majority of the cluster under this grudge. */
export function isolatedNodes(grudge: { [node: string]: string[] }, clusterSize: number): string[] {
  const majority = Math.floor(clusterSize / 2) + 1;
  return Object.entries(grudge)
    .filter(([, cut]) => clusterSize - cut.length < majority)
    .map(([node]) => node)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Nemesis ops as (invocation, completion) pairs: the nemesis runs one operation at a time. */
function nemesisPairs(history: readonly Op[]): Array<{ invoke: Op; outcome: Json | undefined }> {
  const ops = history.filter((op) => op.process === 'nemesis');
  const pairs: Array<{ invoke: Op; outcome: Json | undefined }> = [];
  for (let k = 0; k + 1 < ops.length; k += 2) pairs.push({ invoke: ops[k] as Op, outcome: (ops[k + 1] as Op).value });
  return pairs;
}

const OPENS: Record<string, { kind: FaultKind; hit: string }> = { kill: { kind: 'kill', hit: 'killed' }, pause: { kind: 'pause', hit: 'paused' } };
const CLOSES: Record<string, { kind: FaultKind; hit: string }> = { start: { kind: 'kill', hit: 'started' }, resume: { kind: 'pause', hit: 'resumed' } };

/**
 * Every fault span: a partition from its start-partition to the next stop-partition; a kill or
 * pause per node, from the operation that hit it to the one that brought it back. Spans still
 * open at the end close at endNs. A partition that cut no link is no fault to shade or blame: it
 * is left out unless `emptyPartitions` asks for it (the summary counts it).
 */
export function faultSpans(history: readonly Op[], endNs: number, clusterSize: number, { emptyPartitions = false } = {}): FaultSpan[] {
  const spans: FaultSpan[] = [];
  let partition: FaultSpan | undefined;
  const down = new Map<string, FaultSpan>();
  for (const { invoke, outcome } of nemesisPairs(history)) {
    const at = invoke.time;
    if (invoke.f === 'start-partition') {
      const grudge = grudgeOf(outcome);
      if (grudge === undefined) continue;
      if (partition !== undefined) spans.push({ ...partition, toNs: at });
      partition = { kind: 'partition', fromNs: at, toNs: endNs, nodes: isolatedNodes(grudge, clusterSize), grudge };
      if (typeof invoke.value === 'string') partition.shape = invoke.value;
      if (Object.values(grudge).every((cut) => cut.length === 0)) partition.cutsNothing = true;
    } else if (invoke.f === 'stop-partition' && partition !== undefined) {
      spans.push({ ...partition, toNs: at });
      partition = undefined;
    }
    const opens = OPENS[invoke.f];
    const closes = CLOSES[invoke.f];
    for (const [node, what] of Object.entries(asMap(outcome))) {
      // a killed process is no longer paused: its pause ends with it
      const paused = down.get(`pause ${node}`);
      if (what === 'killed' && paused !== undefined) {
        spans.push({ ...paused, toNs: at });
        down.delete(`pause ${node}`);
      }
      if (opens !== undefined && what === opens.hit && !down.has(`${opens.kind} ${node}`)) {
        down.set(`${opens.kind} ${node}`, { kind: opens.kind, fromNs: at, toNs: endNs, nodes: [node] });
      }
      const open = closes === undefined ? undefined : down.get(`${closes.kind} ${node}`);
      if (closes !== undefined && open !== undefined && what === closes.hit) {
        spans.push({ ...open, toNs: at });
        down.delete(`${closes.kind} ${node}`);
      }
    }
  }
  if (partition !== undefined) spans.push(partition);
  spans.push(...down.values());
  const kept = emptyPartitions ? spans : spans.filter((span) => span.cutsNothing !== true);
  return kept.sort((a, b) => a.fromNs - b.fromNs || a.kind.localeCompare(b.kind));
}

/** Counts of nemesis operations that took effect: partitions started, kills and pauses that hit a node. */
export function nemesisCounts(history: readonly Op[]): Pick<NemesisSummary, 'partitions' | 'kills' | 'nodes-killed' | 'pauses' | 'nodes-paused' | 'restarts'> {
  const counts = { partitions: 0, kills: 0, 'nodes-killed': 0, pauses: 0, 'nodes-paused': 0, restarts: 0 };
  for (const op of history) {
    // Completions carry the outcome; invocations carry the plan.
    if (op.process !== 'nemesis' || op.value === null || typeof op.value !== 'object') continue;
    if (op.f === 'start-partition' && Array.isArray(op.value)) counts.partitions++;
    if (Array.isArray(op.value)) continue;
    const outcomes = Object.values(op.value);
    const hits = (what: string): number => outcomes.filter((outcome) => outcome === what).length;
    if (op.f === 'kill' && hits('killed') > 0) {
      counts.kills++;
      counts['nodes-killed'] += hits('killed');
    }
    if (op.f === 'pause' && hits('paused') > 0) {
      counts.pauses++;
      counts['nodes-paused'] += hits('paused');
    }
    if (op.f === 'start') counts.restarts += hits('started');
  }
  return counts;
}

function roundS(ns: number): number {
  return Math.round(ns / 1e6) / 1e3;
}

function addSeconds(into: { [node: string]: number }, node: string, ns: number): void {
  into[node] = roundS((into[node] ?? 0) * 1e9 + ns);
}

/** The nemesis section of results.json: what the faults were and how long each node suffered them. */
export function nemesisSummary(history: readonly Op[], opts: Pick<TestOptions, 'nodes'>): NemesisSummary {
  const endNs = history.reduce((last, op) => Math.max(last, op.time), 0);
  const summary: NemesisSummary = {
    ...nemesisCounts(history),
    'partitioned-s': 0,
    'partition-shapes': {},
    'partitions-cutting-nothing': 0,
    'isolated-s': {},
    'down-s': {},
    'paused-s': {},
  };
  let partitionedNs = 0;
  for (const span of faultSpans(history, endNs, opts.nodes.length, { emptyPartitions: true })) {
    const lengthNs = span.toNs - span.fromNs;
    const perNode = span.kind === 'partition' ? summary['isolated-s'] : span.kind === 'kill' ? summary['down-s'] : summary['paused-s'];
    for (const node of span.nodes) addSeconds(perNode, node, lengthNs);
    if (span.kind !== 'partition') continue;
    partitionedNs += lengthNs;
    const shape = span.shape ?? 'unknown';
    summary['partition-shapes'][shape] = (summary['partition-shapes'][shape] ?? 0) + 1;
    if (span.cutsNothing === true) summary['partitions-cutting-nothing'] += 1;
  }
  summary['partitioned-s'] = roundS(partitionedNs);
  return summary;
}

/** The partition holding at timeNs, if any. */
export function partitionAt(spans: readonly FaultSpan[], timeNs: number): FaultSpan | undefined {
  return spans.find((span) => span.kind === 'partition' && span.fromNs <= timeNs && timeNs < span.toNs);
}

/** The shapes the partitions took, e.g. `minority-third ×2, one ×1; 2 cut no link`. */
export function partitionShapesText(summary: NemesisSummary): string {
  const shapes = Object.entries(summary['partition-shapes']).map(([shape, count]) => `${shape} ×${count}`).join(', ');
  // results.json files written before this field count as none
  const none = summary['partitions-cutting-nothing'] ?? 0;
  return none === 0 || shapes === '' ? shapes : `${shapes}; ${none} cut no link`;
}

/** A partition in words: its shape and its sides, e.g. `partition "majority" (n0 n1 | n2 n3 n4)`. */
export function describePartition(span: FaultSpan): string {
  const sides = new Map<string, string[]>();
  for (const [node, cut] of Object.entries(span.grudge ?? {})) {
    const key = [...cut].sort().join(' ');
    sides.set(key, [...(sides.get(key) ?? []), node]);
  }
  const groups = [...sides.values()].map((nodes) => nodes.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(' '));
  const shape = span.shape === undefined ? 'partition' : `partition "${span.shape}"`;
  return groups.length > 1 && groups.length <= 3 ? `${shape} (${groups.join(' | ')})` : shape;
}
