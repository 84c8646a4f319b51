import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, loadLocal, localFilePath, saveLocal } from './disk.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'counter-disk-'));
  dirs.push(dir);
  return dir;
}

describe('local file', () => {
  it('round-trips and replaces the count, leaving no temporary file', () => {
    const file = localFilePath(tempDir(), 'tok', 'n0');
    expect(loadLocal(file)).toBeUndefined();
    saveLocal(file, { count: 5, version: 1 });
    saveLocal(file, { count: -2, version: 2 });
    expect(loadLocal(file)).toEqual({ count: -2, version: 2 });
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
  });

  it('is named per run and per node, with unsafe characters replaced', () => {
    const dir = tempDir();
    expect(localFilePath(dir, 'a/b', 'n0')).toBe(path.join(dir, 'glomers-counter-a_b-n0.json'));
    expect(localFilePath(dir, 'r1', 'n0')).not.toBe(localFilePath(dir, 'r2', 'n0'));
    expect(localFilePath(dir, 'r1', 'n0')).not.toBe(localFilePath(dir, 'r1', 'n1'));
  });

  it('refuses a damaged file, naming it, and leaves it in place', () => {
    const file = localFilePath(tempDir(), 'tok', 'n0');
    saveLocal(file, { count: 12, version: 3 });
    const good = readFileSync(file, 'utf8');
    const damaged = [
      good.replace('"count":12', '"count":13'), // checksum no longer matches
      good.slice(0, -1), // torn: no end of line
      good.slice(0, 10),
      '{"count": "x"}\n',
      'not json\n',
      '',
      `${encodeRecord({ count: 2 ** 53, version: 1 })}`, // not a safe integer
      'x'.repeat(5000),
    ];
    for (const text of damaged) {
      writeFileSync(file, text);
      expect(() => loadLocal(file), JSON.stringify(text.slice(0, 40))).toThrow(file);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('a missing file is a fresh start; a file that cannot be read is an error', () => {
    const dir = tempDir();
    expect(loadLocal(path.join(dir, 'absent.json'))).toBeUndefined();
    expect(() => loadLocal(dir)).toThrow(/cannot be read/); // a directory: EISDIR
  });

  it('decodes only what it encoded', () => {
    const record = { count: -Number.MAX_SAFE_INTEGER, version: 7 };
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
    expect(decodeRecord('null\n')).toBe('not a record');
  });
});
