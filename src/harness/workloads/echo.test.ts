import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../checkers/history-builder.js';
import { SchemaError, type Body, type Rng, type TestOptions } from '../types.js';
import { checkEcho, echoWorkload } from './echo.js';

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

const opts = { nodes: ['n0'] } as unknown as TestOptions;

describe('echo workload', () => {
  it('generates "Please echo <0..127>" from the rng', () => {
    const gen = echoWorkload.generator(opts, scriptedRng([0, 127, 42]));
    expect([gen.next(0), gen.next(1), gen.next(0)]).toEqual([
      { f: 'echo', value: 'Please echo 0' },
      { f: 'echo', value: 'Please echo 127' },
      { f: 'echo', value: 'Please echo 42' },
    ]);
  });

  it('sends the payload and records the whole reply body as the ok value', () => {
    const op = { f: 'echo', value: 'Please echo 5' };
    expect(echoWorkload.request(op)).toEqual({ type: 'echo', echo: 'Please echo 5' });
    const body = { type: 'echo_ok', echo: 'Please echo 5', in_reply_to: 1, msg_id: 7 };
    expect(echoWorkload.onReply(op, body)).toEqual({ type: 'ok', value: body });
    expect(echoWorkload.rpcTimeoutMs(opts)).toBe(5000);
    expect(echoWorkload.hasFinalPhase).toBe(false);
  });

  it('rejects replies outside the closed schema', () => {
    const op = { f: 'echo', value: 'x' };
    const bad: Body[] = [
      { type: 'echo_ok', echo: 'x', in_reply_to: 1, extra: true }, // extra key
      { type: 'echo_ok', in_reply_to: 1 }, // missing echo
      { type: 'echo_okay', echo: 'x', in_reply_to: 1 }, // wrong type
      { type: 'echo_ok', echo: 'x' }, // missing in_reply_to
      { type: 'echo_ok', echo: 'x', in_reply_to: '1' } as unknown as Body, // non-integer in_reply_to
      { type: 'echo_ok', echo: 'x', in_reply_to: 1, msg_id: 1.5 }, // non-integer msg_id
    ];
    for (const body of bad) {
      expect(() => echoWorkload.onReply(op, body), JSON.stringify(body)).toThrow(SchemaError);
    }
    expect(() => echoWorkload.onReply(op, { type: 'echo_ok', echo: null, in_reply_to: 1 })).not.toThrow();
  });

  it('maps errors as Maelstrom does: definite fail, indefinite and timeouts info', () => {
    const op = { f: 'echo', value: 'x' };
    expect(echoWorkload.onError(op, 0, 'net-timeout')).toEqual({ type: 'info', value: 'x', error: 'net-timeout' });
    expect(echoWorkload.onError(op, 10, 'nope')).toEqual({ type: 'fail', value: 'x', error: ['not-supported', 'nope'] });
    expect(echoWorkload.onError(op, 13, undefined)).toEqual({ type: 'info', value: 'x', error: ['crash', null] });
    expect(echoWorkload.onError(op, 0, 'busy')).toEqual({ type: 'info', value: 'x', error: ['timeout', 'busy'] });
    expect(echoWorkload.onError(op, 1001, 'custom')).toEqual({ type: 'info', value: 'x', error: ['unknown', 'custom'] });
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
