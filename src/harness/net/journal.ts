// The network journal (every send, even if later dropped, and every delivery). Maelstrom keeps it
// on disk; so do we: events are streamed to net-journal.jsonl in the store folder, and only the
// counts :net needs and the first events (for the message-flow diagram) stay in memory, so the
// harness's memory grows with the history, not with every message body.
import path from 'node:path';
import { createLineFile } from '../util/line-file.js';
import { isClientId, type JournalEvent, type NetCounts } from '../types.js';

/** Events kept in memory for the report's message-flow diagram (it draws the first 300 messages). */
export const JOURNAL_HEAD_EVENTS = 2_000;

export interface Journal {
  /** bodyJson: the body as JSON text if the caller has it (the network makes it once per message) */
  record(event: JournalEvent, bodyJson?: string | null): void;
  readonly counts: NetCounts;
  readonly head: JournalEvent[];
  /** Writes what is buffered and closes the file. */
  close(): void;
}

export function emptyNetCounts(): NetCounts {
  return { all: { sends: 0, recvs: 0 }, clients: { sends: 0, recvs: 0 }, servers: { sends: 0, recvs: 0 } };
}

export function countEvent(counts: NetCounts, event: JournalEvent): void {
  const scope = isClientId(event.src) || isClientId(event.dest) ? counts.clients : counts.servers;
  if (event.kind === 'send') {
    counts.all.sends++;
    scope.sends++;
  } else {
    counts.all.recvs++;
    scope.recvs++;
  }
}

export function countJournal(events: Iterable<JournalEvent>): NetCounts {
  const counts = emptyNetCounts();
  for (const event of events) countEvent(counts, event);
  return counts;
}

/** A journal streamed to dir/net-journal.jsonl; dir null keeps counts and head only (tests). */
export function createJournal(dir: string | null): Journal {
  const counts = emptyNetCounts();
  const head: JournalEvent[] = [];
  const file = dir === null ? null : createLineFile(path.join(dir, 'net-journal.jsonl'), 'the network journal');
  return {
    counts,
    head,
    record(event, bodyJson) {
      countEvent(counts, event);
      if (head.length < JOURNAL_HEAD_EVENTS) head.push(event);
      file?.append(bodyJson === undefined || bodyJson === null ? eventLine(event) : eventLineWithBody(event, bodyJson));
    },
    close() {
      file?.close();
    },
  };
}

/**
 * The same text as JSON.stringify(event), built around a body already serialised, so that a
 * message's body is written once for its send, its delivery and the node's stdin (docs/network.md).
 */
export function eventLineWithBody(event: JournalEvent, bodyJson: string): string {
  const time = Number.isFinite(event.timeNs) ? event.timeNs : 'null';
  const id = Number.isFinite(event.id) ? event.id : 'null';
  return `{"kind":"${event.kind}","timeNs":${time},"id":${id},"src":${JSON.stringify(event.src)},"dest":${JSON.stringify(event.dest)},"body":${bodyJson}}`;
}

function eventLine(event: JournalEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    // Bodies come from nodes; one that cannot be written again must not stop the journal.
    return JSON.stringify({ ...event, body: { type: String(event.body.type), unwritable: true } });
  }
}
