// Why a kafka verdict is what it is: the error types that break the log's contract (and the ones
// Maelstrom allows), each error in words with the nodes and times of its operations, and the
// worst realtime lag as results.json gives it.

import type { CheckResult, Op, TestOptions } from '../../types.js';
import type { KafkaReportData } from '../checkers/kafka.js';
import { byNodeName, explanation, FACT_LIMIT, listText, nodeOfProcess, secondsText, type Explanation, type Fact } from '../explain.js';

type Opts = Pick<TestOptions, 'nodes' | 'concurrency'>;

function lagWords(result: CheckResult): string {
  const worst = result['worst-realtime-lag'];
  if (worst === null || typeof worst !== 'object' || Array.isArray(worst) || typeof worst['lag'] !== 'number') return '';
  const where = typeof worst['key'] === 'string' ? ` (key ${worst['key']}, process ${String(worst['process'])}, poll at ${Number(worst['time']).toFixed(3)} s)` : '';
  return `worst realtime lag ${worst['lag'].toFixed(3)} s${where}`;
}

/** Offsets of `key` an op's micro-ops name: sends [send, k, [offset, msg]], polls [poll, {k: [[offset, msg]]}]. */
function offsetsOn(op: Op, key: string): number[] {
  const found: number[] = [];
  for (const mop of Array.isArray(op.value) ? op.value : []) {
    if (!Array.isArray(mop)) continue;
    if (mop[0] === 'send' && mop[1] === key && Array.isArray(mop[2]) && typeof mop[2][0] === 'number') found.push(mop[2][0]);
    const polled = mop[0] === 'poll' ? mop[1] : undefined;
    if (polled !== null && typeof polled === 'object' && !Array.isArray(polled)) {
      const pairs = polled[key];
      if (Array.isArray(pairs)) for (const pair of pairs) if (Array.isArray(pair) && typeof pair[0] === 'number') found.push(pair[0]);
    }
  }
  return found;
}

/** For an error the checker gave no operations: the first ok operations that touched its offsets. */
function opsTouching(history: readonly Op[], key: string, offsets: readonly number[], limit = 4): Op[] {
  const wanted = new Set(offsets);
  const ops: Op[] = [];
  for (const op of history) {
    if (ops.length >= limit) break;
    if (op.type === 'ok' && op.process !== 'nemesis' && offsetsOn(op, key).some((offset) => wanted.has(offset))) ops.push(op);
  }
  return ops;
}

/** The kafka explanation from the checker's verdict and its report data. */
export function explainKafka(history: readonly Op[], result: CheckResult, report: KafkaReportData, opts: Opts): Explanation {
  const byIndex = new Map(history.map((op) => [op.index, op]));
  const bad = new Set(Array.isArray(result['bad-error-types']) ? result['bad-error-types'].filter((t): t is string => typeof t === 'string') : []);
  const ordered = [...report.errors].sort((a, b) => Number(!bad.has(a.type)) - Number(!bad.has(b.type)));
  const facts: Fact[] = ordered.map((error, k) => {
    const listed = error.ops.map((index) => byIndex.get(index)).filter((op): op is Op => op !== undefined);
    // only the facts that will be kept are worth a scan of the history
    const ops = listed.length > 0 || k >= FACT_LIMIT || error.offsets.length === 0 ? listed : opsTouching(history, error.key, error.offsets);
    const nodes = [...new Set(ops.map((op) => nodeOfProcess(op.process, opts)))].sort(byNodeName);
    const where = ops.length === 0 ? '' : ` (ops ${ops.map((op) => op.index).join(', ')} via ${listText(nodes)}, from ${secondsText(ops[0]?.time ?? 0)})`;
    return { text: `${error.type}${bad.has(error.type) ? '' : ' (allowed)'} on key ${error.key}: ${error.text.replace(/\.$/, '')}${where}.`, ...(ops[0] === undefined ? {} : { atNs: ops[0].time }), nodes };
  });
  const counts = Object.entries(report.errorCounts).map(([type, count]) => `${type} ×${count}${bad.has(type) ? '' : ' (allowed)'}`);
  const lag = lagWords(result);
  let headline: string;
  if (result['valid?'] === 'unknown') headline = `The kafka checker could not decide: ${String(result['error'] ?? 'no reason given')}.`;
  else if (bad.size > 0) headline = `The log broke its contract: ${counts.join(', ')}${lag === '' ? '' : `; ${lag}`}.`;
  else if (counts.length > 0) headline = `Only errors Maelstrom allows were found (${counts.join(', ')})${lag === '' ? '' : `; ${lag}`}.`;
  else headline = `No errors were found${lag === '' ? '' : `; ${lag}`}.`;
  return explanation(headline, facts);
}
