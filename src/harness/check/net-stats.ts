// Maelstrom's `:net` checker: message counts from the network journal, split by whether a
// client takes part, plus messages per client operation.

import type { CheckResult, JournalEvent, Json, NetCounts, Op } from '../types.js';
import { float32AsPrinted as toFloat32 } from '../util/float32.js';
import { countJournal } from '../net/journal.js';

export interface ScopeCounts {
  'send-count': number;
  'recv-count': number;
  'msg-count': number;
  'msgs-per-op'?: number;
}

/** Every message id is journaled once when sent, so distinct ids in a scope are its sends. */
function scopeCounts(scope: { sends: number; recvs: number }): ScopeCounts {
  return { 'send-count': scope.sends, 'recv-count': scope.recvs, 'msg-count': scope.sends };
}

/** Client operations as Maelstrom counts them for msgs-per-op: every :invoke except the nemesis's. */
export function clientInvokeCount(history: readonly Op[]): number {
  let count = 0;
  for (const op of history) if (op.type === 'invoke' && op.process !== 'nemesis') count++;
  return count;
}

function scopeJson(counts: ScopeCounts): { [key: string]: Json } {
  const out: { [key: string]: Json } = {
    'send-count': counts['send-count'],
    'recv-count': counts['recv-count'],
    'msg-count': counts['msg-count'],
  };
  if (counts['msgs-per-op'] !== undefined) out['msgs-per-op'] = counts['msgs-per-op'];
  return out;
}

export function netStats(journal: JournalEvent[], history: readonly Op[]): CheckResult {
  return netStatsFromCounts(countJournal(journal), history);
}

export function netStatsFromCounts(counts: NetCounts, history: readonly Op[]): CheckResult {
  const all = scopeCounts(counts.all);
  const clients = scopeCounts(counts.clients);
  const servers = scopeCounts(counts.servers);

  // Maelstrom leaves msgs-per-op out entirely when there were no client operations, rather
  // than dividing by zero.
  const opCount = clientInvokeCount(history);
  if (opCount > 0) {
    all['msgs-per-op'] = toFloat32(all['msg-count'] / opCount);
    servers['msgs-per-op'] = toFloat32(servers['msg-count'] / opCount);
  }
  return { all: scopeJson(all), clients: scopeJson(clients), servers: scopeJson(servers), 'valid?': true };
}
