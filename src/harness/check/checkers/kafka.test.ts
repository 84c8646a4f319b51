// Hand-made kafka histories: one per error type that must be rejected, valid ones that must
// pass (sparse offsets, offsets near 2^53), and the cases where Maelstrom answers unknown.

import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../../types.js';
import { checkKafka, checkKafkaWithReport, kafkaReportData } from './kafka.js';
import { KafkaHistory } from '../../../../test/support/kafka-history.js';

type Entry = { [key: string]: Json };

function errs(result: { [key: string]: Json | undefined }, type: string): Entry[] {
  return ((result[type] as Entry).errs as Entry[]) ?? [];
}

/** p0 sends 1, 2, 3 to "a" at offsets 0, 1, 2 and p1 polls all three. */
function threeInOrder(): KafkaHistory {
  const h = new KafkaHistory();
  h.send(0, 'a', 1, 0);
  h.send(0, 'a', 2, 1);
  h.send(0, 'a', 3, 2);
  h.poll(1, { a: [[0, 1], [1, 2], [2, 3]] });
  return h;
}

describe('kafka checker: valid histories', () => {
  it('accepts a log with sparse offsets (holes are skipped by the dense index)', () => {
    const h = new KafkaHistory();
    h.send(0, 'a', 1, 0);
    h.send(0, 'a', 2, 5);
    h.send(0, 'a', 3, 1000);
    h.assign(1, ['a']);
    h.poll(1, { a: [[0, 1]] });
    h.poll(1, { a: [[5, 2], [1000, 3]] });
    const result = checkKafka(h.ops);
    expect(result).toMatchObject({ 'valid?': true, 'error-types': [], 'bad-error-types': [], 'info-txn-causes': [] });
  });

  it('analyses offsets near 2^53 in bounded time and memory (no arrays indexed by offset)', () => {
    const h = new KafkaHistory(0.001);
    const base = Number.MAX_SAFE_INTEGER - 10_000_000;
    const keys = 50;
    const perKey = 200;
    for (let key = 0; key < keys; key++) {
      for (let msg = 1; msg <= perKey; msg++) h.send(key % 4, `k${key}`, msg, base + msg * 40_000 + key);
    }
    for (let key = 0; key < keys; key++) {
      const pairs: Array<[number, Json]> = [];
      for (let msg = 1; msg <= perKey; msg++) pairs.push([base + msg * 40_000 + key, msg]);
      h.poll(5, { [`k${key}`]: pairs });
    }
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const result = checkKafka(h.ops);
    const elapsedMs = performance.now() - started;
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(result['valid?']).toBe(true);
    expect(result['error-types']).toEqual([]);
    expect(elapsedMs).toBeLessThan(5000);
    expect(heapGrowthMb).toBeLessThan(200);
  });
});

describe('kafka checker: each error type is rejected', () => {
  it('inconsistent-offsets: two messages at one offset', () => {
    const h = new KafkaHistory();
    h.send(0, 'a', 1, 0);
    h.send(1, 'a', 2, 0);
    h.poll(2, { a: [[0, 1]] });
    h.poll(3, { a: [[0, 2]] });
    const result = checkKafka(h.ops);
    expect(result['valid?']).toBe(false);
    expect(result['error-types']).toEqual(['inconsistent-offsets']);
    expect(result['inconsistent-offsets']).toEqual({ count: 1, errs: [{ key: 'a', offset: 0, index: 0, values: [1, 2] }] });
  });

  it('duplicate: one message at two offsets', () => {
    const h = new KafkaHistory();
    h.send(0, 'a', 1, 0);
    h.send(1, 'a', 1, 3);
    h.poll(2, { a: [[0, 1]] });
    h.poll(3, { a: [[3, 1]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['duplicate']);
    expect(result.duplicate).toEqual({ count: 1, errs: [{ key: 'a', value: 1, count: 2, offsets: [0, 3] }] });
  });

  it('lost-write: an acknowledged message below the highest polled offset was never polled', () => {
    const h = new KafkaHistory();
    const writer = h.send(0, 'a', 1, 0);
    h.send(0, 'a', 2, 1);
    const reader = h.poll(1, { a: [[1, 2]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['lost-write', 'unseen']);
    const [lost] = errs(result, 'lost-write');
    expect(lost).toMatchObject({ key: 'a', value: 1, index: 0, 'max-read-index': 1 });
    expect((lost!.writer as Entry).index).toBe(writer.index);
    expect((lost!['max-read'] as Entry).index).toBe(reader.index);
  });

  it('unseen: an acknowledged message no poll returned, and it is fatal', () => {
    const h = new KafkaHistory();
    h.send(0, 'a', 1, 0);
    h.send(0, 'b', 7, 0);
    h.poll(1, { a: [[0, 1]] });
    const result = checkKafka(h.ops);
    expect(result['valid?']).toBe(false);
    expect(result['bad-error-types']).toEqual(['unseen']);
    expect(result.unseen).toEqual({ time: h.ops[h.ops.length - 1]!.time, unseen: { b: 1 }, messages: { b: [7] } });
  });

  it("unseen glitch: the last ok op is a poll introducing a key that was never sent ok", () => {
    const h = new KafkaHistory();
    h.send(0, 'a', 1, 0);
    h.send(0, 'b', 7, null, 'info');
    h.poll(1, { a: [[0, 1]] });
    h.poll(1, { b: [[0, 7]] });
    const glitched = checkKafka(h.ops);
    expect(glitched['error-types']).toEqual(['unseen']);
    expect((glitched.unseen as Entry).unseen).toEqual({ b: 1 });
    h.poll(2, { a: [[0, 1]] });
    expect(checkKafka(h.ops)['error-types']).toEqual([]);
  });

  it('G1a: an ok poll returned a message whose send failed', () => {
    const h = threeInOrder();
    const failed = h.send(2, 'a', 9, null, 'fail');
    const reader = h.poll(3, { a: [[0, 1], [1, 2], [2, 3], [3, 9]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toContain('G1a');
    expect(errs(result, 'G1a')).toEqual([
      expect.objectContaining({ key: 'a', value: 9, writer: expect.objectContaining({ index: failed.index }), reader: expect.objectContaining({ index: reader.index }) }),
    ]);
  });

  it('int-poll-skip: one poll jumped over a message', () => {
    const h = threeInOrder();
    h.poll(2, { a: [[0, 1], [2, 3]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['int-poll-skip']);
    expect(errs(result, 'int-poll-skip')).toEqual([expect.objectContaining({ key: 'a', values: [1, 3], delta: 2, skipped: [2] })]);
  });

  it('int-nonmonotonic-poll: one poll went backwards', () => {
    const h = threeInOrder();
    h.poll(2, { a: [[1, 2], [0, 1]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['int-nonmonotonic-poll']);
    expect(errs(result, 'int-nonmonotonic-poll')).toEqual([expect.objectContaining({ key: 'a', values: [2, 1], delta: -1 })]);
  });

  it('poll-skip: consecutive polls of one process skipped a message', () => {
    const h = threeInOrder();
    const first = h.poll(2, { a: [[0, 1]] });
    const second = h.poll(2, { a: [[2, 3]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['poll-skip']);
    const [skip] = errs(result, 'poll-skip');
    expect(skip).toMatchObject({ key: 'a', delta: 2, skipped: [2] });
    expect((skip!.ops as Entry[]).map((op) => op.index)).toEqual([first.index, second.index]);
  });

  it('nonmonotonic-poll: the next poll of a process started before where the last one ended', () => {
    const h = threeInOrder();
    h.poll(2, { a: [[1, 2]] });
    h.poll(2, { a: [[0, 1]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['nonmonotonic-poll']);
    expect(errs(result, 'nonmonotonic-poll')).toEqual([expect.objectContaining({ key: 'a', values: [2, 1], delta: -1 })]);
  });

  it('an ok poll with an empty list for a key breaks the chain, hiding the next nonmonotonic poll', () => {
    const h = threeInOrder();
    h.poll(2, { a: [[1, 2]] });
    h.poll(2, { a: [] });
    h.poll(2, { a: [[0, 1]] });
    expect(checkKafka(h.ops)['error-types']).toEqual([]);
  });

  it('an assign that drops a key resets its chain', () => {
    const h = threeInOrder();
    h.poll(2, { a: [[1, 2]] });
    h.assign(2, ['b']);
    h.poll(2, { a: [[0, 1]] });
    expect(checkKafka(h.ops)['error-types']).toEqual([]);
  });

  it('nonmonotonic-send: a process sent two messages and the second landed before the first', () => {
    const h = new KafkaHistory();
    h.send(0, 'a', 1, 1);
    h.send(0, 'a', 2, 0);
    h.poll(1, { a: [[0, 2], [1, 1]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['nonmonotonic-send']);
    expect(errs(result, 'nonmonotonic-send')).toEqual([expect.objectContaining({ key: 'a', values: [1, 2], delta: -1 })]);
  });

  it('G1c-realtime with strong-PL-2-cycle-exists: a poll returned a message whose send began after the poll ended', () => {
    const h = new KafkaHistory();
    const poll = h.poll(1, { a: [[0, 1]] });
    const send = h.send(0, 'a', 1, 0);
    h.poll(2, { a: [[0, 1]] });
    const result = checkKafka(h.ops);
    expect(result['valid?']).toBe(false);
    expect(result['error-types']).toEqual(['G1c-realtime', 'strong-PL-2-cycle-exists']);
    expect(errs(result, 'strong-PL-2-cycle-exists')).toEqual([
      {
        type: 'strong-PL-2-cycle-exists',
        not: 'strong-read-committed',
        subgraph: ['union', 'ww', 'wwp', 'wr', 'wrp', 'realtime'],
        'scc-size': 2,
        scc: [poll.index, send.index],
      },
    ]);
    const [cycle] = errs(result, 'G1c-realtime');
    expect((cycle!.cycle as Entry[]).map((op) => op.index)).toEqual([poll.index, send.index, poll.index]);
    expect((cycle!.steps as Entry[]).map((step) => step.type)).toEqual(['realtime', 'wr']);
    expect((cycle!.steps as Entry[])[1]).toEqual({ type: 'wr', key: 'a', value: 1, 'a-mop-index': 0, 'b-mop-index': 0 });
    expect(((cycle!.steps as Entry[])[0]!.b as Entry).type).toBe('invoke');
  });

  it('an info send gives no offset but is still the wr source of a G1c-realtime', () => {
    const h = new KafkaHistory();
    const poll = h.poll(1, { a: [[0, 1]] });
    const send = h.send(0, 'a', 1, null, 'info');
    h.poll(2, { a: [[0, 1]] });
    const result = checkKafka(h.ops);
    expect(result['error-types']).toEqual(['G1c-realtime', 'strong-PL-2-cycle-exists']);
    expect((errs(result, 'strong-PL-2-cycle-exists')[0]!.scc as number[])).toEqual([poll.index, send.index]);
    expect(result['info-txn-causes']).toEqual(['net-timeout']);
  });

  it('cycle-search-timeout: when the cycle search runs out of time it says so and still gives a cycle', () => {
    const h = new KafkaHistory();
    h.poll(1, { a: [[0, 1]] });
    h.send(0, 'a', 1, 0);
    h.poll(2, { a: [[0, 1]] });
    const result = checkKafka(h.ops, { cycleSearchTimeoutMs: -1 });
    expect(result['error-types']).toEqual(['G1c-realtime', 'cycle-search-timeout', 'strong-PL-2-cycle-exists']);
    expect(errs(result, 'cycle-search-timeout')).toEqual([
      { type: 'cycle-search-timeout', 'anomaly-spec-type': 'G1c-realtime', 'does-not-contain': [], 'scc-size': 2 },
    ]);
  });

  describe('txn ops (several micro-ops; Maelstrom never sends them, Jepsen checks them)', () => {
    function txn(h: KafkaHistory, process: number, mops: Json[]): Op {
      h.ops.push({ index: h.ops.length, time: h.ops.length * 1000, process, type: 'invoke', f: 'txn', value: mops });
      const done: Op = { index: h.ops.length, time: h.ops.length * 1000, process, type: 'ok', f: 'txn', value: mops };
      h.ops.push(done);
      return done;
    }

    it('int-send-skip is reported but allowed', () => {
      const h = new KafkaHistory();
      txn(h, 0, [['send', 'a', [0, 1]], ['send', 'a', [2, 3]]]);
      h.send(1, 'a', 2, 1);
      h.poll(2, { a: [[0, 1], [1, 2], [2, 3]] });
      const result = checkKafka(h.ops);
      expect(result['error-types']).toEqual(['int-send-skip']);
      expect(result['valid?']).toBe(true);
      expect(errs(result, 'int-send-skip')).toEqual([expect.objectContaining({ key: 'a', values: [1, 3], delta: 2, skipped: [2] })]);
    });

    it('int-nonmonotonic-send: two sends of one op landed out of order', () => {
      const h = new KafkaHistory();
      txn(h, 0, [['send', 'a', [1, 1]], ['send', 'a', [0, 2]]]);
      h.poll(2, { a: [[0, 2], [1, 1]] });
      const result = checkKafka(h.ops);
      expect(result['bad-error-types']).toEqual(['int-nonmonotonic-send']);
    });

    it('precommitted-read: an op polled its own send', () => {
      const h = new KafkaHistory();
      const op = txn(h, 0, [['send', 'a', [0, 1]], ['poll', { a: [[0, 1]] }]]);
      h.poll(2, { a: [[0, 1]] });
      const result = checkKafka(h.ops);
      expect(result['bad-error-types']).toEqual(['precommitted-read']);
      expect(errs(result, 'precommitted-read')).toEqual([expect.objectContaining({ key: 'a', value: 1, op: expect.objectContaining({ index: op.index }) })]);
    });
  });

  it('empty-transaction-graph: no dependencies at all is fatal', () => {
    const h = new KafkaHistory();
    h.poll(1, {});
    const result = checkKafka(h.ops);
    expect(result['valid?']).toBe(false);
    expect(result['error-types']).toEqual(['empty-transaction-graph']);
    expect(result['empty-transaction-graph']).toEqual({ count: 1, errs: true });
  });
});

describe('kafka checker: unknown verdicts and Maelstrom crashes we avoid', () => {
  it('a polled message that nobody sent makes the result unknown', () => {
    const h = threeInOrder();
    h.poll(2, { a: [[0, 1], [1, 2], [2, 3], [3, 42]] });
    const result = checkKafka(h.ops);
    expect(result['valid?']).toBe('unknown');
    expect(String(result.error)).toMatch(/no writer of value 42 in key a/);
  });

  it('a history not ending with poll, crash or assign is unknown (Maelstrom throws in its unseen plot)', () => {
    const h = threeInOrder();
    h.send(0, 'b', 1, 0);
    const result = checkKafka(h.ops);
    expect(result['valid?']).toBe('unknown');
    expect(String(result.error)).toMatch(/NullPointerException/);
    h.crash(3);
    expect(checkKafka(h.ops)['valid?']).not.toBe('unknown');
  });

  it('a key only ever polled empty does not crash the lost-write check (maelstrom #98)', () => {
    const h = threeInOrder();
    h.poll(2, { b: [] });
    h.poll(2, { a: [[0, 1], [1, 2], [2, 3]] });
    expect(checkKafka(h.ops)).toMatchObject({ 'valid?': true, 'error-types': [] });
  });

  it('a deadline in the past answers unknown and says why', () => {
    const h = new KafkaHistory(0.001);
    for (let i = 0; i < 3000; i++) h.send(0, 'a', i, i);
    const result = checkKafka(h.ops, { deadlineMs: Date.now() - 1 });
    expect(result['valid?']).toBe('unknown');
    expect(String(result.error)).toMatch(/deadline/);
  });

  it('info-txn-causes lists the distinct errors of info sends and polls, in history order', () => {
    const h = threeInOrder();
    h.send(2, 'a', 4, null, 'info');
    h.send(2, 'a', 5, null, 'info');
    h.crash(3);
    expect(checkKafka(h.ops)['info-txn-causes']).toEqual(['net-timeout']);
  });
});

describe('kafka checker: realtime lag and report data', () => {
  it('lag is the poll invocation time minus when the next offset was known to exist', () => {
    const h = new KafkaHistory();
    h.at(1).send(0, 'a', 1, 0);
    h.at(3).send(0, 'a', 2, 1);
    h.at(5).poll(1, { a: [[0, 1]] });
    h.at(6).poll(2, { a: [[1, 2]] });
    const result = checkKafka(h.ops);
    const worst = result['worst-realtime-lag'] as Entry;
    expect(worst.key).toBe('a');
    expect(worst.process).toBe(1);
    expect(worst.time).toBeCloseTo(5, 9);
    expect(worst.lag).toBeCloseTo(5 - 3.01, 9);
  });

  it('the lag plot is the lag after each poll: its highest point is worst-realtime-lag, not the gap before a rare poll', () => {
    const h = new KafkaHistory();
    h.at(1).send(0, 'a', 1, 0);
    h.at(2).send(0, 'a', 2, 1);
    h.at(2.5).poll(1, { a: [[0, 1], [1, 2]] });
    // the next message exists from 3 s, but process 1 polls again only at 30 s, and catches up at once
    h.at(3).send(0, 'a', 3, 2);
    h.at(30).poll(1, { a: [[2, 3]] });
    const { result, report } = checkKafkaWithReport(h.ops);
    const highest = Math.max(...report.lag.flatMap((series) => series.points.map(([, lag]) => lag)));
    expect(highest).toBeCloseTo((result['worst-realtime-lag'] as Entry).lag as number, 9);
    expect(highest).toBeLessThan(1);
  });

  it('the lag plot includes keys a poll did not return, where the worst lag can be', () => {
    const h = new KafkaHistory();
    h.at(0.5).assign(1, ['a', 'b']);
    h.at(1).send(0, 'a', 1, 0);
    h.at(1).send(0, 'b', 1, 0);
    h.at(2).poll(1, { a: [[0, 1]] });
    h.at(9).poll(1, { a: [] });
    const { result, report } = checkKafkaWithReport(h.ops);
    const worst = result['worst-realtime-lag'] as Entry;
    expect(worst.key).toBe('b');
    const b = report.lag.find((series) => series.key === 'b');
    expect(Math.max(...(b?.points.map(([, lag]) => lag) ?? [0]))).toBeCloseTo(worst.lag as number, 9);
  });

  it('no polls gives the zero lag map', () => {
    const h = new KafkaHistory();
    h.crash(0);
    expect(checkKafka(h.ops)['worst-realtime-lag']).toEqual({ time: 0, lag: 0 });
  });

  it('report data has lag points per key and every error with key, offsets, ops and a sentence', () => {
    const h = threeInOrder();
    const first = h.poll(2, { a: [[0, 1]] });
    const second = h.poll(2, { a: [[2, 3]] });
    const { result, report } = checkKafkaWithReport(h.ops);
    expect(result['valid?']).toBe(false);
    expect(report.lag.map((series) => series.key)).toEqual(['a']);
    expect(report.lag[0]!.points.length).toBeGreaterThan(0);
    expect(report.errors).toEqual([
      { type: 'poll-skip', key: 'a', offsets: [0, 2], ops: [first.index, second.index], text: expect.stringMatching(/skipping 1 message/) },
    ]);
    expect(report.errorCounts).toEqual({ 'poll-skip': 1 });
    expect(kafkaReportData(h.ops)).toEqual(report);
  });
});

export type { Op };
