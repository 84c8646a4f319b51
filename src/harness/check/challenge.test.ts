// --challenge: the command line must be the challenge's (docs/protocol.md §8), and the run is graded
// against the challenge's published limits.
import { describe, expect, it } from 'vitest';
import { parseTestArgs } from '../cli/cli.js';
import type { CheckResult, TestOptions } from '../types.js';
import { CHALLENGES, challengeMismatch, challengeSummaryLine, gradeChallenge } from './challenge.js';

function optsOf(line: string): TestOptions {
  const parsed = parseTestArgs(line.split(' '));
  if (parsed.kind !== 'test') throw new Error('expected a test command');
  return parsed.opts;
}

const figures = (msgsPerOp: number | null, medianMs: number, maxMs: number): { net: CheckResult; workload: CheckResult } => ({
  net: { 'valid?': true, servers: msgsPerOp === null ? {} : { 'msgs-per-op': msgsPerOp } },
  workload: { 'valid?': true, 'stable-latencies': { '0.5': medianMs, '1': maxMs } },
});

describe('--challenge command lines', () => {
  it('accepts every challenge its own line, with free flags (seed, store, node args) added', () => {
    for (const [name, challenge] of Object.entries(CHALLENGES)) {
      for (const line of challenge.lines) expect(challengeMismatch(name, optsOf(line.replace('B', 'my-node'))), `${name}: ${line}`).toBeUndefined();
    }
    expect(challengeMismatch('3d', optsOf(`${CHALLENGES['3d']?.lines[0]} --seed 4 --store s --log-stderr -- --fanout 3`))).toBeUndefined();
  });

  it('refuses another line, saying the expected one and what differs', () => {
    const problem = challengeMismatch('3d', optsOf('-w broadcast --bin n --node-count 25 --time-limit 20 --rate 10 --latency 100'));
    expect(problem).toContain('glomers test -w broadcast --bin n --node-count 25 --time-limit 20 --rate 100 --latency 100');
    expect(problem).toContain('--rate 10, expected 100');
    expect(challengeMismatch('3c', optsOf('-w broadcast --bin n --node-count 5 --time-limit 20 --rate 10'))).toContain('--nemesis none, expected partition');
    expect(challengeMismatch('3z', optsOf('-w echo --bin n'))).toMatch(/--challenge takes one of 1, 2, 3a/);
  });

  it('takes either of 6b\'s two lines', () => {
    for (const line of CHALLENGES['6b']?.lines ?? []) expect(challengeMismatch('6b', optsOf(line))).toBeUndefined();
  });
});

describe('grading', () => {
  it('3d within its limits', () => {
    const grade = gradeChallenge('3d', figures(24.5, 350, 590));
    expect(grade['valid?']).toBe(true);
    expect(challengeSummaryLine(grade)).toBe(
      'Challenge 3d: within its limits: msgs-per-op 24.5 (limit < 30), stable-latency-median-ms 350 (limit < 400), stable-latency-max-ms 590 (limit < 600).',
    );
  });

  it('a missed limit is invalid, and the line says which and by how much; a limit is strict', () => {
    const grade = gradeChallenge('3e', figures(20, 900, 2500.5));
    expect(grade['valid?']).toBe(false);
    expect(challengeSummaryLine(grade)).toBe('Challenge 3e: MISSED msgs-per-op 20 (limit < 20, over by 0), stable-latency-max-ms 2500.5 (limit < 2000, over by 500.5).');
  });

  it('a figure the run did not produce grades unknown; a challenge without limits needs only a valid run', () => {
    expect(gradeChallenge('3d', figures(null, 1, 1))['valid?']).toBe('unknown');
    const grade = gradeChallenge('2', figures(null, 1, 1));
    expect(grade).toEqual({ name: '2', 'valid?': true, limits: [] });
    expect(challengeSummaryLine(grade)).toBe('Challenge 2: no limits beyond a valid run.');
  });
});
