import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32, DurableFileError, DurableWriteError, encodeRecord, groupCommit, openRecordFile, tableCrc32, type DurableFs } from './durable.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'durable-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(file: string, options: Parameters<typeof openRecordFile>[1] = {}): { records: string[]; dropped: number } {
  const records: string[] = [];
  const handle = openRecordFile(file, { ...options, onRecord: (payload) => records.push(payload) });
  const dropped = handle.droppedTailBytes;
  handle.close();
  return { records, dropped };
}

function writeRecords(file: string, payloads: string[]): void {
  const handle = openRecordFile(file);
  handle.append(payloads);
  handle.close();
}

function flipBit(bytes: Buffer, at: number): void {
  bytes[at] = bytes[at]! ^ 0x01;
}

/** node:fs with writeSync replaced. */
function fsWithWrite(write: DurableFs['writeSync']): DurableFs {
  return { ...(fs as DurableFs), writeSync: write };
}

describe('crc32', () => {
  it('our table agrees with the known check value and with zlib where present', () => {
    const check = Buffer.from('123456789');
    expect(tableCrc32(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    const random = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
    expect(tableCrc32(random)).toBe(crc32(random));
  });
});

describe('openRecordFile', () => {
  it('round-trips records across reopenings, unicode included', () => {
    const file = path.join(dir, 'a.log');
    writeRecords(file, ['one', '{"k":"ü€"}']);
    writeRecords(file, ['three']);
    expect(load(file)).toEqual({ records: ['one', '{"k":"ü€"}', 'three'], dropped: 0 });
  });

  it('drops a record cut short at the end and appends after what is valid', () => {
    const file = path.join(dir, 'torn.log');
    writeRecords(file, ['a', 'b', 'c']);
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 3));
    const handle = openRecordFile(file);
    expect(handle.droppedTailBytes).toBe(encodeRecord('c').length - 3);
    handle.append(['d']);
    handle.close();
    expect(load(file).records).toEqual(['a', 'b', 'd']);
  });

  it('drops a last record whose checksum fails, and a NUL-filled tail', () => {
    const file = path.join(dir, 'tail.log');
    writeRecords(file, ['a', 'b', 'c']);
    const bytes = readFileSync(file);
    flipBit(bytes, bytes.length - 2);
    writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(100)]));
    expect(load(file).records).toEqual(['a', 'b']);
    expect(readFileSync(file).length).toBe(bytes.length - encodeRecord('c').length);
  });

  it('refuses a flipped byte mid-file with the file and line, and leaves the file untouched', () => {
    const file = path.join(dir, 'damaged.log');
    writeRecords(file, Array.from({ length: 100 }, (_, i) => `record ${i}`));
    const bytes = readFileSync(file);
    const at = bytes.indexOf('record 50');
    flipBit(bytes, at + 3);
    writeFileSync(file, bytes);
    let caught: unknown;
    try {
      openRecordFile(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DurableFileError);
    // Line 1 is the header, so record 50 is line 52.
    expect((caught as DurableFileError).message).toContain(`${file}: line 52: checksum mismatch`);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('refuses a damaged header when records follow it', () => {
    const file = path.join(dir, 'header.log');
    writeRecords(file, ['a', 'b']);
    const bytes = readFileSync(file);
    flipBit(bytes, 12);
    writeFileSync(file, bytes);
    expect(() => openRecordFile(file)).toThrow(/line 1: checksum mismatch/);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('refuses a file that is not ours, and a record its reader cannot decode', () => {
    const file = path.join(dir, 'foreign.log');
    writeFileSync(file, '["e","k",0,1]\n["e","k",1,2]\n');
    expect(() => openRecordFile(file)).toThrow(/line 1: not a record line, and more data follows/);
    const other = path.join(dir, 'other.log');
    writeRecords(other, ['good', 'bad']);
    expect(() =>
      openRecordFile(other, {
        onRecord: (payload) => {
          if (payload === 'bad') throw new Error('no');
        },
      }),
    ).toThrow(/line 3: record not understood: no/);
  });

  it('refuses an overlong line in the middle without reading it whole', () => {
    const file = path.join(dir, 'long.log');
    writeRecords(file, ['x'.repeat(5000), 'after']);
    expect(() => openRecordFile(file, { maxRecordBytes: 1000, readChunkBytes: 256 })).toThrow(/line 2: line longer than 1010 bytes/);
  });

  it('completes short writes by looping, and a write that stops fails the caller and leaves no trace', () => {
    const file = path.join(dir, 'short.log');
    const halves = fsWithWrite((fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, Math.max(1, length >> 1), position));
    const handle = openRecordFile(file, { fs: halves });
    handle.append(['abcdefghij', 'klmnop']);
    handle.close();
    expect(load(file).records).toEqual(['abcdefghij', 'klmnop']);

    let calls = 0;
    const stalls = fsWithWrite((fd, buffer, offset, length, position) => {
      calls += 1;
      return calls === 1 ? fs.writeSync(fd, buffer, offset, 5, position) : 0;
    });
    const stalled = openRecordFile(file, { fs: stalls });
    expect(() => stalled.append(['qrstuvwxyz'])).toThrow(DurableWriteError);
    stalled.close();
    expect(load(file)).toEqual({ records: ['abcdefghij', 'klmnop'], dropped: 0 });
  });

  it('fails on ENOSPC mid-buffer, cuts the partial bytes off, and keeps working afterwards', () => {
    const file = path.join(dir, 'enospc.log');
    let full = false;
    const flaky = fsWithWrite((fd, buffer, offset, length, position) => {
      if (!full) return fs.writeSync(fd, buffer, offset, length, position);
      if (length > 8) return fs.writeSync(fd, buffer, offset, 8, position);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    const handle = openRecordFile(file, { fs: flaky });
    handle.append(['first']);
    const sizeBytes = handle.sizeBytes;
    full = true;
    expect(() => handle.append(['second record'])).toThrow(/ENOSPC/);
    expect(handle.sizeBytes).toBe(sizeBytes);
    expect(readFileSync(file).length).toBe(sizeBytes);
    full = false;
    handle.append(['third']);
    handle.close();
    expect(load(file).records).toEqual(['first', 'third']);
  });

  it('fsyncs only when something was written since the last fsync', () => {
    const file = path.join(dir, 'lazy.log');
    let fsyncs = 0;
    const counting: DurableFs = {
      ...(fs as DurableFs),
      fsyncSync: (fd) => {
        fsyncs += 1;
        fs.fsyncSync(fd);
      },
    };
    writeRecords(file, []);
    const handle = openRecordFile(file, { fs: counting });
    handle.sync();
    expect(fsyncs).toBe(1);
    handle.sync();
    expect(fsyncs).toBe(1);
    handle.append(['a']);
    handle.sync();
    expect(fsyncs).toBe(2);
    handle.close();
  });

  it('refuses every write after a failed fsync', () => {
    const file = path.join(dir, 'fsync.log');
    const broken: DurableFs = {
      ...(fs as DurableFs),
      fsyncSync: () => {
        throw new Error('EIO');
      },
    };
    // Creating the file fsyncs its directory, so create it first with the real fs.
    writeRecords(file, []);
    const handle = openRecordFile(file, { fs: broken });
    handle.append(['a']);
    expect(() => handle.sync()).toThrow(/fsync failed: EIO/);
    expect(() => handle.append(['b'])).toThrow(/refused: an earlier write failed/);
    handle.close();
  });

  it('rewrite replaces the contents atomically and appends continue after it', () => {
    const file = path.join(dir, 'compact.log');
    const handle = openRecordFile(file);
    handle.append(['a', 'b', 'c', 'd']);
    handle.rewrite(['b', 'd']);
    expect(handle.recordCount).toBe(2);
    handle.append(['e']);
    handle.close();
    expect(load(file).records).toEqual(['b', 'd', 'e']);
    expect(fs.existsSync(`${file}.compacting`)).toBe(false);
  });

  it('a failed rewrite keeps the old file in use', () => {
    const file = path.join(dir, 'compact-fail.log');
    const noRename: DurableFs = {
      ...(fs as DurableFs),
      renameSync: () => {
        throw new Error('EXDEV');
      },
    };
    writeRecords(file, ['a', 'b']);
    const handle = openRecordFile(file, { fs: noRename });
    expect(() => handle.rewrite(['b'])).toThrow(/compaction failed, old file kept: EXDEV/);
    handle.append(['c']);
    handle.close();
    expect(load(file).records).toEqual(['a', 'b', 'c']);
  });

  it('streams a large file in bounded chunks, never reading it whole', () => {
    const file = path.join(dir, 'big.log');
    const payload = 'x'.repeat(1000);
    const handle = openRecordFile(file);
    const batch = Array.from({ length: 1000 }, () => payload);
    for (let i = 0; i < 50; i += 1) handle.append(batch);
    handle.close();
    expect(fs.statSync(file).size).toBeGreaterThan(50_000_000);
    let largestReadBytes = 0;
    const watching: DurableFs = {
      ...(fs as DurableFs),
      readSync: (fd, buffer, offset, length, position) => {
        largestReadBytes = Math.max(largestReadBytes, length);
        return fs.readSync(fd, buffer, offset, length, position);
      },
    };
    let count = 0;
    const reopened = openRecordFile(file, { fs: watching, onRecord: () => (count += 1) });
    reopened.close();
    expect(count).toBe(50_000);
    expect(largestReadBytes).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('groupCommit', () => {
  it('callers in one turn share one fsync; a failure rejects them all', async () => {
    let syncs = 0;
    let failNext = false;
    const sync = groupCommit(() => {
      syncs += 1;
      if (failNext) throw new Error('EIO');
    });
    await Promise.all([sync(), sync(), sync()]);
    expect(syncs).toBe(1);
    failNext = true;
    const results = await Promise.allSettled([sync(), sync()]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(syncs).toBe(2);
  });
});
