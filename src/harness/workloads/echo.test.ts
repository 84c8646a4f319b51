import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../test/support/history-builder.js';
import { SchemaError, type Body, type Rng, type TestOptions } from '../types.js';
import { checkEcho, echoWorkload } from './echo.js';
import { runClientOp, specs, takeOps } from '../../../test/support/workload-testing.js';

function scriptedRng(ints: number[]): Rng {
  let i = 0;
  return {
    next: () => 0.5,
    int: (n: number) => {
      const v = ints[i++ % ints.length] as number;
      if (v >= n) throw new Error(`scripted ${v} out of range ${n}`);
      return v;
    },
  };
}

const opts = { nodes: ['n0'], workloadOptions: {} } as unknown as TestOptions;

describe('echo workload', () => {
  it('generates "Please echo <0..127>" from the rng', () => {
    const ops = takeOps(echoWorkload.generator(opts), 3, { rng: scriptedRng([0, 127, 42]) });
    expect(specs(ops)).toEqual([
      { f: 'echo', value: 'Please echo 0' },
      { f: 'echo', value: 'Please echo 127' },
      { f: 'echo', value: 'Please echo 42' },
    ]);
  });

  it('sends the payload and records the whole reply body as the ok value', async () => {
    const op = { f: 'echo', value: 'Please echo 5' };
    const body = { type: 'echo_ok', echo: 'Please echo 5', in_reply_to: 1, msg_id: 7 };
    const { requests, completion } = await runClientOp(echoWorkload, opts, op, () => body);
    expect(requests).toEqual([{ type: 'echo', echo: 'Please echo 5' }]);
    expect(completion).toEqual({ type: 'ok', value: body });
    expect(echoWorkload.finalGenerator).toBeUndefined();
  });

  it('rejects replies outside the closed schema', async () => {
    const op = { f: 'echo', value: 'x' };
    const bad: Body[] = [
      { type: 'echo_ok', echo: 'x', in_reply_to: 1, extra: true }, // extra key
      { type: 'echo_ok', in_reply_to: 1 }, // missing echo
      { type: 'echo_okay', echo: 'x', in_reply_to: 1 }, // wrong type
      { type: 'echo_ok', echo: 'x', in_reply_to: '1' } as unknown as Body, // non-integer in_reply_to
      { type: 'echo_ok', echo: 'x', in_reply_to: 1, msg_id: 1.5 }, // non-integer msg_id
    ];
    for (const body of bad) {
      await expect(runClientOp(echoWorkload, opts, op, () => body), JSON.stringify(body)).rejects.toThrow(SchemaError);
    }
    await expect(runClientOp(echoWorkload, opts, op, () => ({ type: 'echo_ok', echo: null, in_reply_to: 1 }))).resolves.toBeDefined();
  });

  it('maps errors as Maelstrom does: definite fail, indefinite and timeouts info', async () => {
    const op = { f: 'echo', value: 'x' };
    const outcome = async (reply: Body | 'timeout') => (await runClientOp(echoWorkload, opts, op, () => reply)).completion;
    const error = (code: number, text?: string): Body => ({ type: 'error', code, ...(text === undefined ? {} : { text }) });
    expect(await outcome('timeout')).toEqual({ type: 'info', value: 'x', error: 'net-timeout' });
    expect(await outcome(error(10, 'nope'))).toEqual({ type: 'fail', value: 'x', error: ['not-supported', 'nope'] });
    expect(await outcome(error(13))).toEqual({ type: 'info', value: 'x', error: ['crash', null] });
    expect(await outcome(error(0, 'busy'))).toEqual({ type: 'info', value: 'x', error: ['timeout', 'busy'] });
    expect(await outcome(error(1001, 'custom'))).toEqual({ type: 'info', value: 'x', error: ['unknown', 'custom'] });
  });
});

describe('checkEcho', () => {
  it('flags an ok reply carrying a different payload', () => {
    const h = historyBuilder();
    h.invoke(0, 'echo', 'Please echo 1', 0);
    h.complete(0, 'ok', 'echo', { type: 'echo_ok', echo: 'Please echo 1', in_reply_to: 1 }, 1);
    h.invoke(0, 'echo', 'Please echo 2', 2);
    const wrong = { type: 'echo_ok', echo: 'Please echo 3', in_reply_to: 2 };
    h.complete(0, 'ok', 'echo', wrong, 3);
    expect(checkEcho(h.ops)).toEqual({
      'valid?': false,
      errors: [['Expected a message with :echo', 'Please echo 2', 'But received', wrong]],
    });
  });

  it('ignores operations that timed out, and accepts a clean history', () => {
    const h = historyBuilder();
    h.invoke(0, 'echo', 'Please echo 1', 0);
    h.complete(0, 'info', 'echo', 'Please echo 1', 1, { error: 'net-timeout' });
    h.nemesis('start-partition', 'one', 2);
    h.invoke(1, 'echo', 'Please echo 2', 3);
    h.complete(1, 'ok', 'echo', { type: 'echo_ok', echo: 'Please echo 2', in_reply_to: 1 }, 4);
    h.invoke(2, 'echo', 'Please echo 9', 5); // never completes
    expect(checkEcho(h.ops)).toEqual({ 'valid?': true, errors: [] });
  });

  it('counts a failed echo as an error, since its value carries no echo', () => {
    const h = historyBuilder();
    h.invoke(0, 'echo', 'Please echo 1', 0);
    h.complete(0, 'fail', 'echo', 'Please echo 1', 1, { error: ['not-supported', null] });
    const r = checkEcho(h.ops);
    expect(r['valid?']).toBe(false);
    expect(r.errors).toEqual([['Expected a message with :echo', 'Please echo 1', 'But received', 'Please echo 1']]);
  });

  it('compares parsed values: a number is not the string it prints as', () => {
    const h = historyBuilder();
    h.invoke(0, 'echo', '12', 0);
    h.complete(0, 'ok', 'echo', { type: 'echo_ok', echo: 12, in_reply_to: 1 }, 1);
    expect(checkEcho(h.ops)['valid?']).toBe(false);
  });
});
