// The network journal (every send, even if later dropped, and every delivery). Maelstrom keeps it
// on disk; so do we: events are streamed to net-journal.jsonl in the store folder, and only the
// counts :net needs and the first events (for the message-flow diagram) stay in memory, so the
// harness's memory grows with the history, not with every message body.
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isClientId, type JournalEvent, type NetCounts } from './types.js';

/** Events kept in memory for the report's message-flow diagram (it draws the first 300 messages). */
export const JOURNAL_HEAD_EVENTS = 2_000;
/** Bytes buffered before a write to the journal file. */
const FLUSH_BYTES = 1 << 20;

export interface Journal {
  record(event: JournalEvent): void;
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
  const fd = dir === null ? null : openSync(path.join(dir, 'net-journal.jsonl'), 'w');
  let buffer = '';
  let failed = false;
  const flush = (): void => {
    if (fd === null || buffer.length === 0 || failed) return;
    try {
      writeSync(fd, buffer);
    } catch (err) {
      // A full disk must not end the test; the counts for :net are still exact.
      failed = true;
      process.stderr.write(`glomers: cannot write the network journal any more (${String(err)}); counts stay exact\n`);
    }
    buffer = '';
  };
  return {
    counts,
    head,
    record(event) {
      countEvent(counts, event);
      if (head.length < JOURNAL_HEAD_EVENTS) head.push(event);
      if (fd === null || failed) return;
      buffer += `${eventLine(event)}\n`;
      if (buffer.length >= FLUSH_BYTES) flush();
    },
    close() {
      flush();
      if (fd !== null) closeSync(fd);
    },
  };
}

function eventLine(event: JournalEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    // Bodies come from nodes; one that cannot be written again must not stop the journal.
    return JSON.stringify({ ...event, body: { type: String(event.body.type), unwritable: true } });
  }
}
