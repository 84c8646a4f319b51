import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';
import { defaultCrdtConfig } from './crdt.js';
import { defaultCounterOptions } from './server.js';

describe('counter args', () => {
  it('defaults with no arguments: kv mode', () => {
    expect(parseArgs([])).toEqual({ kind: 'options', options: { mode: 'kv', options: defaultCounterOptions } });
  });

  it('reads every kv/disk flag', () => {
    const parsed = parseArgs(['--durability', 'disk', '--data-dir', '/x', '--flush', '250', '--gossip', '300', '--keepalive', '900', '--kv-timeout', '700']);
    expect(parsed).toEqual({
      kind: 'options',
      options: { mode: 'disk', options: { ...defaultCounterOptions, durability: 'disk', dataDir: '/x', flushMs: 250, gossipMs: 300, keepaliveMs: 900, kvTimeoutMs: 700 } },
    });
  });

  it('memory mode and its flags', () => {
    expect(parseArgs(['--durability=memory', '--round', '1500', '--retry', '3000'])).toEqual({
      kind: 'options',
      options: { mode: 'memory', config: { ...defaultCrdtConfig, roundMs: 1500, retryMs: 3000 } },
    });
  });

  it('rejects unknown flags, bad modes, non-positive intervals and stray arguments', () => {
    for (const argv of [['--nope'], ['--durability', 'ram'], ['--flush', '0'], ['--flush'], ['--gossip', 'x'], ['--data-dir'], ['--data-dir', ''], ['extra']]) {
      expect(parseArgs(argv).kind, argv.join(' ')).toBe('error');
    }
    expect(parseArgs(['-h']).kind).toBe('help');
  });
});
