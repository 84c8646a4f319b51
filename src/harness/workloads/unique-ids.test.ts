import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../test/support/history-builder.js';
import { SchemaError, type Body, type Json, type TestOptions } from '../types.js';
import { checkUniqueIds, uniqueIdsWorkload } from './unique-ids.js';
import { runClientOp, specs, takeOps } from '../../../test/support/workload-testing.js';

const opts = { nodes: ['n0'], workloadOptions: {} } as unknown as TestOptions;

function idHistory(ids: Array<Json | 'timeout'>) {
  const h = historyBuilder();
  ids.forEach((id, i) => {
    h.invoke(i, 'generate', null, i);
    if (id === 'timeout') h.complete(i, 'info', 'generate', null, i, { error: 'net-timeout' });
    else h.complete(i, 'ok', 'generate', id, i);
  });
  return h.ops;
}

describe('unique-ids workload', () => {
  it('generates endless generate ops and records the id as the ok value', async () => {
    expect(specs(takeOps(uniqueIdsWorkload.generator(opts), 3, { concurrency: 2 }))).toEqual([
      { f: 'generate', value: null },
      { f: 'generate', value: null },
      { f: 'generate', value: null },
    ]);
    const op = { f: 'generate', value: null };
    const { requests, completion } = await runClientOp(uniqueIdsWorkload, opts, op, () => ({ type: 'generate_ok', id: 'n1-7', in_reply_to: 3 }));
    expect(requests).toEqual([{ type: 'generate' }]);
    expect(completion).toEqual({ type: 'ok', value: 'n1-7' });
  });

  it('requires exactly id, type, in_reply_to and an optional msg_id', async () => {
    const op = { f: 'generate', value: null };
    const reply = (body: Body) => runClientOp(uniqueIdsWorkload, opts, op, () => body);
    await expect(reply({ type: 'generate_ok', in_reply_to: 3 })).rejects.toThrow(SchemaError);
    await expect(reply({ type: 'generate_ok', id: 1, in_reply_to: 3, node: 'n1' })).rejects.toThrow(SchemaError);
    expect((await reply({ type: 'generate_ok', id: 1, in_reply_to: 3, msg_id: 9 })).completion.value).toBe(1);
  });

  it('treats timeouts as info and definite errors as fail', async () => {
    const op = { f: 'generate', value: null };
    const outcome = async (reply: Body | 'timeout') => (await runClientOp(uniqueIdsWorkload, opts, op, () => reply)).completion;
    expect(await outcome('timeout')).toEqual({ type: 'info', value: null, error: 'net-timeout' });
    expect(await outcome({ type: 'error', code: 11, text: 'partitioned' })).toEqual({
      type: 'fail',
      value: null,
      error: ['temporarily-unavailable', 'partitioned'],
    });
  });
});

describe('checkUniqueIds', () => {
  it('accepts distinct ids and reports counts and range', () => {
    expect(checkUniqueIds(idHistory([3, 1, 'timeout', 2]))).toEqual({
      'valid?': true,
      'attempted-count': 4,
      'acknowledged-count': 3,
      'duplicated-count': 0,
      duplicated: {},
      range: [1, 3],
    });
  });

  it('rejects a duplicated id and lists it with its count', () => {
    expect(checkUniqueIds(idHistory([5, 6, 5, 5, 6, 7]))).toMatchObject({
      'valid?': false,
      'duplicated-count': 2,
      duplicated: { '5': 3, '6': 2 },
      range: [5, 7],
    });
  });

  it('does not treat 1 and "1" as duplicates (their range cannot be ordered, so Jepsen says unknown)', () => {
    const mixed = checkUniqueIds(idHistory([1, '1']));
    expect(mixed['valid?']).toBe('unknown');
    expect(String(mixed.error)).toMatch(/compare/);
    expect(checkUniqueIds(idHistory(['1', '1']))).toMatchObject({ 'valid?': false, duplicated: { '1': 2 } });
    expect(checkUniqueIds(idHistory([1, 1]))).toMatchObject({ 'valid?': false, duplicated: { '1': 2 } });
  });

  it('compares compound ids by value', () => {
    expect(checkUniqueIds(idHistory([[1, 2], [2, 1]]))).toMatchObject({ 'valid?': true, range: [[1, 2], [2, 1]] });
    expect(checkUniqueIds(idHistory([[1, 2], [1, 2]]))).toMatchObject({
      'valid?': false,
      'duplicated-count': 1,
      duplicated: { '[1,2]': 2 },
    });
  });

  it('orders string ids for the range', () => {
    expect(checkUniqueIds(idHistory(['n1-2', 'n0-9', 'n1-10'])).range).toEqual(['n0-9', 'n1-2']);
  });

  it('lists only the 48 most frequent duplicates', () => {
    const ids: number[] = [];
    for (let id = 0; id < 50; id++) ids.push(id, id);
    ids.push(0, 49); // 0 and 49 appear three times
    const r = checkUniqueIds(idHistory(ids));
    expect(r['duplicated-count']).toBe(50);
    const shown = r.duplicated as Record<string, number>;
    expect(Object.keys(shown)).toHaveLength(48);
    expect(shown['0']).toBe(3);
    expect(shown['49']).toBe(3);
    // among the ties at 2, the larger ids win the remaining 46 places
    expect(shown['1']).toBeUndefined();
    expect(shown['2']).toBeUndefined();
    expect(shown['3']).toBe(2);
  });

  it('is unknown when ids of unrelated types cannot be ordered', () => {
    expect(checkUniqueIds(idHistory([1, 'a']))['valid?']).toBe('unknown');
  });
});
