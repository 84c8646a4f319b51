// Durable Raft state: term, vote, snapshot and log, in one file per node so nodes may share a
// directory. The file is a journal of the core's PersistOps, one JSON line each, after a header
// naming the test run; writes are synchronous and fsynced before the caller sends anything.
//
// File: <dir>/raft-<node id>-<run tag>.jsonl. The run tag keeps two test runs that share a
// directory (Maelstrom and our harness both start nodes in the temp dir) and reuse node ids from
// clobbering each other; the header's full run id rejects a file left by an earlier run whose tag
// was reused. On load the journal is replayed (a torn last line, from a kill mid-write, is
// ignored) and rewritten compactly; a snapshot op rewrites the file too, so it stays as small as
// the snapshot plus the log after it.

import fs from 'node:fs';
import path from 'node:path';
import { emptyDurable, type Durable, type PersistOp } from './raft.js';

export interface RaftStorage {
  load(): Durable;
  /** Makes the ops durable before returning. */
  write(ops: readonly PersistOp[]): void;
  close(): void;
}

/** Applies persisted ops to a durable image: the one definition of what the journal means. */
export function replay(durable: Durable, op: PersistOp): void {
  switch (op.kind) {
    case 'hardState':
      durable.term = op.term;
      durable.votedFor = op.votedFor;
      return;
    case 'append': {
      const keep = Math.max(0, op.fromIndex - durable.snapshot.index - 1);
      durable.entries.length = Math.min(durable.entries.length, keep);
      durable.entries.push(...op.entries);
      return;
    }
    case 'snapshot':
      durable.snapshot = op.snapshot;
      durable.entries = op.entries.slice();
      return;
  }
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

type Header = { kind: 'header'; run: string; node: string };

export interface FileStorageOptions {
  dir: string;
  nodeId: string;
  /** identifies the test run; a file from another run is ignored and replaced */
  runId: string;
  /** short form of runId used in the file name */
  runTag: string;
  /** fdatasync after every write (default true); off only trades durability across machine crashes */
  fsync?: boolean;
}

export function storageFileName(nodeId: string, runTag: string): string {
  return `raft-${nodeId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${runTag.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`;
}

export class FileStorage implements RaftStorage {
  readonly file: string;
  private fd: number | undefined;
  private readonly header: Header;
  private readonly fsync: boolean;
  /** what the file holds, kept to rewrite it on a snapshot */
  private image: Durable = emptyDurable();

  constructor(options: FileStorageOptions) {
    this.file = path.join(options.dir, storageFileName(options.nodeId, options.runTag));
    this.header = { kind: 'header', run: options.runId, node: options.nodeId };
    this.fsync = options.fsync ?? true;
  }

  load(): Durable {
    this.image = this.readJournal();
    this.rewrite();
    return cloneDurable(this.image);
  }

  write(ops: readonly PersistOp[]): void {
    if (ops.length === 0) return;
    if (this.fd === undefined) throw new Error('storage not loaded');
    for (const op of ops) replay(this.image, op);
    if (ops.some((op) => op.kind === 'snapshot')) {
      this.rewrite();
      return;
    }
    fs.writeSync(this.fd, ops.map((op) => JSON.stringify(op) + '\n').join(''));
    if (this.fsync) fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private readJournal(): Durable {
    const durable = emptyDurable();
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return durable;
      throw error;
    }
    const lines = text.split('\n');
    let first = true;
    for (const line of lines) {
      if (line.length === 0) continue;
      let record: PersistOp | Header;
      try {
        record = JSON.parse(line) as PersistOp | Header;
      } catch {
        break; // torn tail: everything before it was written whole
      }
      if (first) {
        first = false;
        if (record.kind !== 'header' || record.run !== this.header.run || record.node !== this.header.node) return emptyDurable();
        continue;
      }
      if (record.kind !== 'header') replay(durable, record);
    }
    return durable;
  }

  /** Writes the image to a new file and renames it over the old one, so a kill leaves one or the other. */
  private rewrite(): void {
    this.close();
    const image = this.image;
    const records: Array<PersistOp | Header> = [
      this.header,
      { kind: 'hardState', term: image.term, votedFor: image.votedFor },
      { kind: 'snapshot', snapshot: image.snapshot, entries: image.entries },
    ];
    const temp = `${this.file}.tmp`;
    const fd = fs.openSync(temp, 'w');
    fs.writeSync(fd, records.map((record) => JSON.stringify(record) + '\n').join(''));
    if (this.fsync) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(temp, this.file);
    this.fd = fs.openSync(this.file, 'a');
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
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(stem)) continue;
    const match = /^(\d+)\.jsonl(\.tmp)?$/.exec(name.slice(stem.length));
    if (match === null || match[1] === currentTag || processAlive(Number(match[1]))) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
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
