// Broadcast challenges 3b and 3c under bin/glomers at reduced time limits, plus the node's
// command-line contract. Full 3d/3e runs live in bench/ (make compare), not here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath } from './support/spawn.js';

const store = mkdtempSync(path.join(tmpdir(), 'broadcast-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  net: { servers: { 'msgs-per-op': number } };
  workload: {
    'valid?': boolean | string;
    'lost-count': number;
    'attempt-count': number;
    'stable-count': number;
    'stable-latencies': Record<string, number>;
  };
}

function runGlomers(args: string[], nodeArgs: string[] = []): { status: number | null; results: Results; history: string } {
  const run = spawnSync(binPath('glomers'), ['test', '-w', 'broadcast', '--bin', binPath('broadcast'), '--store', store, ...args, '--', ...nodeArgs], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const latest = path.join(store, 'latest');
  const results = JSON.parse(readFileSync(path.join(latest, 'results.json'), 'utf8')) as Results;
  return { status: run.status, results, history: readFileSync(path.join(latest, 'history.jsonl'), 'utf8') };
}

describe('bin/broadcast command line', () => {
  it('--help prints usage and exits 0; a bad argument exits 2 with a message', () => {
    const help = spawnSync(binPath('broadcast'), ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--overlay');
    const bad = spawnSync(binPath('broadcast'), ['--interval', 'soon'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--interval');
  });
});

describe('broadcast under bin/glomers', () => {
  it('3b: five nodes, values everywhere within a second', () => {
    const { status, results } = runGlomers(['--node-count', '5', '--time-limit', '5', '--rate', '10', '--final-wait', '2']);
    expect(status).toBe(0);
    expect(results['valid?']).toBe(true);
    expect(results.workload['lost-count']).toBe(0);
    expect(results.workload['stable-count']).toBe(results.workload['attempt-count']);
    expect(results.workload['attempt-count']).toBeGreaterThan(5);
    expect(results.workload['stable-latencies']['1']).toBeLessThan(1000);
  });

  it('3c: five nodes under partitions lose nothing', () => {
    const { status, results, history } = runGlomers([
      '--node-count', '5', '--time-limit', '8', '--rate', '10',
      // Maelstrom's own final wait: the node's recovery bound is one retry interval (3 s) after the
      // heal, and a shorter wait left too little margin on a loaded 2-core machine.
      '--nemesis', 'partition', '--nemesis-interval', '2', '--final-wait', '10',
    ]);
    expect(history).toContain('start-partition');
    expect(status).toBe(0);
    expect(results['valid?']).toBe(true);
    expect(results.workload['lost-count']).toBe(0);
    expect(results.workload['stable-count']).toBe(results.workload['attempt-count']);
  });
});
