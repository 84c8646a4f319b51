import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRunFacts } from './run-facts.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function folderWith(results: string | undefined): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'run-facts-'));
  dirs.push(dir);
  if (results !== undefined) writeFileSync(path.join(dir, 'results.json'), results);
  return dir;
}

describe('facts only the run saw, from its results.json', () => {
  it('none from a folder without results.json, a damaged one, or one Maelstrom wrote', () => {
    expect(readRunFacts(folderWith(undefined))).toEqual({ problems: [] });
    expect(readRunFacts(folderWith('{"glomers": {"lateness": '))).toEqual({ problems: [] });
    expect(readRunFacts(folderWith(JSON.stringify({ 'valid?': true, net: {}, workload: {} })))).toEqual({ problems: [] });
  });

  it('lateness only when measured and whole; problems only of known kinds; the reason a run stopped early', () => {
    const lateness = { deliveries: 3, 'p50-ms': 0, 'p99-ms': 1, 'max-ms': 2, 'behind?': true };
    const facts = readRunFacts(
      folderWith(JSON.stringify({ glomers: { lateness, problems: [{ node: 'n0', kind: 'melted', detail: 'x' }, { node: 'n1', kind: 'bad-line', detail: 'not JSON' }], 'stopped-early': 'interrupted' } })),
    );
    expect(facts).toEqual({
      lateness: { deliveries: 3, p50Ms: 0, p99Ms: 1, maxMs: 2, behind: true },
      problems: [{ node: 'n1', kind: 'bad-line', detail: 'not JSON', stderrTail: [] }],
      stoppedEarly: 'interrupted',
    });
    expect(readRunFacts(folderWith(JSON.stringify({ glomers: { lateness: { ...lateness, 'not-measured': true } } }))).lateness).toBeUndefined();
    expect(readRunFacts(folderWith(JSON.stringify({ glomers: { lateness: { deliveries: 'many' } } }))).lateness).toBeUndefined();
    expect(readRunFacts(folderWith(JSON.stringify({ glomers: { lateness: { ...lateness, deliveries: 0 } } }))).lateness).toBeUndefined();
  });
});
