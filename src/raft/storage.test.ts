// Journal storage: what is written survives a reopen; short writes, a full disk and torn tails lose
// nothing acknowledged; damage and records of the wrong shape are refused, never "repaired".

import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableFileError, encodeRecord, type DurableFs } from '../lib/durable.js';
import type { Entry, PersistOp } from './raft.js';
import { FileStorage, MemoryStorage, parseRecord, removeStaleJournals, storageFileName } from './storage.js';

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

function open(dir: string, runId = 'run-1', nodeId = 'n0', fsImpl?: DurableFs): FileStorage {
  return new FileStorage({ dir, nodeId, runId, runTag: '4242', ...(fsImpl === undefined ? {} : { fs: fsImpl }) });
}

const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** node:fs whose writeSync the test controls. */
function fakeFs(write: (real: DurableFs['writeSync'], ...args: Parameters<DurableFs['writeSync']>) => number): DurableFs {
  const real = fs as unknown as DurableFs;
  return { ...real, writeSync: (...args) => write(real.writeSync.bind(real), ...args) };
}

/** A journal written record by record (header, run record, then `records`), valid checksums. */
function writeJournal(file: string, records: unknown[], runId = 'run-1'): void {
  const payloads = [JSON.stringify({ format: 'glomers-records', version: 1 }), JSON.stringify({ kind: 'run', run: runId, node: 'n0' }), ...records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)))];
  fs.writeFileSync(file, Buffer.concat(payloads.map((payload) => encodeRecord(payload))));
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

  it('keeps snapshot and following entries, and compacts the file', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'hardState', term: 2, votedFor: null }]);
    storage.write([{ kind: 'append', fromIndex: 1, entries: Array.from({ length: 50 }, (_, k) => e(1, k)) }]);
    const before = fs.statSync(storage.file).size;
    storage.write([{ kind: 'snapshot', snapshot: { index: 49, term: 1, data: [[1, 'x']] }, entries: [e(1, 49)] }]);
    expect(fs.statSync(storage.file).size).toBeLessThan(before);
    storage.write([{ kind: 'append', fromIndex: 51, entries: [e(2, 50)] }]);
    storage.close();
    const loaded = open(dir).load();
    expect(loaded.term).toBe(2);
    expect(loaded.snapshot).toEqual({ index: 49, term: 1, data: [[1, 'x']] });
    expect(loaded.entries).toEqual([e(1, 49), e(2, 50)]);
  });

  it('drops a torn last record (killed mid-write), cuts it off, and appends after what is whole', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'hardState', term: 5, votedFor: null }]);
    storage.close();
    const line = encodeRecord(JSON.stringify({ kind: 'hardState', term: 9, votedFor: null }));
    fs.appendFileSync(storage.file, line.subarray(0, line.length - 7));
    const again = open(dir);
    expect(again.load().term).toBe(5);
    again.write([{ kind: 'hardState', term: 6, votedFor: 'n1' }]);
    again.close();
    expect(open(dir).load()).toMatchObject({ term: 6, votedFor: 'n1' });
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

  it('writes every byte of a record through short writes', () => {
    const dir = tempDir();
    // At most 7 bytes per write call, as a pipe or a nearly full disk may do.
    const storage = open(dir, 'run-1', 'n0', fakeFs((real, fd, buffer, offset, length, position) => real(fd, buffer, offset, Math.min(length, 7), position)));
    storage.load();
    storage.write([{ kind: 'hardState', term: 1, votedFor: null }]);
    for (let k = 1; k <= 20; k++) storage.write([{ kind: 'append', fromIndex: k, entries: [e(1, k)] }]);
    storage.close();
    expect(open(dir).load().entries).toHaveLength(20);
  });

  it('a write cut short by a full disk fails, leaves nothing half-written, and loses none of the acknowledged records (50 keys)', () => {
    const dir = tempDir();
    let full = false;
    const storage = open(
      dir,
      'run-1',
      'n0',
      fakeFs((real, fd, buffer, offset, length, position) => {
        if (!full) return real(fd, buffer, offset, length, position);
        // Part of the record lands, then the disk is full.
        if (length > 5) return real(fd, buffer, offset, 5, position);
        throw enospc();
      }),
    );
    storage.load();
    storage.write([{ kind: 'hardState', term: 1, votedFor: null }]);
    for (let k = 1; k <= 50; k++) storage.write([{ kind: 'append', fromIndex: k, entries: [e(1, k)] }]);
    const sizeBefore = fs.statSync(storage.file).size;
    full = true;
    expect(() => storage.write([{ kind: 'append', fromIndex: 51, entries: [e(1, 51)] }])).toThrow(/ENOSPC/);
    expect(fs.statSync(storage.file).size).toBe(sizeBefore); // the 5 bytes that landed were cut off
    full = false;
    storage.write([{ kind: 'append', fromIndex: 51, entries: [e(1, 52)] }]);
    storage.close();
    const loaded = open(dir).load();
    expect(loaded.entries).toHaveLength(51);
    expect(loaded.entries.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, k) => e(1, k + 1)));
    expect(loaded.entries[50]).toEqual(e(1, 52));
  });

  it('restarts on a full disk: loading writes nothing (a torn tail is cut off, which needs no space)', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'hardState', term: 4, votedFor: 'n2' }]);
    storage.write([{ kind: 'append', fromIndex: 1, entries: [e(4, 1)] }]);
    storage.close();
    fs.appendFileSync(storage.file, '0badc0de {"kind":"hardS');
    const noSpace = fakeFs(() => {
      throw enospc();
    });
    const loaded = open(dir, 'run-1', 'n0', noSpace).load();
    expect(loaded).toMatchObject({ term: 4, votedFor: 'n2', entries: [e(4, 1)] });
  });

  it('an op that makes no sense is refused before it reaches the file', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'hardState', term: 2, votedFor: null }]);
    expect(() => storage.write([{ kind: 'hardState', term: 3, votedFor: 'n1' }, { kind: 'append', fromIndex: 5, entries: [] }])).toThrow(/does not continue/);
    storage.write([{ kind: 'append', fromIndex: 1, entries: [e(2, 1)] }]);
    storage.close();
    expect(open(dir).load()).toMatchObject({ term: 2, votedFor: null, entries: [e(2, 1)] });
  });

  it('a compaction that fails on a full disk keeps the old file and appends the snapshot instead', () => {
    const dir = tempDir();
    let compactionFails = false;
    const realFs = fs as unknown as DurableFs;
    const fsImpl: DurableFs = {
      ...realFs,
      openSync: (file, flags) => {
        if (compactionFails && file.endsWith('.compacting')) throw enospc();
        return realFs.openSync(file, flags);
      },
    };
    const storage = open(dir, 'run-1', 'n0', fsImpl);
    storage.load();
    storage.write([{ kind: 'hardState', term: 1, votedFor: null }]);
    storage.write([{ kind: 'append', fromIndex: 1, entries: [e(1, 1), e(1, 2)] }]);
    compactionFails = true;
    storage.write([{ kind: 'snapshot', snapshot: { index: 1, term: 1, data: [[1, 1]] }, entries: [e(1, 2)] }]);
    storage.write([{ kind: 'append', fromIndex: 3, entries: [e(1, 3)] }]);
    storage.close();
    const loaded = open(dir).load();
    expect(loaded.snapshot.index).toBe(1);
    expect(loaded.entries).toEqual([e(1, 2), e(1, 3)]);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.compacting'))).toEqual([]);
  });

  it('refuses a file with a flipped byte mid-file, naming file and line, and leaves it untouched', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'hardState', term: 2, votedFor: 'n1' }]);
    storage.write([{ kind: 'append', fromIndex: 1, entries: [e(2, 1)] }]);
    storage.write([{ kind: 'append', fromIndex: 2, entries: [e(2, 2)] }]);
    storage.close();
    const bytes = fs.readFileSync(storage.file);
    const lines = bytes.toString('latin1').split('\n');
    // Line 4 (header, run, hardState, first append): flip a byte inside its JSON.
    const at = lines.slice(0, 3).join('\n').length + 1 + 20;
    bytes[at] = (bytes[at] as number) ^ 0x04;
    fs.writeFileSync(storage.file, bytes);
    let error: unknown;
    try {
      open(dir).load();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DurableFileError);
    expect((error as Error).message).toContain(storage.file);
    expect((error as DurableFileError).line).toBe(4);
    expect(fs.readFileSync(storage.file)).toEqual(bytes);
  });

  it('a damaged run record is refused: it never resets term and vote', () => {
    const dir = tempDir();
    const storage = open(dir);
    storage.load();
    storage.write([{ kind: 'hardState', term: 7, votedFor: 'n2' }]);
    storage.close();
    const bytes = fs.readFileSync(storage.file);
    const runLineStart = bytes.indexOf(0x0a) + 1;
    bytes[runLineStart + 15] = (bytes[runLineStart + 15] as number) ^ 0x01;
    fs.writeFileSync(storage.file, bytes);
    expect(() => open(dir).load()).toThrow(/line 2/);
    // The file header itself damaged: refused too.
    const again = fs.readFileSync(storage.file);
    again[3] = (again[3] as number) ^ 0x01;
    again[runLineStart + 15] = (again[runLineStart + 15] as number) ^ 0x01;
    fs.writeFileSync(storage.file, again);
    expect(() => open(dir).load()).toThrow(/line 1/);
    expect(fs.readFileSync(storage.file)).toEqual(again);
  });

  it('refuses records of the wrong shape, with a valid checksum, naming the line', () => {
    const dir = tempDir();
    const file = path.join(dir, storageFileName('n0', '4242'));
    writeJournal(file, [{ kind: 'hardState', term: 3, votedFor: null }, { kind: 'hardState', term: 'x', votedFor: null }]);
    expect(() => open(dir).load()).toThrow(/line 4: record not understood: bad record: hardState term "x"/);
    const cases: Array<[unknown, RegExp]> = [
      [{ kind: 'append', fromIndex: 1, entries: [{ term: 1, cmd: { origin: 'n1', rid: 'a', op: { f: 'delete', key: 1 } } }] }, /unknown op/],
      [{ kind: 'append', fromIndex: 1, entries: [{ term: 1 }] }, /bad command/],
      [{ kind: 'append', fromIndex: 0, entries: [] }, /fromIndex/],
      [{ kind: 'hardState', term: 3, votedFor: 5 }, /votedFor/],
      [{ kind: 'snapshot', snapshot: { index: 1, term: 1, data: [[1]] }, entries: [] }, /pairs/],
      ['[1,2]', /not an object/],
      ['{"kind":"hardState",', /not JSON/],
      [{ kind: 'run', run: 'run-1', node: 'n0' }, /second run record/],
    ];
    for (const [record, reason] of cases) {
      writeJournal(file, [{ kind: 'hardState', term: 3, votedFor: null }, record, { kind: 'hardState', term: 3, votedFor: null }]);
      expect(() => open(dir).load(), String(reason)).toThrow(reason);
    }
  });

  it('refuses records that make no sense after the ones before them', () => {
    const dir = tempDir();
    const file = path.join(dir, storageFileName('n0', '4242'));
    const cases: Array<[unknown[], RegExp]> = [
      [[{ kind: 'hardState', term: 5, votedFor: null }, { kind: 'hardState', term: 4, votedFor: null }], /term goes down/],
      [[{ kind: 'hardState', term: 5, votedFor: 'n1' }, { kind: 'hardState', term: 5, votedFor: 'n2' }], /second vote/],
      [[{ kind: 'hardState', term: 5, votedFor: null }, { kind: 'append', fromIndex: 3, entries: [e(1, 1)] }], /does not continue/],
      [[{ kind: 'hardState', term: 1, votedFor: null }, { kind: 'append', fromIndex: 1, entries: [e(2, 1)] }], /beyond the current term/],
      [[{ kind: 'hardState', term: 3, votedFor: null }, { kind: 'append', fromIndex: 1, entries: [e(2, 1), e(1, 2)] }], /terms go down/],
    ];
    for (const [records, reason] of cases) {
      writeJournal(file, records);
      expect(() => open(dir).load(), String(reason)).toThrow(reason);
    }
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

describe('parseRecord', () => {
  it('accepts what the core writes', () => {
    const ops: PersistOp[] = [
      { kind: 'hardState', term: 1, votedFor: null },
      { kind: 'append', fromIndex: 1, entries: [e(1, 1), { term: 1, cmd: null }, { term: 1, cmd: { origin: 'n2', rid: 'c', op: { f: 'cas', key: [1], from: null, to: { a: 1 } } } }] },
      { kind: 'snapshot', snapshot: { index: 3, term: 1, data: [[1, 1], ['k', null]] }, entries: [] },
    ];
    for (const op of ops) expect(parseRecord(JSON.stringify(op))).toEqual(op);
  });
});

describe('MemoryStorage', () => {
  it('hands out copies, so a restart cannot see unpersisted changes', () => {
    const disk = new MemoryStorage();
    disk.write([{ kind: 'hardState', term: 1, votedFor: null }]);
    disk.write([{ kind: 'append', fromIndex: 1, entries: [e(1, 1)] }]);
    const loaded = disk.load();
    loaded.entries.push(e(1, 2));
    expect(disk.load().entries).toEqual([e(1, 1)]);
  });
});
