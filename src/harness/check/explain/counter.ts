// Why a counter verdict (g-counter, pn-counter) is what it is: the acceptable sums against each
// node's final read, and for a read outside them, the acknowledged adds that make up the gap.

import type { Op, TestOptions } from '../../types.js';
import type { WorkloadVerdict } from '../../workload.js';
import { acceptableSet, checkCounter, type Interval } from '../checkers/counter.js';
import { explainSafely, explanation, listText, nodeOfProcess, secondsText, type Explanation, type Fact, type Plot } from '../explain.js';
import { describePartition, faultSpans, partitionAt } from '../faults.js';

type Opts = Pick<TestOptions, 'nodes' | 'concurrency'>;

function intervalsText(intervals: readonly Interval[]): string {
  return intervals.map(([lo, hi]) => (lo === hi ? `${lo}` : `[${lo}, ${hi}]`)).join(', ');
}

/**
 * Acknowledged adds whose deltas add up to `gap` (or as near as the run allows): adds taken by
 * other nodes first, latest first (they are the ones that had to reach the reader), then its own.
 */
function addsMakingUp(gap: number, adds: readonly Op[], readerNode: string, opts: Opts): Op[] {
  const latestFirst = [...adds].reverse();
  const candidates = [...latestFirst.filter((add) => nodeOfProcess(add.process, opts) !== readerNode), ...latestFirst.filter((add) => nodeOfProcess(add.process, opts) === readerNode)];
  const chosen: Op[] = [];
  let sum = 0;
  for (const add of candidates) {
    const delta = add.value as number;
    if (Math.sign(delta) !== Math.sign(gap) || Math.abs(sum + delta) > Math.abs(gap)) continue;
    chosen.push(add);
    sum += delta;
    if (sum === gap) break;
  }
  return chosen;
}

function gapFact(read: Op, acceptable: readonly Interval[], adds: readonly Op[], opts: Opts, history: readonly Op[]): Fact {
  const node = nodeOfProcess(read.process, opts);
  const value = read.value as number;
  const lo = acceptable[0]?.[0] ?? 0;
  const hi = acceptable[acceptable.length - 1]?.[1] ?? 0;
  const where = `Final read on ${node} (process ${String(read.process)}) at ${secondsText(read.time)} returned ${value}`;
  if (value >= lo && value <= hi) return { text: `${where}, between the acceptable sums ${intervalsText(acceptable)} but in none of them.`, atNs: read.time, nodes: [node] };
  const gap = value < lo ? lo - value : value - hi;
  const makeUp = addsMakingUp(gap, adds, node, opts);
  const endNs = history.reduce((last, op) => Math.max(last, op.time), 0);
  const spans = faultSpans(history, endNs, opts.nodes.length);
  const addWords = makeUp.map((add) => {
    const partition = partitionAt(spans, add.time);
    return `${String(add.value)} via ${nodeOfProcess(add.process, opts)} at ${secondsText(add.time)}${partition === undefined ? '' : `, during ${describePartition(partition)}`}`;
  });
  const direction = value < lo ? `${lo - value} short of the least acceptable sum ${lo}` : `${value - hi} over the greatest acceptable sum ${hi}`;
  return {
    text: `${where}: ${direction}. ${value < lo ? 'Acknowledged adds it may be missing' : 'Adds it may have counted twice'} (other nodes' first, latest first): ${listText(addWords, 6)}.`,
    atNs: read.time,
    nodes: [node, ...new Set(makeUp.map((add) => nodeOfProcess(add.process, opts)))],
  };
}

function valuePlot(history: readonly Op[], finals: readonly Op[]): Plot {
  const sum: Array<[number, number]> = [[0, 0]];
  const reads: Array<[number, number]> = [];
  let total = 0;
  for (const op of history) {
    if (op.process === 'nemesis' || op.type !== 'ok' || typeof op.value !== 'number') continue;
    if (op.f === 'add') sum.push([op.time / 1e9, (total += op.value)]);
    else if (op.f === 'read' && op['final?'] !== true) reads.push([op.time / 1e9, op.value]);
  }
  return {
    id: 'counter-value',
    title: 'Counter value over time',
    yLabel: 'Value',
    series: [
      { label: 'acknowledged sum', points: sum, colour: '#16a34a', style: 'steps' },
      { label: 'read', points: reads, colour: '#2563eb', style: 'dots' },
      { label: 'final read', points: finals.map((op): [number, number] => [op.time / 1e9, op.value as number]), colour: '#dc2626', style: 'dots' },
    ],
    caption: 'Reads (blue) trail the sum of acknowledged adds (green) while adds spread; every final read (red) must land on an acceptable sum.',
  };
}

/** The counter check and its explanation, as a workload verdict. */
export function counterVerdict(history: readonly Op[], opts: Opts): WorkloadVerdict {
  const workload = checkCounter(history);
  if (workload['valid?'] === 'unknown') return { workload };
  return { workload, explanation: explainSafely(() => explainCounter(history, opts)) };
}

function explainCounter(history: readonly Op[], opts: Opts): Explanation {
  const acceptable = acceptableSet(history);
  const finals = history.filter((op) => op.type === 'ok' && op['final?'] === true && typeof op.value === 'number');
  const adds = history.filter((op) => op.f === 'add' && op.type === 'ok' && typeof op.value === 'number');
  const unknownAdds = history.filter((op) => op.f === 'add' && op.type === 'info').length;
  const wrong = finals.filter((read) => !acceptable.some(([lo, hi]) => (read.value as number) >= lo && (read.value as number) <= hi));
  const facts = wrong.map((read) => gapFact(read, acceptable, adds, opts, history));
  const basis = `${adds.length} acknowledged adds${unknownAdds > 0 ? ` and ${unknownAdds} of unknown outcome` : ''} allow ${intervalsText(acceptable)}`;
  const headline =
    finals.length === 0
      ? `No final read completed, so nothing was checked (${basis}).`
      : wrong.length === 0
        ? `All ${finals.length} final reads (${listText([...new Set(finals.map((op) => String(op.value)))])}) are acceptable: ${basis}.`
        : `${wrong.length} of ${finals.length} final reads are not an acceptable sum: ${basis}; ${listText(wrong.map((op) => `${nodeOfProcess(op.process, opts)} read ${String(op.value)}`))}.`;
  return explanation(headline, facts, [valuePlot(history, finals)]);
}
