// Maelstrom's `:net` checker: message counts from the network journal, split by whether a
// client takes part, plus messages per client operation.

import type { CheckResult, JournalEvent, Json, Op } from '../types.js';
import { float32AsPrinted as toFloat32 } from '../float32.js';
import { isClientId } from '../types.js';

export interface ScopeCounts {
  'send-count': number;
  'recv-count': number;
  'msg-count': number;
  'msgs-per-op'?: number;
}

function involvesClient(event: JournalEvent): boolean {
  return isClientId(event.src) || isClientId(event.dest);
}

function countScope(events: JournalEvent[]): ScopeCounts {
  let sends = 0;
  let recvs = 0;
  const ids = new Set<number>();
  for (const event of events) {
    if (event.kind === 'send') sends++;
    else recvs++;
    ids.add(event.id);
  }
  return { 'send-count': sends, 'recv-count': recvs, 'msg-count': ids.size };
}

/** Client operations as Maelstrom counts them for msgs-per-op: every :invoke except the nemesis's. */
export function clientInvokeCount(history: Op[]): number {
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

export function netStats(journal: JournalEvent[], history: Op[]): CheckResult {
  const clientEvents: JournalEvent[] = [];
  const serverEvents: JournalEvent[] = [];
  for (const event of journal) (involvesClient(event) ? clientEvents : serverEvents).push(event);

  const all = countScope(journal);
  const clients = countScope(clientEvents);
  const servers = countScope(serverEvents);

  // Maelstrom leaves msgs-per-op out entirely when there were no client operations, rather
  // than dividing by zero.
  const opCount = clientInvokeCount(history);
  if (opCount > 0) {
    all['msgs-per-op'] = toFloat32(all['msg-count'] / opCount);
    servers['msgs-per-op'] = toFloat32(servers['msg-count'] / opCount);
  }
  return { all: scopeJson(all), clients: scopeJson(clients), servers: scopeJson(servers), 'valid?': true };
}
