import { describe, expect, it } from 'vitest';
import {
  MAX_JSON_DEPTH,
  jsonLength,
  checkEnvelope,
  checkFields,
  createLineSplitter,
  jsonDepthExceeds,
  lineMayBeTooDeep,
  previewJson,
} from './protocol.js';

function split(chunks: string[], maxLineBytes = 1024) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const splitter = createLineSplitter((line) => lines.push(line), (bytes) => overflows.push(bytes), maxLineBytes);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return { lines, overflows };
}

describe('createLineSplitter', () => {
  it('joins lines split across chunks and skips blank lines', () => {
    expect(split(['{"a"', ':1}\n\n{"b":2}\n{"c"', ':3}']).lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('drops an overlong line whole, including its tail after the overflow, and keeps the next', () => {
    const { lines, overflows } = split(['short\n', 'x'.repeat(8), 'y'.repeat(8), 'z'.repeat(8), 'tail\nnext\n'], 10);
    expect(lines).toEqual(['short', 'next']);
    expect(overflows).toHaveLength(1);
  });
});

describe('checkFields', () => {
  it('checks kinds and optional fields', () => {
    const spec = { n: 'integer', s: 'string?', a: 'array', o: 'object', x: 'any' } as const;
    expect(checkFields({ type: 't', n: 1, a: [], o: {}, x: null }, spec)).toBeUndefined();
    expect(checkFields({ type: 't', n: 1.5, a: [], o: {}, x: 0 }, spec)).toMatch(/'n' must be an integer/);
    expect(checkFields({ type: 't', n: 1, a: {}, o: {}, x: 0 }, spec)).toMatch(/'a' must be an array/);
    expect(checkFields({ type: 't', n: 1, a: [], o: [], x: 0 }, spec)).toMatch(/'o' must be an object/);
    expect(checkFields({ type: 't', n: 1, a: [], o: {}, x: 0, s: 2 }, spec)).toMatch(/'s' must be a string/);
    expect(checkFields({ type: 't', n: 1, a: [], o: {} }, spec)).toMatch(/missing required field 'x'/);
  });
});

describe('checkEnvelope', () => {
  it('accepts a message with an id and rejects what is not one', () => {
    expect(checkEnvelope({ id: 3, src: 'c1', dest: 'n0', body: { type: 'echo' } })).toBeUndefined();
    expect(checkEnvelope([1])).toMatch(/not a JSON object/);
    expect(checkEnvelope({ src: 'c1', dest: 'n0', body: {} })).toMatch(/type/);
    expect(checkEnvelope({ src: 1, dest: 'n0', body: { type: 'x' } })).toMatch(/src/);
  });
});

describe('createLineSplitter, fuzzed', () => {
  // A small deterministic generator, so a failure replays.
  function rng(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
  }

  it('gives the same lines as a plain split for any chunking, and flags exactly the overlong ones', () => {
    const random = rng(42);
    for (let round = 0; round < 300; round++) {
      const maxLineBytes = 1 + Math.floor(random() * 40);
      const lineCount = Math.floor(random() * 12);
      const lines = Array.from({ length: lineCount }, () => 'abcé'.repeat(Math.floor(random() * 15)).slice(0, Math.floor(random() * 60)));
      const text = lines.join('\n') + (random() < 0.5 ? '\n' : '');
      const chunks: string[] = [];
      for (let at = 0; at < text.length; ) {
        const size = 1 + Math.floor(random() * 20);
        chunks.push(text.slice(at, at + size));
        at += size;
      }
      const expected = lines.filter((line) => line.length > 0 && line.length <= maxLineBytes);
      const expectedOverflows = lines.filter((line) => line.length > maxLineBytes).length;
      const got = split(chunks, maxLineBytes);
      expect(got.lines).toEqual(expected);
      expect(got.overflows).toHaveLength(expectedOverflows);
      for (const bytes of got.overflows) expect(bytes).toBeGreaterThan(maxLineBytes);
    }
  });

  it('flags an overlong line while it arrives, before its newline, and holds at most the bound', () => {
    const overflows: number[] = [];
    const lines: string[] = [];
    const splitter = createLineSplitter((line) => lines.push(line), (bytes) => overflows.push(bytes), 1000);
    for (let k = 0; k < 50; k++) splitter.push('x'.repeat(100));
    expect(overflows).toEqual([1100]);
    splitter.push('y\nnext\n');
    expect(lines).toEqual(['next']);
  });

  it('handles a 20 MB line in 64 KB chunks in well under a second (linear, not quadratic)', () => {
    const lines: string[] = [];
    const splitter = createLineSplitter((line) => lines.push(line), () => {}, 64 * 1024 * 1024);
    const chunk = 'z'.repeat(64 * 1024);
    const started = performance.now();
    for (let k = 0; k < 320; k++) splitter.push(chunk);
    splitter.push('\n');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(lines[0]?.length).toBe(320 * 64 * 1024);
  });
});

describe('depth and previews', () => {
  const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

  it('jsonDepthExceeds counts levels of arrays and objects without recursion', () => {
    expect(jsonDepthExceeds(1, 0)).toBe(false);
    expect(jsonDepthExceeds([], 1)).toBe(false);
    expect(jsonDepthExceeds([[]], 1)).toBe(true);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: {} }] }, 3)).toBe(true);
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDepthExceeds(nested(200_000))).toBe(true);
    // the cheap pre-filter never lets a too-deep line through
    const text = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    expect(lineMayBeTooDeep(text.length)).toBe(true);
    expect(lineMayBeTooDeep(2 * MAX_JSON_DEPTH + 1)).toBe(false);
  });

  it('previewJson is bounded and never throws', () => {
    expect(previewJson({ a: [1, 'x', null, true] })).toBe('{"a":[1,"x",null,true]}');
    expect(previewJson(Infinity)).toBe('Infinity (not JSON)');
    expect(previewJson('x'.repeat(10_000)).length).toBeLessThanOrEqual(201);
    expect(previewJson(Array.from({ length: 100_000 }, (_, k) => k)).length).toBeLessThanOrEqual(201);
    expect(previewJson(nested(100_000))).toMatch(/\[…\]/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(previewJson(cyclic)).toContain('{…}');
    expect(previewJson(10n)).toBe('(bigint)');
  });

  it('integer means a safe integer, number a finite one, and the error text is bounded', () => {
    expect(checkFields({ type: 't', n: 2 ** 53 - 1 }, { n: 'integer' })).toBeUndefined();
    expect(checkFields({ type: 't', n: 2 ** 53 }, { n: 'integer' })).toMatch(/must be an integer \(a safe one/);
    expect(checkFields({ type: 't', n: 1e400 }, { n: 'integer' })).toMatch(/safe one.*got Infinity/);
    expect(checkFields({ type: 't', n: 1e400 }, { n: 'number' })).toMatch(/finite one/);
    expect(checkFields({ type: 't', n: -(2 ** 53) }, { n: 'integer' })).toMatch(/must be an integer \(a safe one/);
    const text = checkFields({ type: 't', n: 'v'.repeat(1_000_000) }, { n: 'integer' }) ?? '';
    expect(text.length).toBeLessThan(400);
    expect(checkFields({ type: 't', n: nested(50_000) as never }, { n: 'integer' })).toMatch(/got \[/);
  });
});

describe('jsonLength', () => {
  it('is the length of the JSON text', () => {
    for (const value of [0, -1.5e-300, 'a"b', null, true, [1, 'x'], { k: [null] }]) expect(jsonLength(value)).toBe(JSON.stringify(value).length);
  });
});
