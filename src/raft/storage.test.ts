// Journal storage: what is written survives a reopen, torn tails and other runs' files are handled.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from './raft.js';
import { FileStorage, MemoryStorage, removeStaleJournals, storageFileName } from './storage.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-storage-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const e = (term: number, value: number): Entry => ({ term, cmd: { origin: 'n1', rid: `r${value}`, op: { f: 'write', key: value, value } } });

function open(dir: string, runId = 'run-1', nodeId = 'n0'): FileStorage {
  return new FileStorage({ dir, nodeId, runId, runTag: '4242' });
}

describe('FileStorage', () => {
  it('replays hard state, appends and truncations after a reopen', () => {
    const dir = tempDir();
    const first = open(dir);
    expect(first.load()).toEqual({ term: 0, votedFor: null, snapshot: { index: 0, term: 0, data: [] }, entries: [] });
    first.write([{ kind: 'hardState', term: 3, votedFor: 'n2' }]);
    first.write([{ kind: 'append', fromIndex: 1, entries: [e(1, 1), e(2, 2), e(2, 3)] }]);
    first.write([{ kind: 'append', fromIndex: 3, entries: [e(3, 9)] }]);
    first.close();
    const loaded = open(dir).load();
    expect(loaded.term).toBe(3);
    expect(loaded.votedFor).toBe('n2');
    expect(loaded.entries).toEqual([e(1, 1), e(2, 2), e(3, 9)]);
  });

  it('keeps snapshot and following entries, and rewrites the file small', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'append', fromIndex: 1, entries: Array.from({ length: 50 }, (_, k) => e(1, k)) }]);
    const before = fs.statSync(storage.file).size;
    storage.write([{ kind: 'snapshot', snapshot: { index: 49, term: 1, data: [[1, 'x']] }, entries: [e(1, 49)] }]);
    expect(fs.statSync(storage.file).size).toBeLessThan(before);
    storage.write([{ kind: 'append', fromIndex: 51, entries: [e(2, 50)] }]);
    storage.close();
    const loaded = open(dir).load();
    expect(loaded.snapshot).toEqual({ index: 49, term: 1, data: [[1, 'x']] });
    expect(loaded.entries).toEqual([e(1, 49), e(2, 50)]);
  });

  it('ignores a torn last line (killed mid-write)', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'hardState', term: 5, votedFor: null }]);
    storage.close();
    fs.appendFileSync(storage.file, '{"kind":"hardState","term":9,"vot');
    const loaded = open(dir).load();
    expect(loaded.term).toBe(5);
  });

  it('starts empty over a journal left by another run, and names files by node', () => {
    const dir = tempDir();
    const old = open(dir, 'run-1');
    old.load();
    old.write([{ kind: 'hardState', term: 8, votedFor: 'n0' }]);
    old.close();
    expect(open(dir, 'run-2').load().term).toBe(0);
    const other = open(dir, 'run-1', 'n1');
    expect(other.load().term).toBe(0);
    expect(path.basename(other.file)).toBe(storageFileName('n1', '4242'));
  });

  it('removes this node’s journals of runs whose process is gone, nothing else', () => {
    const dir = tempDir();
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max default
    const names = [
      storageFileName('n0', String(deadPid)),
      storageFileName('n0', String(process.pid)),
      storageFileName('n0', '777'),
      storageFileName('n1', String(deadPid)),
      'unrelated.jsonl',
    ];
    for (const name of names) fs.writeFileSync(path.join(dir, name), '');
    removeStaleJournals(dir, 'n0', '777');
    const left = fs.readdirSync(dir).sort();
    expect(left).toEqual([names[1], names[2], names[3], 'unrelated.jsonl'].sort());
  });
});

describe('MemoryStorage', () => {
  it('hands out copies, so a restart cannot see unpersisted changes', () => {
    const disk = new MemoryStorage();
    disk.write([{ kind: 'append', fromIndex: 1, entries: [e(1, 1)] }]);
    const loaded = disk.load();
    loaded.entries.push(e(1, 2));
    expect(disk.load().entries).toEqual([e(1, 1)]);
  });
});
