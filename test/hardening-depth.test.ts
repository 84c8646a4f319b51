// Whatever the supervisor accepts from a node (nesting up to MAX_JSON_DEPTH, see checkLine) must be
// safe for every recursive walk the harness applies to node-supplied values downstream.
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../src/lib/protocol.js';
import { compareValues, jsonEqual, valueKey } from '../src/harness/check/checkers/json-values.js';
import { toEdn } from '../src/harness/report/edn.js';
import { checkLine } from '../src/harness/nodes/process.js';
import type { Json } from '../src/harness/types.js';

function nested(depth: number, leaf: Json): Json {
  let value: Json = leaf;
  for (let k = 0; k < depth; k++) value = k % 2 === 0 ? [value] : { k: value };
  return value;
}

describe('values as deep as the supervisor lets through', () => {
  // envelope and body take two levels of the line's depth
  const deepest = nested(MAX_JSON_DEPTH - 2, 1);
  const line = JSON.stringify({ src: 'n0', dest: 'c1', body: { type: 'read_ok', value: deepest } });

  it('are accepted by checkLine, and one level more is not', () => {
    expect(checkLine(line, () => true).ok).toBe(true);
    const deeper = JSON.stringify({ src: 'n0', dest: 'c1', body: { type: 'read_ok', value: [deepest] } });
    expect(checkLine(deeper, () => true).ok).toBe(false);
  });

  it('go through JSON, the checkers value helpers and the EDN writer without overflowing', () => {
    const copy = JSON.parse(JSON.stringify(deepest)) as Json;
    expect(jsonEqual(deepest, copy)).toBe(true);
    expect(valueKey(deepest)).toEqual(valueKey(copy));
    // compareValues orders arrays and scalars (maps are incomparable by design)
    const deepArray = JSON.parse('['.repeat(MAX_JSON_DEPTH - 2) + '1' + ']'.repeat(MAX_JSON_DEPTH - 2)) as Json;
    expect(compareValues(deepArray, JSON.parse(JSON.stringify(deepArray)) as Json)).toBe(0);
    expect(toEdn({ value: deepest }).length).toBeGreaterThan(MAX_JSON_DEPTH);
  });
});
