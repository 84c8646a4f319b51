// The counter's local file in disk mode: a record file (src/lib/durable.ts, docs/storage.md §1)
// holding one record {count, version} per add, the last one current. Every record is written to
// its last byte and checksummed, and fsynced before the add is acknowledged. Opening tells three
// cases apart (docs/counters.md): no file (a fresh start), good records (the last one wins; a torn
// tail from a crash mid-write is dropped), and damage, which is refused loudly with the file left
// as it is: an unreadable durable count is never taken for zero.

import path from 'node:path';
import { openRecordFile, type DurableFs, type RecordFile } from '../lib/durable.js';
import type { Versioned } from './counter.js';

/** Past this many records the file is rewritten to its last one, so it stays a few KiB. */
export const MAX_RECORDS = 1024;

/**
 * One file per node and per test run: Maelstrom runs every node in the same shared directory
 * (the system temp dir), which outlives runs, so the run token keeps an old run's file out.
 */
export function localFilePath(dir: string, runToken: string, node: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, '_');
  return path.join(dir, `glomers-counter-${safe(runToken)}-${safe(node)}.log`);
}

/** The record's count, or throws (which the record file reports as damage at that line). */
export function decodeLocal(payload: string): Versioned {
  const record = JSON.parse(payload) as { count?: unknown; version?: unknown } | null;
  if (record === null || typeof record !== 'object') throw new Error('not a record');
  const { count, version } = record;
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(version) || (version as number) < 0) {
    throw new Error('count or version is not a safe integer');
  }
  return { count: count as number, version: version as number };
}

export function encodeLocal(local: Versioned): string {
  return JSON.stringify({ count: local.count, version: local.version });
}

export interface LocalFile {
  /** the count the file held when opened; undefined for a new file */
  readonly restored: Versioned | undefined;
  /** Stores `local` durably; throws (storing nothing) if it cannot. */
  save(local: Versioned): void;
  close(): void;
}

/**
 * Opens (or creates) the file. Throws DurableFileError, naming the file and line, if it holds
 * damage; the file is then left untouched.
 */
export function openLocal(file: string, fs?: DurableFs): LocalFile {
  let restored: Versioned | undefined;
  const records: RecordFile = openRecordFile(file, {
    ...(fs === undefined ? {} : { fs }),
    maxRecordBytes: 256,
    onRecord: (payload) => {
      const local = decodeLocal(payload);
      if (restored !== undefined && local.version <= restored.version) throw new Error(`version ${local.version} after ${restored.version}`);
      restored = local;
    },
  });
  return {
    restored,
    save(local) {
      records.append([encodeLocal(local)]);
      records.sync();
      if (records.recordCount <= MAX_RECORDS) return;
      // Stored already: a failed compaction leaves the old file in use, and the next save retries.
      try {
        records.rewrite([encodeLocal(local)]);
      } catch {
        // the file stays longer until a rewrite succeeds
      }
    },
    close: () => records.close(),
  };
}
