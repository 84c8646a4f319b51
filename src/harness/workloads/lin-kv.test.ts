import { describe, expect, it } from 'vitest';
import { checkLinKv } from '../check/checkers/linearizable.js';
import { randomRegisterHistory, withImpossibleRead } from '../check/checkers/linearizable/random-history.js';
import { MIN_PARALLEL_WORK } from '../check/parallel.js';
import { runClientOp, takeOps } from '../../../test/support/workload-testing.js';
import { linKvWorkload } from './lin-kv.js';
import type { Json, TestOptions } from '../types.js';

const opts = { nodes: ['n0', 'n1'], concurrency: 8, latencyMs: 0, workloadOptions: {} } as unknown as TestOptions;

describe('lin-kv workload', () => {
  it('hands keys to groups of 2N threads: N read, N write or cas values 0..4', () => {
    const ops = takeOps(linKvWorkload.generator(opts), 400, { concurrency: 8 });
    for (const op of ops) {
      const [key, value] = op.value as [number, Json];
      expect(key).toBe((op.thread as number) < 4 ? 0 : 1);
      if ((op.thread as number) % 4 < 2) expect(op.f).toBe('read');
      else if (op.f === 'write') expect(value as number).toBeLessThan(5);
      else expect(op.f).toBe('cas');
    }
    expect(ops.filter((op) => op.f === 'cas').length).toBeGreaterThan(ops.filter((op) => op.f === 'write').length);
  });

  it('refuses a concurrency that is not a multiple of 2N before anything starts, with Maelstrom\'s advice', () => {
    expect(linKvWorkload.validate?.({ ...opts, concurrency: 6 })).toMatch(/multiple of 4; it is 6\. Use --concurrency 2n/);
    expect(linKvWorkload.validate?.(opts)).toBeUndefined();
  });

  it('reads, writes and cas-es [key, value] tuples; reads fail on any error, cas on 22 fails, a write timeout is info', async () => {
    const read = await runClientOp(linKvWorkload, opts, { f: 'read', value: [3, null] }, () => ({ type: 'read_ok', value: 4 }));
    expect(read.requests).toEqual([{ type: 'read', key: 3 }]);
    expect(read.completion).toEqual({ type: 'ok', value: [3, 4] });
    const cas = await runClientOp(linKvWorkload, opts, { f: 'cas', value: [3, [1, 2]] }, () => ({ type: 'error', code: 22 }));
    expect(cas.requests).toEqual([{ type: 'cas', key: 3, from: 1, to: 2 }]);
    expect(cas.completion.type).toBe('fail');
    expect((await runClientOp(linKvWorkload, opts, { f: 'write', value: [3, 1] }, () => 'timeout')).completion.type).toBe('info');
    expect((await runClientOp(linKvWorkload, opts, { f: 'read', value: [3, null] }, () => 'timeout')).completion.type).toBe('fail');
  });

  it('checks keys in parallel with the same result as one after another', async () => {
    const keys = [0, 1, 2, 3];
    const valid = randomRegisterHistory({ threads: 5, ops: MIN_PARALLEL_WORK + 4000, seed: 9, keys, infoRate: 0 });
    const invalid = withImpossibleRead(valid);
    for (const history of [valid, invalid]) {
      const { workload } = await linKvWorkload.check(history, { opts, deadlineMs: Date.now() + 60_000 });
      expect(workload).toEqual(checkLinKv(history, { deadlineMs: Date.now() + 60_000 }));
    }
    expect((await linKvWorkload.check(invalid, { opts, deadlineMs: Date.now() + 60_000 })).workload['valid?']).toBe(false);
  }, 60_000);
});
