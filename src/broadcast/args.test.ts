import { describe, expect, it } from 'vitest';
import { defaultOptions, parseArgs } from './args.js';

describe('parseArgs', () => {
  it('gives the defaults with no arguments', () => {
    expect(parseArgs([])).toEqual({ kind: 'options', options: defaultOptions });
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    const parsed = parseArgs([
      '--overlay', 'star', '--hub=n3', '--fanout', '4', '--interval', '250', '--leaf-interval=0',
      '--retry', '1500', '--batch', '64', '--ack-delay', 'never',
    ]);
    expect(parsed).toEqual({
      kind: 'options',
      options: {
        overlay: { kind: 'star', hub: 'n3', fanout: 4 },
        intervalMs: 250,
        leafIntervalMs: 0,
        retryMs: 1500,
        maxBatchValues: 64,
        ackDelayMs: Number.POSITIVE_INFINITY,
      },
    });
    expect(parseArgs(['--ack-delay=300'])).toMatchObject({ options: { ackDelayMs: 300 } });
  });

  it('does not share state between calls', () => {
    parseArgs(['--fanout', '2']);
    expect(defaultOptions.overlay.fanout).toBe(24);
  });

  it('asks for help', () => {
    expect(parseArgs(['--interval', '5', '--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it('rejects bad input with a message', () => {
    for (const argv of [
      ['--overlay', 'ring'],
      ['--overlay'],
      ['--fanout', '0'],
      ['--fanout', '2.5'],
      ['--interval', '-1'],
      ['--interval', 'soon'],
      ['--retry', '0'],
      ['--batch', ''],
      ['--hub', ''],
      ['--nemesis'],
      ['extra'],
    ]) {
      const parsed = parseArgs(argv);
      expect(parsed.kind, argv.join(' ')).toBe('error');
      if (parsed.kind === 'error') expect(parsed.message.length).toBeGreaterThan(5);
    }
  });
});
