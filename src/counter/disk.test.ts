import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableFileError } from '../lib/durable.js';
import { decodeLocal, localFilePath, MAX_RECORDS, openLocal } from './disk.js';

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
  it('a missing file is a fresh start; the last record wins after a reopen', () => {
    const file = localFilePath(tempDir(), 'tok', 'n0');
    const first = openLocal(file);
    expect(first.restored).toBeUndefined();
    first.save({ count: 5, version: 1 });
    first.save({ count: -2, version: 2 });
    first.close();
    const again = openLocal(file);
    expect(again.restored).toEqual({ count: -2, version: 2 });
    again.close();
  });

  it('stays small: past MAX_RECORDS records it is rewritten to the last one', () => {
    const file = localFilePath(tempDir(), 'tok', 'n0');
    const local = openLocal(file);
    for (let version = 1; version <= MAX_RECORDS + 5; version++) local.save({ count: version * 2, version });
    local.close();
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThan(10);
    const again = openLocal(file);
    expect(again.restored).toEqual({ count: (MAX_RECORDS + 5) * 2, version: MAX_RECORDS + 5 });
    again.close();
  });

  it('is named per run and per node, with unsafe characters replaced', () => {
    const dir = tempDir();
    expect(localFilePath(dir, 'a/b', 'n0')).toBe(path.join(dir, 'glomers-counter-a_b-n0.log'));
    expect(localFilePath(dir, 'r1', 'n0')).not.toBe(localFilePath(dir, 'r2', 'n0'));
    expect(localFilePath(dir, 'r1', 'n0')).not.toBe(localFilePath(dir, 'r1', 'n1'));
  });

  it('refuses a damaged file, naming it, and leaves it as it was', () => {
    const file = localFilePath(tempDir(), 'tok', 'n0');
    const local = openLocal(file);
    local.save({ count: 12, version: 3 });
    local.save({ count: 13, version: 4 });
    local.close();
    const good = readFileSync(file, 'utf8');
    const damaged = [
      good.replace('"count":12', '"count":19'), // a checksum no longer matches, with a record after it
      good.replace('"count":13', '"count":14') + good.split('\n')[1] + '\n', // the same, further down
      good + good.split('\n')[1] + '\n', // a record whose version goes back
      'not ours\nnor this\n', // not a record file of ours
    ];
    for (const text of damaged) {
      writeFileSync(file, text);
      expect(() => openLocal(file), JSON.stringify(text.slice(0, 60))).toThrow(DurableFileError);
      expect(() => openLocal(file)).toThrow(file);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('drops a torn last record (a crash mid-write), which was never acknowledged', () => {
    const file = localFilePath(tempDir(), 'tok', 'n0');
    const local = openLocal(file);
    local.save({ count: 12, version: 3 });
    local.close();
    appendFileSync(file, '0badc0de {"count":99,');
    const again = openLocal(file);
    expect(again.restored).toEqual({ count: 12, version: 3 });
    again.close();
  });

  it('decodes only counts that are safe integers', () => {
    expect(decodeLocal('{"count":-3,"version":7}')).toEqual({ count: -3, version: 7 });
    for (const bad of ['null', '{"count":"x","version":1}', `{"count":${2 ** 53},"version":1}`, '{"count":1,"version":-1}', '{"count":1.5,"version":1}']) {
      expect(() => decodeLocal(bad), bad).toThrow();
    }
  });
});
