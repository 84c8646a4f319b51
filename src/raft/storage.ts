// Durable Raft state: term, vote, snapshot and log, in one file per node so nodes may share a
// directory. The file is a lib/durable record file (every line CRC-32 checked) holding a journal of
// the core's PersistOps, after a first record naming the test run. Writes are whole or not at all
// and fsynced before the caller sends anything.
//
// File: <dir>/raft-<node id>-<run tag>.jsonl. The run tag keeps two test runs that share a
// directory (Maelstrom and our harness both start nodes in the temp dir) and reuse node ids from
// clobbering each other; the run record's full run id tells a file left by an earlier run whose tag
// was reused, which is replaced (atomically: a new file renamed over it).
//
// Loading never rewrites the file: it replays the records (every one checked for shape and for
// sense: terms never go down, one vote per term, appends continue the log), drops a torn tail (a
// kill mid-write) and appends after it. Damage anywhere else, a record of the wrong shape, or a run
// record that cannot be read is refused with an error naming the file and the line, and the file
// is left as it is: a damaged file never silently becomes an empty one (that would forget a vote).
// A snapshot op compacts the file (new file, fsync, rename); if that fails, for instance on a full
// disk, the op is appended as a record instead and the old file stays in use.

import nodeFs from 'node:fs';
import path from 'node:path';
import { openRecordFile, type DurableFs, type RecordFile } from '../lib/durable.js';
import type { KvOp } from './kv.js';
import { emptyDurable, type Command, type Durable, type Entry, type PersistOp, type Snapshot } from './raft.js';

export interface RaftStorage {
  load(): Durable;
  /** Makes the ops durable before returning; throws (having stored none of them) if it cannot. */
  write(ops: readonly PersistOp[]): void;
  close(): void;
}

// ---- record shapes

type RunRecord = { kind: 'run'; run: string; node: string };
type JournalRecord = RunRecord | PersistOp;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isIndex = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function shapeError(what: string): never {
  throw new Error(`bad record: ${what}`);
}

function checkOp(value: unknown): KvOp {
  if (!isObject(value)) shapeError('op is not an object');
  const need = (field: string): void => {
    if (!(field in value)) shapeError(`${String(value.f)} op without ${field}`);
  };
  switch (value.f) {
    case 'read':
      need('key');
      break;
    case 'write':
      need('key');
      need('value');
      break;
    case 'cas':
      need('key');
      need('from');
      need('to');
      break;
    default:
      shapeError(`unknown op ${JSON.stringify(value.f)}`);
  }
  return value as unknown as KvOp;
}

function checkEntries(value: unknown): Entry[] {
  if (!Array.isArray(value)) shapeError('entries is not an array');
  for (const entry of value) {
    if (!isObject(entry) || !isIndex(entry.term)) shapeError('entry without a term');
    if (entry.cmd === null) continue;
    const cmd = entry.cmd as Partial<Command> | undefined;
    if (!isObject(cmd) || typeof cmd.origin !== 'string' || typeof cmd.rid !== 'string') shapeError('entry with a bad command');
    checkOp(cmd.op);
  }
  return value as Entry[];
}

function checkSnapshot(value: unknown): Snapshot {
  if (!isObject(value) || !isIndex(value.index) || !isIndex(value.term) || !Array.isArray(value.data)) shapeError('bad snapshot');
  for (const pair of value.data) if (!Array.isArray(pair) || pair.length !== 2) shapeError('snapshot data is not [key, value] pairs');
  return value as unknown as Snapshot;
}

/** Parses one record's payload and checks its shape; throws with the reason. */
export function parseRecord(payload: string): JournalRecord {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    shapeError('not JSON');
  }
  if (!isObject(value)) shapeError('not an object');
  switch (value.kind) {
    case 'run':
      if (typeof value.run !== 'string' || typeof value.node !== 'string') shapeError('run record without run and node');
      return value as unknown as RunRecord;
    case 'hardState':
      if (!isIndex(value.term)) shapeError(`hardState term ${JSON.stringify(value.term)}`);
      if (value.votedFor !== null && typeof value.votedFor !== 'string') shapeError(`hardState votedFor ${JSON.stringify(value.votedFor)}`);
      return value as unknown as PersistOp;
    case 'append':
      if (!isIndex(value.fromIndex) || value.fromIndex < 1) shapeError(`append fromIndex ${JSON.stringify(value.fromIndex)}`);
      checkEntries(value.entries);
      return value as unknown as PersistOp;
    case 'snapshot':
      checkSnapshot(value.snapshot);
      checkEntries(value.entries);
      return value as unknown as PersistOp;
    default:
      return shapeError(`unknown kind ${JSON.stringify(value.kind)}`);
  }
}

/**
 * Applies a persisted op to a durable image: the one definition of what the journal means. Throws
 * on an op that makes no sense after the ones before it (which the core never writes).
 */
export function replay(durable: Durable, op: PersistOp): void {
  const last = durable.snapshot.index + durable.entries.length;
  switch (op.kind) {
    case 'hardState':
      if (op.term < durable.term) throw new Error(`term goes down from ${durable.term} to ${op.term}`);
      if (op.term === durable.term && durable.votedFor !== null && op.votedFor !== durable.votedFor) {
        throw new Error(`a second vote in term ${op.term} (${durable.votedFor}, then ${String(op.votedFor)})`);
      }
      durable.term = op.term;
      durable.votedFor = op.votedFor;
      return;
    case 'append': {
      if (op.fromIndex <= durable.snapshot.index || op.fromIndex > last + 1) {
        throw new Error(`append at ${op.fromIndex} does not continue the log (snapshot ${durable.snapshot.index}, last ${last})`);
      }
      checkTerms(durable, op.entries, op.fromIndex - 1 === durable.snapshot.index ? durable.snapshot.term : (durable.entries[op.fromIndex - durable.snapshot.index - 2] as Entry).term);
      durable.entries.length = op.fromIndex - durable.snapshot.index - 1;
      durable.entries.push(...op.entries);
      return;
    }
    case 'snapshot':
      if (op.snapshot.term > durable.term) throw new Error(`snapshot of term ${op.snapshot.term} beyond the current term ${durable.term}`);
      checkTerms(durable, op.entries, op.snapshot.term);
      durable.snapshot = op.snapshot;
      durable.entries = op.entries.slice();
      return;
  }
}

/** Log terms never go down along the log, nor beyond the current term. */
function checkTerms(durable: Durable, entries: readonly Entry[], previousTerm: number): void {
  let term = previousTerm;
  for (const entry of entries) {
    if (entry.term < term) throw new Error(`log terms go down (${term}, then ${entry.term})`);
    if (entry.term > durable.term) throw new Error(`an entry of term ${entry.term} beyond the current term ${durable.term}`);
    term = entry.term;
  }
}

/** What puts the image back as it was before `op` (hardState and append; snapshots use a copy). */
function undoFor(durable: Durable, op: PersistOp): () => void {
  const { term, votedFor } = durable;
  if (op.kind !== 'append') {
    return () => {
      durable.term = term;
      durable.votedFor = votedFor;
    };
  }
  const keep = Math.max(0, op.fromIndex - durable.snapshot.index - 1);
  const removed = durable.entries.slice(keep);
  return () => {
    durable.entries.length = Math.min(durable.entries.length, keep);
    durable.entries.push(...removed);
  };
}

function cloneDurable(durable: Durable): Durable {
  return JSON.parse(JSON.stringify(durable)) as Durable;
}

/** "Disk" in memory for tests: survives a simulated restart, shares nothing with the live state. */
export class MemoryStorage implements RaftStorage {
  private image: Durable = emptyDurable();
  writes = 0;

  load(): Durable {
    return cloneDurable(this.image);
  }

  write(ops: readonly PersistOp[]): void {
    if (ops.length === 0) return;
    this.writes += 1;
    for (const op of ops) replay(this.image, JSON.parse(JSON.stringify(op)) as PersistOp);
  }

  close(): void {}
}

// ---- the file

export interface FileStorageOptions {
  dir: string;
  nodeId: string;
  /** identifies the test run; a file from another run is replaced */
  runId: string;
  /** short form of runId used in the file name */
  runTag: string;
  /** fsync after every write (default true); off only trades durability across machine crashes */
  fsync?: boolean;
  /** the file system (tests inject short writes and full disks) */
  fs?: DurableFs;
}

export function storageFileName(nodeId: string, runTag: string): string {
  return `raft-${nodeId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${runTag.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`;
}

/** Largest record: a snapshot holds the whole key-value map in one. */
const maxRecordBytes = 256 * 1024 * 1024;
/** Entries per append record when the file is rewritten. */
const entriesPerRecord = 500;

export class FileStorage implements RaftStorage {
  readonly file: string;
  private records: RecordFile | undefined;
  private readonly run: RunRecord;
  private readonly fsync: boolean;
  private readonly fs: DurableFs | undefined;
  /** what the file holds */
  private image: Durable = emptyDurable();

  constructor(options: FileStorageOptions) {
    this.file = path.join(options.dir, storageFileName(options.nodeId, options.runTag));
    this.run = { kind: 'run', run: options.runId, node: options.nodeId };
    this.fsync = options.fsync ?? true;
    this.fs = options.fs;
  }

  /** Reads the journal (no rewrite); throws DurableFileError naming file and line on damage. */
  load(): Durable {
    this.close();
    const image = emptyDurable();
    let first: RunRecord | null | undefined;
    const records = openRecordFile(this.file, {
      maxRecordBytes,
      ...(this.fs === undefined ? {} : { fs: this.fs }),
      onRecord: (payload) => {
        const record = parseRecord(payload);
        if (first === undefined) {
          if (record.kind !== 'run') throw new Error(`the first record must name the run, found ${record.kind}`);
          first = record.run === this.run.run && record.node === this.run.node ? record : null;
          return;
        }
        if (record.kind === 'run') throw new Error('a second run record');
        if (first !== null) replay(image, record);
      },
    });
    this.records = records;
    try {
      if (first === undefined) {
        // A new file (or one cut short before its first record): name the run.
        records.append([JSON.stringify(this.run)]);
        records.sync();
      } else if (first === null) {
        // Another run's journal: replaced whole, atomically.
        records.rewrite([JSON.stringify(this.run)]);
      }
    } catch (error) {
      this.close();
      throw error;
    }
    this.image = image;
    return cloneDurable(image);
  }

  write(ops: readonly PersistOp[]): void {
    if (ops.length === 0) return;
    const records = this.records;
    if (records === undefined) throw new Error('storage not loaded');
    if (ops.some((op) => op.kind === 'snapshot')) {
      const next = cloneDurable(this.image);
      for (const op of ops) replay(next, op);
      try {
        records.rewrite(this.compacted(next));
        this.image = next;
        return;
      } catch {
        // Compaction failed (a full disk, say): the old file is still in use; append instead.
      }
      this.appendRecords(records, ops);
      this.image = next;
      return;
    }
    // Checked against the image first (an op that makes no sense is never written), and undone
    // if the write fails, so the image is always what the file holds.
    const undo: Array<() => void> = [];
    try {
      for (const op of ops) {
        undo.push(undoFor(this.image, op));
        replay(this.image, op);
      }
      this.appendRecords(records, ops);
    } catch (error) {
      for (const step of undo.reverse()) step();
      throw error;
    }
  }

  private appendRecords(records: RecordFile, ops: readonly PersistOp[]): void {
    records.append(ops.map((op) => JSON.stringify(op)));
    if (this.fsync) records.sync();
  }

  close(): void {
    this.records?.close();
    this.records = undefined;
  }

  private *compacted(image: Durable): Iterable<string> {
    yield JSON.stringify(this.run);
    yield JSON.stringify({ kind: 'hardState', term: image.term, votedFor: image.votedFor });
    yield JSON.stringify({ kind: 'snapshot', snapshot: image.snapshot, entries: [] });
    for (let k = 0; k < image.entries.length; k += entriesPerRecord) {
      yield JSON.stringify({ kind: 'append', fromIndex: image.snapshot.index + k + 1, entries: image.entries.slice(k, k + entriesPerRecord) });
    }
  }
}

/**
 * Removes this node's journals left by runs whose process is gone (the tag is that process's
 * pid), so the shared temp directory does not fill up. Only files named for this node are touched.
 */
export function removeStaleJournals(dir: string, nodeId: string, currentTag: string): void {
  const stem = storageFileName(nodeId, '').replace(/\.jsonl$/, '');
  let names: string[];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(stem)) continue;
    const match = /^(\d+)\.jsonl(\.compacting)?$/.exec(name.slice(stem.length));
    if (match === null || match[1] === currentTag || processAlive(Number(match[1]))) continue;
    try {
      nodeFs.unlinkSync(path.join(dir, name));
    } catch {
      // someone else removed it first
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
