// Every workload's reply schema accepts what Maelstrom's schema accepts and refuses the rest:
// null where Maelstrom's schema has a list, never null where it has a map or an integer, no missing
// required key, no extra key (docs/protocol.md §1).
import { describe, expect, it } from 'vitest';
import { runClientOp } from '../../../test/support/workload-testing.js';
import { testOptions } from '../../../test/support/report-fixtures.js';
import { SchemaError, type Body } from '../types.js';
import type { Workload } from '../workload.js';
import type { OpSpec } from '../run/generator.js';
import { broadcastWorkload } from './broadcast.js';
import { gCounterWorkload, gSetWorkload } from './counters.js';
import { echoWorkload } from './echo.js';
import { kafkaWorkload } from './kafka.js';
import { linKvWorkload } from './lin-kv.js';
import { S, schemaProblem } from './reply-schema.js';
import { txnListAppendWorkload, txnRwRegisterWorkload } from './txn.js';
import { uniqueIdsWorkload } from './unique-ids.js';

/** The first reply is `reply`; any later request (kafka's commit) gets its plain ok. */
async function outcome(workload: Workload, op: OpSpec, reply: Body): Promise<'accepted' | 'refused'> {
  try {
    await runClientOp(workload, testOptions({ workload: workload.name }), op, (request, k) =>
      k === 0 ? reply : { type: `${String(request.type)}_ok` },
    );
    return 'accepted';
  } catch (error) {
    if (error instanceof SchemaError) return 'refused';
    throw error;
  }
}

describe('schemaProblem, with the meaning of Jepsen schema', () => {
  it('takes null for a list, not for a map, an integer or a tuple', () => {
    expect(schemaProblem(null, S.seq(S.int), 'x')).toBeUndefined();
    expect(schemaProblem(null, S.map(S.int), 'x')).toMatch(/not a map/);
    expect(schemaProblem(null, S.int, 'x')).toMatch(/not an integer/);
    expect(schemaProblem(null, S.tuple(S.int, S.any), 'x')).toMatch(/2 elements/);
    expect(schemaProblem(null, S.any, 'x')).toBeUndefined();
  });

  it('checks every element and names where it failed', () => {
    expect(schemaProblem({ a: [[1, 'm'], [2]] }, S.map(S.seq(S.tuple(S.int, S.any))), 'msgs')).toBe('msgs.a[1]: not a list of 2 elements');
    expect(schemaProblem([1, 2.5], S.seq(S.int), 'v')).toBe('v[1]: not an integer');
    expect(schemaProblem('r', S.either(S.eq('w'), S.eq('append')), 'f')).toMatch(/expected "w" or .*expected "append"/);
  });
});

describe('reply schemas per workload, as Maelstrom takes them', () => {
  const cases: Array<[string, Workload, OpSpec, Body, 'accepted' | 'refused']> = [
    ['echo: null echo', echoWorkload, { f: 'echo', value: 'x' }, { type: 'echo_ok', echo: null }, 'accepted'],
    ['echo: missing echo', echoWorkload, { f: 'echo', value: 'x' }, { type: 'echo_ok' }, 'refused'],
    ['unique-ids: null id', uniqueIdsWorkload, { f: 'generate', value: null }, { type: 'generate_ok', id: null }, 'accepted'],
    ['unique-ids: missing id', uniqueIdsWorkload, { f: 'generate', value: null }, { type: 'generate_ok' }, 'refused'],
    ['broadcast: null messages', broadcastWorkload, { f: 'read', value: null }, { type: 'read_ok', messages: null }, 'accepted'],
    ['broadcast: messages a map', broadcastWorkload, { f: 'read', value: null }, { type: 'read_ok', messages: {} }, 'refused'],
    ['broadcast: extra key', broadcastWorkload, { f: 'read', value: null }, { type: 'read_ok', messages: [], note: 1 }, 'refused'],
    ['g-set: null value', gSetWorkload, { f: 'read', value: null }, { type: 'read_ok', value: null }, 'accepted'],
    ['g-counter: null value', gCounterWorkload, { f: 'read', value: null }, { type: 'read_ok', value: null }, 'refused'],
    ['g-counter: missing value', gCounterWorkload, { f: 'read', value: null }, { type: 'read_ok' }, 'refused'],
    ['lin-kv: null value', linKvWorkload, { f: 'read', value: [0, null] }, { type: 'read_ok', value: null }, 'accepted'],
    ['lin-kv: missing value', linKvWorkload, { f: 'read', value: [0, null] }, { type: 'read_ok' }, 'refused'],
    ['kafka: a key polled as null', kafkaWorkload, { f: 'poll', value: [['poll']] }, { type: 'poll_ok', msgs: { '9': null } }, 'accepted'],
    ['kafka: msgs null', kafkaWorkload, { f: 'poll', value: [['poll']] }, { type: 'poll_ok', msgs: null }, 'refused'],
    ['kafka: a null pair', kafkaWorkload, { f: 'poll', value: [['poll']] }, { type: 'poll_ok', msgs: { '9': [null] } }, 'refused'],
    ['kafka: null offset', kafkaWorkload, { f: 'send', value: [['send', '7', 3]] }, { type: 'send_ok', offset: null }, 'refused'],
    ['txn-rw-register: null txn', txnRwRegisterWorkload, { f: 'txn', value: [['r', 1, null]] }, { type: 'txn_ok', txn: null }, 'accepted'],
    ['txn-list-append: null read', txnListAppendWorkload, { f: 'txn', value: [['r', 1, null]] }, { type: 'txn_ok', txn: [['r', 1, null]] }, 'accepted'],
    ['txn-rw-register: missing txn', txnRwRegisterWorkload, { f: 'txn', value: [['r', 1, null]] }, { type: 'txn_ok' }, 'refused'],
  ];
  for (const [name, workload, op, reply, expected] of cases) {
    it(name, async () => {
      expect(await outcome(workload, op, reply)).toBe(expected);
    });
  }

  it('a poll answered with a null list advances nothing and is recorded as said', async () => {
    const { completion } = await runClientOp(kafkaWorkload, testOptions({ workload: 'kafka' }), { f: 'poll', value: [['poll']] }, () => ({
      type: 'poll_ok',
      msgs: { '9': null },
    }));
    expect(completion).toMatchObject({ type: 'ok', value: [['poll', { '9': null }]] });
  });
});
