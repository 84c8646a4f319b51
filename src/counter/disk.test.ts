import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLocal, localFilePath, saveLocal } from './disk.js';

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

  it('treats an unreadable file as absent', () => {
    const file = localFilePath(tempDir(), 'tok', 'n0');
    writeFileSync(file, '{"count": "x"}');
    expect(loadLocal(file)).toBeUndefined();
    writeFileSync(file, 'not json');
    expect(loadLocal(file)).toBeUndefined();
  });
});
