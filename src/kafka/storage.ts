// Where a kafka node keeps its records so that acknowledged sends survive a kill (docs/storage.md §2).
//
// - memory: nothing on disk. Fastest; a killed node forgets everything (not for --nemesis kill).
// - file (default): one checksummed record per entry or commit (src/lib/durable.ts), written
//   before the send is acknowledged. A SIGKILLed process cannot lose a completed write (the data
//   is in the kernel's page cache), so this survives Maelstrom's kill nemesis; a power cut can
//   lose what the kernel had not written back yet.
// - fsync: as file, and every acknowledgement (send_ok, commit_offsets_ok, acks to peers) and
//   every read reply (poll, list_committed_offsets) waits for an fsync covering everything the
//   node wrote before it, so nothing acknowledged or seen is lost to a power cut. Requests in
//   one turn of the event loop share one fsync (group commit).
//
// File: <dir>/kafka-<node id>.<session>.log, where the session names the test (see
// sessionTag()): nodes may share a directory, and Maelstrom runs every test in the same temp
// directory, so a restarted node finds its own file and never another test's, even one running
// at the same time. Files of tests whose parent process is gone are deleted at start.
//
// Bound on the file: entries are never dropped (kafka keeps every message), but each commit
// record supersedes the key's previous one. When superseded records outweigh live ones and the
// file is past compactMinBytes, it is rewritten with only the live records, so the file stays
// below 2 x the live records + compactMinBytes; the live records are bounded by the node's
// state limit (args.ts).

import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { Json } from '../lib/index.js';
import { groupCommit, openRecordFile, recordBytes, type DurableFs, type RecordFile } from '../lib/durable.js';
import type { StoredRecord } from './core.js';

export type StorageMode = 'memory' | 'file' | 'fsync';
export const storageModes: readonly StorageMode[] = ['memory', 'file', 'fsync'];

export interface Store {
  /** Writes records; synchronous (a kill after this returns cannot lose them). Throws if not all were written. */
  append(records: readonly StoredRecord[]): void;
  /** Resolves once everything appended so far is as durable as the mode promises; rejects if it cannot be. */
  sync(): Promise<void>;
  /** True when sync() can take time (callers skip awaiting otherwise). */
  readonly syncs: boolean;
  /**
   * Rewrites the file with the live records when dead ones outweigh them. Call it once the
   * state holds everything appended (not between append() and applying the records).
   */
  compactIfWorthIt(): void;
  close(): void;
}

export function memoryStore(): Store {
  return { append() {}, sync: () => Promise.resolve(), syncs: false, compactIfWorthIt() {}, close() {} };
}

type Line = ['e', string, number, Json] | ['c', string, number];

export function encode(record: StoredRecord): string {
  const line: Line = record.kind === 'entry' ? ['e', record.key, record.offset, record.msg] : ['c', record.key, record.offset];
  return JSON.stringify(line);
}

/** A record from its payload; throws on anything else (the checksum passed, so this is a bug or tampering). */
export function decode(text: string): StoredRecord {
  const value: unknown = JSON.parse(text);
  if (Array.isArray(value) && typeof value[1] === 'string' && Number.isSafeInteger(value[2]) && (value[2] as number) >= 0) {
    if (value[0] === 'e' && value.length === 4) return { kind: 'entry', key: value[1], offset: value[2] as number, msg: value[3] as Json };
    if (value[0] === 'c' && value.length === 3) return { kind: 'commit', key: value[1], offset: value[2] as number };
  }
  throw new Error('not a kafka entry or commit record');
}

export function storePath(dir: string, nodeId: string, session: string): string {
  return path.join(dir, `kafka-${nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}.${session.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
}

const storeFilePattern = /^kafka-[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.log(\.compacting)?$/;

/** Deletes record files whose test has ended (its parent process is gone). Best effort. */
export function removeStaleFiles(dir: string, session: string, isLive: (session: string) => boolean = sessionIsLive): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = storeFilePattern.exec(name);
    if (match === null || match[1] === session || isLive(match[1]!)) continue;
    try {
      unlinkSync(path.join(dir, name));
    } catch {
      // Another node of the same test got there first, or it is not ours to delete.
    }
  }
}

export interface FileStoreOptions {
  /** Wait for an fsync before acknowledging (the fsync mode). */
  fsync: boolean;
  /** The node's live records (every entry, the highest commit per key), for compaction. */
  live: () => Iterable<StoredRecord>;
  /** Compaction starts only past this file size (default 4 MiB). */
  compactMinBytes?: number;
  fs?: DurableFs;
  log?: (text: string) => void;
  /** Schedules a group fsync (default setImmediate). */
  defer?: (run: () => void) => void;
}

export const defaultCompactMinBytes = 4 * 1024 * 1024;

/**
 * Opens (or starts) a node's record file, streaming each stored record to `restore` as it is
 * read. A torn last record is dropped; damage elsewhere throws an error naming the file and line
 * (the file is left as it is).
 */
export function openFileStore(file: string, restore: (record: StoredRecord) => void, options: FileStoreOptions): Store {
  // Bytes of each key's latest commit record: a newer one makes it dead weight.
  const commitBytes = new Map<string, number>();
  let deadBytes = 0;
  const account = (record: StoredRecord, payload: string): void => {
    if (record.kind !== 'commit') return;
    deadBytes += commitBytes.get(record.key) ?? 0;
    commitBytes.set(record.key, recordBytes(payload));
  };
  const records: RecordFile = openRecordFile(file, {
    ...(options.fs === undefined ? {} : { fs: options.fs }),
    onRecord(payload) {
      const record = decode(payload);
      restore(record);
      account(record, payload);
    },
  });
  const compactMinBytes = options.compactMinBytes ?? defaultCompactMinBytes;
  const compactIfWorthIt = (): void => {
    if (records.sizeBytes < compactMinBytes || deadBytes <= records.sizeBytes - deadBytes) return;
    const before = { sizeBytes: records.sizeBytes, deadBytes, commitBytes: new Map(commitBytes) };
    commitBytes.clear();
    deadBytes = 0;
    try {
      records.rewrite(livePayloads(options.live(), account));
      options.log?.(`compacted ${file}: ${before.sizeBytes} -> ${records.sizeBytes} bytes`);
    } catch (error) {
      // The old file stays in use and stays correct, so its accounting does too.
      deadBytes = before.deadBytes;
      commitBytes.clear();
      for (const [key, bytes] of before.commitBytes) commitBytes.set(key, bytes);
      options.log?.(`compaction of ${file} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const sync = options.fsync ? groupCommit(() => records.sync(), options.defer) : (): Promise<void> => Promise.resolve();
  return {
    append(batch) {
      if (batch.length === 0) return;
      const payloads = batch.map(encode);
      records.append(payloads);
      batch.forEach((record, i) => account(record, payloads[i]!));
    },
    sync,
    syncs: options.fsync,
    compactIfWorthIt,
    close() {
      records.close();
    },
  };
}

function* livePayloads(live: Iterable<StoredRecord>, account: (record: StoredRecord, payload: string) => void): Generator<string> {
  for (const record of live) {
    const payload = encode(record);
    account(record, payload);
    yield payload;
  }
}

function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the command name, which may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/**
 * Identifies the test this process belongs to: Maelstrom (and our harness) start every node of a
 * test, restarts after a kill included, from one parent process, and a new test means a new
 * parent. The parent's pid plus its start time (from /proc, where there is one) tells them apart.
 */
export function sessionTag(): string {
  return `${process.ppid}-${processStartTime(process.ppid)}`;
}

/** Whether the parent process a session tag names is still running. */
export function sessionIsLive(session: string): boolean {
  const [pidText, started = ''] = session.split('-');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processStartTime(pid) === started;
}
