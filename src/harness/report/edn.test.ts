import { describe, expect, it } from 'vitest';
import { ednKey, toEdn } from './edn.js';
import { loadReferenceResults } from '../../../test/support/report-fixtures.js';

describe('toEdn scalars and keys', () => {
  it('writes map keys as keywords and quantile keys as numbers', () => {
    expect(toEdn({ 'valid?': true, 'msgs-per-op': 2.5 })).toBe('{:valid? true, :msgs-per-op 2.5}');
    expect(toEdn({ '0': 0, '0.5': 12, '0.95': 30, '0.99': 31, '1': 40 })).toBe('{0 0, 0.5 12, 0.95 30, 0.99 31, 1 40}');
    expect(ednKey('has space')).toBe('"has space"');
    expect(ednKey('3d')).toBe('"3d"');
  });

  it('writes nil, booleans, quoted and escaped strings, vectors', () => {
    expect(toEdn(null)).toBe('nil');
    expect(toEdn({ lost: null, ok: false })).toBe('{:lost nil, :ok false}');
    expect(toEdn(['a"b', 'c\\d\n', 3])).toBe('["a\\"b" "c\\\\d\\n" 3]');
  });

  it('writes :unknown validity as a keyword and float figures with a decimal point', () => {
    expect(toEdn({ 'valid?': 'unknown' })).toBe('{:valid? :unknown}');
    expect(toEdn({ 'msgs-per-op': 4, 'ok-fraction': 1, 'msg-count': 4 })).toBe('{:msgs-per-op 4.0, :ok-fraction 1.0, :msg-count 4}');
  });

  it('writes op records with keyword type, f and nemesis process', () => {
    expect(toEdn({ index: 3, time: 9, type: 'ok', process: 'nemesis', f: 'start-partition', value: 'majority' }, 200)).toBe(
      '{:index 3, :time 9, :type :ok, :process :nemesis, :f :start-partition, :value "majority"}',
    );
    // an ordinary map with a "type" key keeps its string
    expect(toEdn({ type: 'ok' })).toBe('{:type "ok"}');
  });

  it('breaks long maps one entry per line, aligned under the first key', () => {
    const text = toEdn({ all: { 'send-count': 1000, 'recv-count': 1000, 'msg-count': 1000, 'msgs-per-op': 2.25 }, 'valid?': true }, 40);
    expect(text).toBe(
      [
        '{:all {:send-count 1000,',
        '       :recv-count 1000,',
        '       :msg-count 1000,',
        '       :msgs-per-op 2.25},',
        ' :valid? true}',
      ].join('\n'),
    );
  });
});

describe('toEdn on reference results', () => {
  for (const name of ['broadcast-gossip-partition', 'lin-kv-local', 'txn-list-append-lin-kv']) {
    it(`keeps the key forms scripts read (${name})`, () => {
      const reference = loadReferenceResults(name);
      const text = toEdn(reference);
      expect(text.startsWith('{')).toBe(true);
      expect(text).not.toMatch(/"valid\?"|"msgs-per-op"|"stable-latencies"/);
      expect(text).toMatch(/^ :valid\? (true|false),?\}?$/m);
      expect(text).toMatch(/:net \{:all \{/);
      expect(text).toMatch(/:servers\s+\{:msg-count \d+,\s+:msgs-per-op \d+\.\d+/);
      // brackets balance outside strings
      const stripped = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      for (const [open, close] of [['{', '}'], ['[', ']']] as const) {
        expect(stripped.split(open).length).toBe(stripped.split(close).length);
      }
      // nothing wider than the page unless deeply nested or a long string cannot be broken
      for (const line of text.split('\n')) {
        if (line.length > 80) expect(line).toMatch(/"[^"]{30,}"|^ {40,}/);
      }
    });
  }

  it('writes quantile keys as numbers in stable-latencies', () => {
    const text = toEdn(loadReferenceResults('broadcast-gossip-partition'));
    expect(text).toContain(':stable-latencies {0 0, 0.5 1476, 0.95 6528, 0.99 7902, 1 7902}');
    expect(text).toContain(':msgs-per-op 8.8');
  });
});

describe('toEdn on large results', () => {
  it('shows at most maxItems of a list, then how many more', () => {
    expect(toEdn({ lost: [1, 2, 3, 4, 5] }, 80, 3)).toBe('{:lost [1 2 3 "... and 2 more (results.json has them all)"]}');
    expect(toEdn({ lost: [1, 2, 3] }, 80, 3)).toBe('{:lost [1 2 3]}');
  });

  it('takes time linear in the output, however deep the nesting', () => {
    let deep: unknown = 'leaf';
    for (let k = 0; k < 2_000; k++) deep = [k, deep];
    const started = performance.now();
    const text = toEdn(deep);
    expect(text.length).toBeGreaterThan(2_000 * 2);
    // the old printer measured every subtree whole at every level: about 4 million steps here
    expect(performance.now() - started).toBeLessThan(2_000);
    const wide = { anomalies: Array.from({ length: 20_000 }, (_, k) => ({ op: { index: k, type: 'ok', f: 'txn', process: 1, time: k, value: [['r', k, k]] } })) };
    expect(toEdn(wide, 80, 100).split('\n').length).toBeLessThan(1_000);
  });
});
