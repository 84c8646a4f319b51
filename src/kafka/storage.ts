// Where a kafka node keeps its records so that acknowledged sends survive a kill.
//
// - memory: nothing on disk. Fastest; a killed node forgets everything (not for --nemesis kill).
// - file (default): one JSON line per record, appended with a write(2) before the send is
//   acknowledged. A SIGKILLed process cannot lose a completed write (the data is in the kernel's
//   page cache), so this survives Maelstrom's kill nemesis at the cost of one small write per
//   send and per replication batch; it does not survive a machine crash or power loss.
// - fsync: as file, and acknowledgements (to clients and to peers) wait for an fsync. Concurrent
//   waiters share one fsync (group commit), so the cost is latency (one fsync, ~ms), not one
//   fsync per operation.
//
// File: <dir>/kafka-<node id>.<session>.jsonl, where the session names the test (see
// sessionTag()): nodes may share a directory, and Maelstrom runs every test in the same temp
// directory, so a restarted node finds its own file and never another test's, even one running
// at the same time. Files of tests whose parent process is gone are deleted at start.

import { closeSync, existsSync, fsync, ftruncateSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Json } from '../lib/index.js';
import type { StoredRecord } from './core.js';

export type StorageMode = 'memory' | 'file' | 'fsync';
export const storageModes: readonly StorageMode[] = ['memory', 'file', 'fsync'];

export interface Store {
  /** Records written by earlier incarnations of this node in this test, oldest first. */
  readonly restored: readonly StoredRecord[];
  /** Writes records; synchronous (a kill after this returns cannot lose them). */
  append(records: readonly StoredRecord[]): void;
  /** Resolves once everything appended so far is as durable as the mode promises. */
  sync(): Promise<void>;
  /** True when sync() can take time (callers skip awaiting otherwise). */
  readonly syncs: boolean;
  close(): void;
}

export function memoryStore(): Store {
  return { restored: [], append() {}, sync: () => Promise.resolve(), syncs: false, close() {} };
}

type Line = ['e', string, number, Json] | ['c', string, number];

function encode(record: StoredRecord): string {
  const line: Line = record.kind === 'entry' ? ['e', record.key, record.offset, record.msg] : ['c', record.key, record.offset];
  return JSON.stringify(line) + '\n';
}

function decode(text: string): StoredRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || typeof value[1] !== 'string' || !Number.isSafeInteger(value[2])) return undefined;
  if (value[0] === 'e' && value.length === 4) return { kind: 'entry', key: value[1], offset: value[2] as number, msg: value[3] as Json };
  if (value[0] === 'c' && value.length === 3) return { kind: 'commit', key: value[1], offset: value[2] as number };
  return undefined;
}

export function storePath(dir: string, nodeId: string, session: string): string {
  return path.join(dir, `kafka-${nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}.${session.replace(/[^A-Za-z0-9_-]/g, '_')}.jsonl`);
}

const storeFilePattern = /^kafka-[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.jsonl$/;

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

/**
 * Opens (or starts) a node's record file. Records from the same session are restored; a file
 * from another session, or one cut short by a kill mid-line, is truncated to what is usable.
 */
export function fileStore(file: string, session: string, syncEachAck: boolean): Store {
  const header = JSON.stringify({ kafka: 1, session }) + '\n';
  const restored: StoredRecord[] = [];
  let keepBytes = 0;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const firstNewline = text.indexOf('\n');
    if (firstNewline >= 0 && text.slice(0, firstNewline + 1) === header) {
      keepBytes = firstNewline + 1;
      let start = keepBytes;
      for (let end = text.indexOf('\n', start); end >= 0; end = text.indexOf('\n', start)) {
        const line = text.slice(start, end);
        const record = decode(line);
        if (record === undefined) break;
        restored.push(record);
        start = end + 1;
        keepBytes += Buffer.byteLength(line) + 1;
      }
    }
  }
  const fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
  ftruncateSync(fd, keepBytes);
  let position = keepBytes;
  const write = (text: string): void => {
    const buffer = Buffer.from(text);
    let done = 0;
    while (done < buffer.length) done += writeSync(fd, buffer, done, buffer.length - done, position + done);
    position += buffer.length;
  };
  if (keepBytes === 0) write(header);

  // Group commit: one fsync in flight at a time; whoever asks waits for one that started after
  // their write.
  let written = 0;
  let synced = 0;
  let inFlight: Promise<void> | undefined;
  const startSync = (): Promise<void> => {
    const target = written;
    inFlight = new Promise<void>((resolve) => {
      fsync(fd, () => {
        synced = Math.max(synced, target);
        inFlight = undefined;
        resolve();
      });
    });
    return inFlight;
  };
  return {
    restored,
    append(records) {
      if (records.length === 0) return;
      write(records.map(encode).join(''));
      written += 1;
    },
    async sync() {
      if (!syncEachAck) return;
      const target = written;
      while (synced < target) await (inFlight ?? startSync());
    },
    syncs: syncEachAck,
    close() {
      closeSync(fd);
    },
  };
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
