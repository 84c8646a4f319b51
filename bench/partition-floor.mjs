// Reads a g-set run's history.jsonl for two things bench/counters.mjs prints beside its figures:
// the partition schedule the nemesis played (the same for every binary run with the same --seed),
// and the floor of stable latency that schedule imposes on any node (docs/counters.md §4).
//
// The floor: an element added on node X can be on node Y no earlier than the first moment a chain
// of links X -> ... -> Y is open, links opening and closing with the grudges in the history and
// messages taking no time (glomers' default latency is 0). A read on Y that completed before then
// cannot have shown the element, so the set-full checker's stable latency for that element is at
// least that read's invocation minus the add's completion. The floor of a run is that bound,
// element by element, through the checker's quantile rule: what an ideal node that sends every
// element to every reachable node at once, and learns of a heal the instant it happens, would get.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The ops of a run's history.jsonl. */
export function readHistory(storeDir) {
  return readFileSync(path.join(storeDir, 'latest', 'history.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

/** [{startNs, endNs, grudge}]: each partition the nemesis started, until the heal after it (Infinity if none). */
export function partitions(history) {
  const spans = [];
  for (const op of history) {
    if (op.process !== 'nemesis') continue;
    if (op.f === 'start-partition' && Array.isArray(op.value)) {
      const open = spans.at(-1);
      if (open !== undefined && open.endNs === Infinity) open.endNs = op.time;
      spans.push({ startNs: op.time, endNs: Infinity, grudge: op.value[1] });
    } else if (op.f === 'stop-partition' && op.value === 'network-healed') {
      const open = spans.at(-1);
      if (open !== undefined && open.endNs === Infinity) open.endNs = op.time;
    }
  }
  return spans;
}

/** "n0|n1,n2" for complete cuts, else the one-way cuts "n1>n0" (n0 drops n1); "none" for an empty grudge. */
export function describeGrudge(grudge) {
  const cuts = [];
  for (const [receiver, senders] of Object.entries(grudge)) for (const sender of senders) cuts.push([sender, receiver]);
  if (cuts.length === 0) return 'nothing cut';
  const nodes = Object.keys(grudge).sort();
  const blocked = new Set(cuts.map(([from, to]) => `${from}>${to}`));
  const open = (a, b) => !blocked.has(`${a}>${b}`) && !blocked.has(`${b}>${a}`);
  // Complete cuts: the components of the open links, with every link between components cut both ways.
  const components = [];
  for (const node of nodes) {
    const home = components.find((c) => c.some((other) => open(node, other)));
    if (home) home.push(node);
    else components.push([node]);
  }
  const cutBothWays = (a, b) => blocked.has(`${a}>${b}`) && blocked.has(`${b}>${a}`);
  const complete = components.every((c) => c.every((a) => nodes.every((b) => a === b || (c.includes(b) ? open(a, b) : cutBothWays(a, b)))));
  if (complete) return components.map((c) => c.join(',')).join('|');
  return cuts.map(([from, to]) => `${from}>${to}`).sort().join(' ');
}

/** "2.8–19.8 s n1|n0,n2; ..." with times in seconds from the start of the run. */
export function describeSchedule(history) {
  const spans = partitions(history);
  if (spans.length === 0) return 'no partition';
  const s = (ns) => (ns === Infinity ? 'end' : (ns / 1e9).toFixed(1));
  return spans.map(({ startNs, endNs, grudge }) => `${s(startNs)}–${s(endNs)} s ${describeGrudge(grudge)}`).join('; ');
}

/** The node a client process talks to: thread = process mod concurrency, node = thread mod node count. */
function nodeOf(process, nodes, concurrency) {
  return nodes[(process % concurrency) % nodes.length];
}

/** When each node could first hold an element that `origin` held at `atNs`, given the partitions. */
export function earliestArrival(spans, nodes, origin, atNs) {
  const arrival = new Map(nodes.map((node) => [node, Infinity]));
  arrival.set(origin, atNs);
  const spread = (fromNs, blocks) => {
    for (let grew = true; grew; ) {
      grew = false;
      for (const sender of nodes) {
        if (arrival.get(sender) > fromNs) continue;
        for (const receiver of nodes) {
          if (arrival.get(receiver) <= fromNs || blocks(receiver, sender)) continue;
          arrival.set(receiver, fromNs);
          grew = true;
        }
      }
    }
  };
  // Walk the open stretches between and within partitions from atNs on.
  const moments = [atNs, ...spans.flatMap(({ startNs, endNs }) => [startNs, endNs])].filter((t) => t >= atNs && t !== Infinity).sort((a, b) => a - b);
  for (const t of moments) {
    const active = spans.find(({ startNs, endNs }) => startNs <= t && t < endNs);
    spread(t, (receiver, sender) => active?.grudge[receiver]?.includes(sender) === true);
  }
  return arrival;
}

/** Jepsen's quantile rule (as the set-full checker): sorted[min(n-1, floor(n·p))]. */
function quantile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** {p50, max} in ms of the per-element floor of stable latency in one run (see the top). */
export function stableFloor(history, { nodes, concurrency }) {
  const spans = partitions(history);
  const invokes = new Map();
  const adds = [];
  const reads = [];
  for (const op of history) {
    if (typeof op.process !== 'number') continue;
    if (op.type === 'invoke') invokes.set(op.process, op);
    if (op.type !== 'ok') continue;
    const invoke = invokes.get(op.process);
    const node = nodeOf(op.process, nodes, concurrency);
    if (op.f === 'add') adds.push({ node, invokeNs: invoke.time, okNs: op.time, index: invoke.index });
    if (op.f === 'read') reads.push({ node, invokeNs: invoke.time, okNs: op.time, index: op.index });
  }
  const floors = adds.map((add) => {
    const arrival = earliestArrival(spans, nodes, add.node, add.invokeNs);
    let lastBlindNs = -Infinity;
    for (const read of reads) {
      if (read.index > add.index && read.okNs < arrival.get(read.node)) lastBlindNs = Math.max(lastBlindNs, read.invokeNs);
    }
    return Math.max(0, Math.floor((lastBlindNs - add.okNs) / 1e6));
  });
  floors.sort((a, b) => a - b);
  return floors.length === 0 ? { p50: NaN, max: NaN } : { p50: quantile(floors, 0.5), max: quantile(floors, 1) };
}
