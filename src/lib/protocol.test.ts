import { describe, expect, it } from 'vitest';
import { checkEnvelope, checkFields, createLineSplitter } from './protocol.js';

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
