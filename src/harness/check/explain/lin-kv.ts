// Why a lin-kv verdict is what it is: for each key that is not linearizable, the operation that
// cannot be placed, the node that served it, and the nodes behind the register's last values.

import type { Json, TestOptions } from '../../types.js';
import type { KeyResult } from '../checkers/linearizable.js';
import { byNodeName, explanation, listText, nodeOfProcess, valueText, type Explanation, type Fact } from '../explain.js';

type Opts = Pick<TestOptions, 'nodes' | 'concurrency'>;

/** Steps of the linearized prefix named in a fact (the last ones, nearest the failure). */
const PREFIX_NAMED = 3;

function keyFact(key: Json, result: KeyResult, opts: Opts): Fact {
  const x = result.explanation;
  if (x === undefined) return { text: `Key ${valueText(key)}: valid? ${String(result['valid?'])}${result.error === undefined ? '' : ` (${result.error})`}.` };
  const barOf = new Map(x.bars.map((bar) => [bar.id, bar]));
  const blocked = barOf.get(x['blocked-op']);
  const blockedNode = blocked === undefined ? '?' : nodeOfProcess(blocked.process, opts);
  const last = x['linearized-prefix'].slice(-PREFIX_NAMED).flatMap((step) => {
    const bar = barOf.get(step.id);
    return bar === undefined ? [] : [`${bar.f} ${valueText(bar.value, 20)} via ${nodeOfProcess(bar.process, opts)} (op ${bar.id}) leaving ${valueText(step['value-after'], 20)}`];
  });
  const prefixNodes = x['linearized-prefix'].slice(-PREFIX_NAMED).flatMap((step) => {
    const bar = barOf.get(step.id);
    return bar === undefined ? [] : [nodeOfProcess(bar.process, opts)];
  });
  return {
    text: `${x.summary.startsWith('key') ? x.summary : `Key ${valueText(key)}: ${x.summary}`}. ${blockedNode} served it${last.length > 0 ? `; the last steps of the order found were ${listText(last, PREFIX_NAMED)}` : ''}.`,
    ...(blocked === undefined ? {} : { atNs: blocked['invoke-ns'] }),
    nodes: [...new Set([blockedNode, ...prefixNodes])].sort(byNodeName),
  };
}

/** The lin-kv explanation from the per-key results. */
export function explainLinKv(perKey: ReadonlyArray<{ key: Json; result: KeyResult }>, opts: Opts): Explanation {
  const bad = perKey.filter(({ result }) => result['valid?'] === false);
  const unknown = perKey.filter(({ result }) => result['valid?'] === 'unknown');
  const facts = [...bad, ...unknown].map(({ key, result }) => keyFact(key, result, opts));
  const blockedNodes = new Set(facts.flatMap((fact) => fact.nodes ?? []));
  let headline: string;
  if (bad.length > 0) {
    headline = `${bad.length === 1 ? 'One key' : `${bad.length} keys`} of ${perKey.length} ${bad.length === 1 ? 'is' : 'are'} not linearizable (${listText(bad.map(({ key }) => `key ${valueText(key, 20)}`), 6)}): an operation saw a value no order of the operations before it could leave; nodes involved: ${listText([...blockedNodes].sort(byNodeName))}.`;
  } else if (unknown.length > 0) {
    headline = `${unknown.length} of ${perKey.length} keys could not be checked in time or at all; the others are linearizable.`;
  } else {
    headline = `All ${perKey.length} keys are linearizable.`;
  }
  return explanation(headline, facts);
}

