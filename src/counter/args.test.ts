import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';
import { defaultCounterOptions } from './server.js';

describe('counter args', () => {
  it('defaults with no arguments', () => {
    expect(parseArgs([])).toEqual({ kind: 'options', options: defaultCounterOptions });
  });

  it('reads every flag', () => {
    const parsed = parseArgs(['--durability', 'disk', '--data-dir', '/x', '--flush', '250', '--gossip', '300', '--keepalive', '900', '--kv-timeout', '700']);
    expect(parsed).toEqual({
      kind: 'options',
      options: { ...defaultCounterOptions, durability: 'disk', dataDir: '/x', flushMs: 250, gossipMs: 300, keepaliveMs: 900, kvTimeoutMs: 700 },
    });
  });

  it('rejects unknown flags, bad modes and non-positive intervals', () => {
    for (const argv of [['--nope'], ['--durability', 'ram'], ['--flush', '0'], ['--flush'], ['--gossip', 'x'], ['--data-dir']]) {
      expect(parseArgs(argv).kind).toBe('error');
    }
    expect(parseArgs(['-h']).kind).toBe('help');
  });
});
