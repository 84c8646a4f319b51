import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLineFile } from './line-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempFile = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'line-file-'));
  dirs.push(dir);
  return path.join(dir, 'out.jsonl');
};

describe('line file', () => {
  it('keeps every line in order across flushes, whatever their length and characters', () => {
    const file = tempFile();
    const lines: string[] = [];
    for (let k = 0; k < 30_000; k++) lines.push(JSON.stringify({ k, text: k % 7 === 0 ? 'é✓😀'.repeat(k % 50) : 'x'.repeat(k % 90) }));
    lines.push('y'.repeat(3 << 20)); // longer than the buffer
    lines.push('after the long one');
    const out = createLineFile(file, 'a test file');
    for (const line of lines) out.append(line);
    out.close();
    expect(readFileSync(file, 'utf8')).toBe(lines.map((line) => `${line}\n`).join(''));
  });
});
