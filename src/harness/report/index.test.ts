import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor, writeResults } from './index.js';
import { exchange, loadReferenceHistory, runOutput } from '../../../test/support/report-fixtures.js';

describe('writeResults', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'glomers-finish-'));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the four files, prints the summary and returns the exit code', async () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    const history = loadReferenceHistory('echo-demo');
    const run = runOutput(
      { storeDir: dir, history, journal: exchange('c0', 'n0', 'echo', 1) },
      { 'valid?': false, errors: ['bad echo'] },
    );
    const outcome = await writeResults(run);

    expect(outcome).toEqual({ valid: false, exitCode: 1 });
    const results = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as Record<string, unknown>;
    expect(results['valid?']).toBe(false);
    expect(results['workload']).toEqual({ 'valid?': false, errors: ['bad echo'] });
    const edn = await readFile(path.join(dir, 'results.edn'), 'utf8');
    expect(edn).toMatch(/^ :valid\? false\}\n$/m);
    const lines = (await readFile(path.join(dir, 'history.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(history.length);
    expect(JSON.parse(lines[3] as string)).toEqual(history[3]);
    expect(lines[0]).toMatch(/^\{"f":.*"index":0,"process":/); // keys sorted like the reference runs
    expect(await readFile(path.join(dir, 'report.html'), 'utf8')).toContain('<svg id="messages"');
    expect(printed.join('')).toContain('Analysis invalid!');
  });

  it('maps validity to Maelstrom exit codes', () => {
    expect(exitCodeFor(true)).toBe(0);
    expect(exitCodeFor(false)).toBe(1);
    expect(exitCodeFor('unknown')).toBe(2);
  });
});
