import { describe, expect, it } from 'vitest';
import { defaultOptions, parseArgs } from './args.js';

describe('raft args', () => {
  it('defaults with no flags, and reads every numeric flag', () => {
    expect(parseArgs([])).toEqual({ kind: 'options', options: defaultOptions });
    const parsed = parseArgs(['--heartbeat', '100', '--election-min', '300', '--election-max', '600', '--heard-window', '400', '--no-fsync', '--dir', '/x', '--run-id', 'r1']);
    expect(parsed.kind).toBe('options');
    if (parsed.kind !== 'options') return;
    expect(parsed.options.timings).toMatchObject({ heartbeatMs: 100, electionMinMs: 300, electionMaxMs: 600, heardWindowMs: 400 });
    expect(parsed.options).toMatchObject({ fsync: false, dir: '/x', runId: 'r1' });
  });

  it('rejects bad values and inconsistent timings', () => {
    expect(parseArgs(['--heartbeat', 'x']).kind).toBe('error');
    expect(parseArgs(['--tick']).kind).toBe('error');
    expect(parseArgs(['--bogus']).kind).toBe('error');
    expect(parseArgs(['--election-min', '400', '--election-max', '300']).kind).toBe('error');
    expect(parseArgs(['--heartbeat', '200']).kind).toBe('error');
    expect(parseArgs(['--help']).kind).toBe('help');
  });
});
