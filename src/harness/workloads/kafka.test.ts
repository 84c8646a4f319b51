import { describe, expect, it } from 'vitest';
import { checkKafka, checkKafkaWithReport } from '../check/checkers/kafka.js';
import { loadReferenceHistory } from '../../../test/support/reference-runs.js';
import { EMPTY, type Gen, type GenContext, type Invocation } from '../run/generator.js';
import { interpret } from '../run/interpreter.js';
import { realClock } from '../clock.js';
import { createRng } from '../util/rng.js';
import { testGenerator } from '../run/runner.js';
import { SchemaError, type Body, type Completion, type Json, type Op, type TestOptions } from '../types.js';
import type { Connection, RpcResult, WorkloadClient, WorkloadVerdict } from '../workload.js';
import {
  kafkaFinalGenerator,
  kafkaLoadGenerator,
  kafkaWorkload,
  MAX_ERRORS_PER_TYPE,
  MAX_LAG_POINTS,
  SeenOffsets,
} from './kafka.js';
import { driveGenerator, runClientOp, type DriveSetup, type Driven } from '../../../test/support/workload-testing.js';

const options = (overrides: Partial<TestOptions> = {}, workloadOptions: Record<string, Json> = {}): TestOptions =>
  ({
    workload: 'kafka',
    nodes: ['n0', 'n1'],
    concurrency: 4,
    timeLimitS: 20,
    rate: 1000,
    finalWaitS: 0,
    seed: 1,
    workloadOptions,
    ...overrides,
  }) as unknown as TestOptions;

/** The shared virtual-time driver, with kafka's default seed. */
function drive(gen: Gen, setup: Omit<DriveSetup, 'rng'> & { concurrency: number; seed?: number }): Driven[] {
  const { seed, ...rest } = setup;
  return driveGenerator(gen, { ...rest, rng: createRng(seed ?? 3) });
}

/** An in-memory log: dense offsets per key, polls return everything from the asked offset. */
function memoryLog() {
  const logs = new Map<string, Json[]>();
  const committed = new Map<string, number>();
  return {
    logs,
    send(key: string, msg: Json): number {
      const log = logs.get(key) ?? [];
      logs.set(key, log);
      log.push(msg);
      return log.length - 1;
    },
    poll(offsets: { [key: string]: number }): { [key: string]: [number, Json][] } {
      const msgs: { [key: string]: [number, Json][] } = {};
      for (const [key, from] of Object.entries(offsets)) {
        const log = logs.get(key) ?? [];
        if (from < log.length) msgs[key] = log.slice(from).map((m, i) => [from + i, m]);
      }
      return msgs;
    },
    answer(body: Body): Body {
      switch (body.type) {
        case 'send':
          return { type: 'send_ok', offset: this.send(body.key as string, body.msg ?? null) };
        case 'poll':
          return { type: 'poll_ok', msgs: this.poll(body.offsets as { [key: string]: number }) };
        case 'commit_offsets':
          for (const [k, o] of Object.entries(body.offsets as { [key: string]: number })) committed.set(k, Math.max(committed.get(k) ?? 0, o));
          return { type: 'commit_offsets_ok' };
        case 'list_committed_offsets':
          return { type: 'list_committed_offsets_ok', offsets: Object.fromEntries(committed) };
        default:
          return { type: 'error', code: 10, text: 'unsupported' };
      }
    },
  };
}

type Log = ReturnType<typeof memoryLog>;

/** One client on a scripted connection; `answer` sees every request. */
function openClient(answer: (request: Body) => Body | 'timeout'): { client: WorkloadClient; requests: Body[] } {
  const requests: Body[] = [];
  const conn: Connection = {
    id: 'c1',
    node: 'n0',
    async rpc(body): Promise<RpcResult> {
      requests.push(body);
      const reply = answer(body);
      return reply === 'timeout' ? { kind: 'timeout' } : { kind: 'reply', body: { in_reply_to: body.msg_id ?? 1, ...reply } };
    },
  };
  return { client: kafkaWorkload.openClient(conn, options()), requests };
}

const op = (f: string, value: Json, attrs?: { [key: string]: Json }) => ({ f, value, process: 0, ...(attrs ? { attrs } : {}) });

// ---------------------------------------------------------------------------------------------

describe('kafka generator', () => {
  const loadOps = (n: number, workloadOptions: Record<string, Json> = {}, seed = 5, complete?: (inv: Invocation, process: number) => Completion) =>
    drive(kafkaLoadGenerator(options({}, workloadOptions), new SeenOffsets()), { concurrency: 4, maxOps: n, seed, ...(complete ? { complete } : {}) });

  it('emits one micro-op per operation, about half sends and half polls, string keys, integer messages', () => {
    const ops = loadOps(6000).map((d) => d.inv);
    const sends = ops.filter((o) => o.f === 'send');
    const polls = ops.filter((o) => o.f === 'poll');
    expect(sends.length / ops.length).toBeGreaterThan(0.42);
    expect(polls.length / ops.length).toBeGreaterThan(0.42);
    for (const p of polls) expect(p.value).toEqual([['poll']]);
    for (const s of sends) {
      const mops = s.value as Json[];
      expect(mops).toHaveLength(1);
      const [f, key, msg] = mops[0] as [string, Json, Json];
      expect(f).toBe('send');
      expect(typeof key).toBe('string');
      expect(key).toMatch(/^\d+$/);
      expect(Number.isInteger(msg)).toBe(true);
    }
    expect(new Set(ops.map((o) => o.f))).toEqual(new Set(['send', 'poll', 'assign', 'crash']));
  });

  it('sends each key the messages 1, 2, ... 16, then replaces the key (max-writes-per-key)', () => {
    const perKey = new Map<string, number[]>();
    for (const { inv } of loadOps(8000)) {
      if (inv.f !== 'send') continue;
      const [, key, msg] = (inv.value as Json[])[0] as [string, string, number];
      perKey.set(key, [...(perKey.get(key) ?? []), msg]);
    }
    expect(perKey.size).toBeGreaterThan(20);
    let full = 0;
    for (const msgs of perKey.values()) {
      expect(msgs).toEqual(msgs.map((_, i) => i + 1));
      expect(msgs.length).toBeLessThanOrEqual(16);
      if (msgs.length === 16) full++;
    }
    expect(full).toBeGreaterThan(10);
    // --max-writes-per-key 3 and --key-count 2: three messages a key, at most two keys at a time
    const small = new Map<string, number[]>();
    const active = new Set<string>();
    for (const { inv } of loadOps(400, { keyCount: 2, maxWritesPerKey: 3 })) {
      if (inv.f !== 'send') continue;
      const [, key, msg] = (inv.value as Json[])[0] as [string, string, number];
      small.set(key, [...(small.get(key) ?? []), msg]);
      active.add(key);
      if (msg === 3) active.delete(key);
      expect(active.size).toBeLessThanOrEqual(2);
    }
    for (const msgs of small.values()) expect(msgs.slice(0, 3)).toEqual([1, 2, 3].slice(0, msgs.length));
    expect(Math.max(...[...small.values()].map((m) => m.length))).toBe(3);
  });

  it('uses --key-count active keys, the higher ones favoured', () => {
    const firstKeys = (n: number, keyCount?: number) =>
      loadOps(n, keyCount === undefined ? {} : { keyCount })
        .map((d) => d.inv)
        .filter((o) => o.f === 'send')
        .map((o) => Number(((o.value as Json[])[0] as Json[])[1]));
    const keys = firstKeys(40);
    expect(Math.max(...keys)).toBeLessThan(10);
    expect(keys.filter((k) => k === 9).length).toBeGreaterThan(keys.filter((k) => k === 0).length);
    expect(new Set(firstKeys(40, 3)).size).toBeLessThanOrEqual(3);
  });

  it('turns about 1 operation in 64 into an assign over string keys', () => {
    const ops = loadOps(12800).map((d) => d.inv);
    const assigns = ops.filter((o) => o.f === 'assign');
    const share = assigns.length / ops.length;
    expect(share).toBeGreaterThan(1 / 100);
    expect(share).toBeLessThan(1 / 40);
    for (const a of assigns) {
      expect(Array.isArray(a.value)).toBe(true);
      for (const k of a.value as Json[]) expect(k).toMatch(/^\d+$/);
    }
  });

  /** Completions from an in-memory log whose polls return `pollAll ? the last message of every key : nothing`. */
  function logCompletions(pollAll: boolean) {
    const log = memoryLog();
    return (inv: Invocation): Completion => {
      if (inv.f === 'send') {
        const [, key, msg] = (inv.value as Json[])[0] as [string, string, Json];
        return { type: 'ok', value: [['send', key, [log.send(key, msg), msg]]] };
      }
      if (inv.f === 'poll') {
        const msgs = pollAll ? Object.fromEntries([...log.logs].map(([k, l]) => [k, [[l.length - 1, l.at(-1) ?? null]]])) : {};
        return { type: 'ok', value: [['poll', msgs]] };
      }
      return { type: inv.f === 'crash' ? 'info' : 'ok', value: inv.value };
    };
  }

  /** Per assign with Jepsen's unseen note: the note, and each key's highest offset sent before it. */
  function unseenNotes(driven: Driven[]) {
    const sentSoFar = new Map<string, number>();
    let sentSincePoll = new Set<string>();
    const notes: Array<{ assign: Invocation; unseen: { [key: string]: { polled: number; sent: number } }; sent: Map<string, number>; sinceLastPoll: Set<string> }> = [];
    for (const d of driven) {
      if (d.inv.f === 'assign' && d.inv.attrs?.unseen !== undefined) {
        notes.push({ assign: d.inv, unseen: d.inv.attrs.unseen as never, sent: new Map(sentSoFar), sinceLastPoll: new Set(sentSincePoll) });
      }
      if (d.inv.f === 'poll') sentSincePoll = new Set();
      if (d.inv.f === 'send') {
        const [, key, [offset]] = (d.completion.value as Json[])[0] as [string, string, [number]];
        sentSoFar.set(key, offset);
        sentSincePoll.add(key);
      }
    }
    return notes;
  }

  it('adds the keys sent but not yet polled to about a third of the assigns, with Jepsen\'s unseen note', () => {
    const driven = loadOps(6400, {}, 9, logCompletions(false));
    const assigns = driven.filter((d) => d.inv.f === 'assign');
    const notes = unseenNotes(driven);
    expect(notes.length / assigns.length).toBeGreaterThan(0.15);
    expect(notes.length / assigns.length).toBeLessThan(0.55);
    for (const { assign, unseen, sent } of notes) {
      // Every key sent so far is unseen (polls return nothing), with its highest offset and -1 polled.
      expect(Object.keys(unseen).sort()).toEqual([...sent.keys()].sort());
      for (const [key, note] of Object.entries(unseen)) {
        expect(assign.value as Json[]).toContain(key);
        expect(note).toEqual({ polled: -1, sent: sent.get(key) });
      }
    }
    expect(Object.keys(notes.at(-1)?.unseen ?? {}).length).toBeGreaterThan(5);
  });

  it('forgets a key once polls have caught up with its sends', () => {
    const driven = loadOps(6400, {}, 9, logCompletions(true));
    const notes = unseenNotes(driven);
    expect(notes.length).toBeGreaterThan(5);
    // Every poll returns the end of every log: only keys sent since the last poll are unseen.
    for (const { unseen, sinceLastPoll } of notes) {
      for (const key of Object.keys(unseen)) expect(sinceLastPoll.has(key)).toBe(true);
    }
  });

  it('crashes a client about every 30/concurrency seconds, as an op with a null value', () => {
    const concurrency = 30;
    const driven = drive(kafkaLoadGenerator(options({ concurrency }), new SeenOffsets()), {
      concurrency,
      maxOps: 1_000_000,
      untilNs: 60e9,
      stepNs: 5e6,
      complete: (inv) => ({ type: inv.f === 'crash' ? 'info' : 'ok', value: inv.value }),
    });
    const crashes = driven.filter((d) => d.inv.f === 'crash');
    for (const c of crashes) expect(c.inv.value).toBeNull();
    // about 60 s / (30 s / 30) = 60 crashes
    expect(crashes.length).toBeGreaterThan(35);
    expect(crashes.length).toBeLessThan(90);
    // each crash makes its thread a new process
    const first = crashes[0] as Driven;
    const later = driven.find((d) => d.inv.thread === first.inv.thread && d.inv.timeNs > first.inv.timeNs);
    expect(later?.process).toBe(first.process + concurrency);
  });
});

// ---------------------------------------------------------------------------------------------

describe('kafka client', () => {
  it('polls with {} before its first assign, and a poll that returns nothing commits nothing', async () => {
    const { requests, completion } = await runClientOp(kafkaWorkload, options(), { f: 'poll', value: [['poll']] }, () => ({ type: 'poll_ok', msgs: {} }));
    expect(requests).toEqual([{ type: 'poll', offsets: {} }]);
    expect(completion).toEqual({ type: 'ok', value: [['poll', {}]] });
  });

  it('records a send as [send, key, [offset, msg]]', async () => {
    const { requests, completion } = await runClientOp(kafkaWorkload, options(), { f: 'send', value: [['send', '7', 3]] }, () => ({ type: 'send_ok', offset: 12 }));
    expect(requests).toEqual([{ type: 'send', key: '7', msg: 3 }]);
    expect(completion).toEqual({ type: 'ok', value: [['send', '7', [12, 3]]] });
  });

  it('commits the highest offset polled per key, and polls on from there', async () => {
    let polls = 0;
    const { client, requests } = openClient((req): Body => {
      if (req.type === 'list_committed_offsets') return { type: 'list_committed_offsets_ok', offsets: {} };
      if (req.type === 'commit_offsets') return { type: 'commit_offsets_ok' };
      polls++;
      return polls === 1 ? { type: 'poll_ok', msgs: { '1': [[3, 30], [5, 50]], '2': [], '4': [[0, 1]] } } : { type: 'poll_ok', msgs: {} };
    });
    await client.invoke(op('assign', ['1', '2']));
    const first = await client.invoke(op('poll', [['poll']]));
    expect(first).toEqual({ type: 'ok', value: [['poll', { '1': [[3, 30], [5, 50]], '2': [], '4': [[0, 1]] }]] });
    await client.invoke(op('poll', [['poll']]));
    const sent = requests;
    expect(sent.filter((r) => r.type === 'poll').map((r) => r.offsets)).toEqual([
      { '1': 0, '2': 0 },
      // a key the server returned without being asked is polled from then on, as Maelstrom does
      { '1': 6, '2': 0, '4': 1 },
    ]);
    expect(sent.filter((r) => r.type === 'commit_offsets').map((r) => r.offsets)).toEqual([{ '1': 5, '4': 0 }]);
  });

  it('assigns through list_committed_offsets, keeping known keys and starting new ones at 0 whatever was committed', async () => {
    const { client, requests } = openClient((req): Body => {
      if (req.type === 'list_committed_offsets') return { type: 'list_committed_offsets_ok', offsets: { '1': 40, '3': 9 } };
      if (req.type === 'commit_offsets') return { type: 'commit_offsets_ok' };
      return { type: 'poll_ok', msgs: req.offsets && (req.offsets as { [k: string]: number })['1'] === 0 ? { '1': [[0, 1], [1, 2]] } : {} };
    });
    expect(await client.invoke(op('assign', ['1', '2']))).toEqual({ type: 'ok', value: ['1', '2'] });
    await client.invoke(op('poll', [['poll']]));
    await client.invoke(op('assign', ['1', '3']));
    await client.invoke(op('poll', [['poll']]));
    expect(requests.filter((r) => r.type === 'list_committed_offsets').map((r) => r.keys)).toEqual([['1', '2'], ['1', '3']]);
    // key 1 keeps its own offset (2), key 3 starts at 0 although 9 was committed, key 2 is dropped
    expect(requests.filter((r) => r.type === 'poll').map((r) => r.offsets)).toEqual([{ '1': 0, '2': 0 }, { '1': 2, '3': 0 }]);
  });

  it('seeks to the beginning of every key without an RPC', async () => {
    const { client, requests } = openClient(() => ({ type: 'poll_ok', msgs: {} }));
    const done = await client.invoke(op('assign', ['5', '6'], { 'seek-to-beginning?': true }));
    expect(done).toEqual({ type: 'ok', value: ['5', '6'] });
    await client.invoke(op('poll', [['poll']]));
    expect(requests).toEqual([{ type: 'poll', offsets: { '5': 0, '6': 0 } }]);
  });

  it('answers crash with info and no RPC', async () => {
    const { requests, completion } = await runClientOp(kafkaWorkload, options(), { f: 'crash', value: null }, () => ({ type: 'error', code: 13 }));
    expect(requests).toEqual([]);
    expect(completion).toEqual({ type: 'info', value: null });
  });

  it('fails an assign on any error or timeout (idempotent); sends and polls are info on indefinite errors', async () => {
    const assign = { f: 'assign', value: ['1'] };
    expect((await runClientOp(kafkaWorkload, options(), assign, () => 'timeout')).completion).toEqual({ type: 'fail', value: ['1'], error: 'net-timeout' });
    expect((await runClientOp(kafkaWorkload, options(), assign, () => ({ type: 'error', code: 13, text: 'boom' }))).completion).toEqual({
      type: 'fail',
      value: ['1'],
      error: ['crash', 'boom'],
    });
    const send = { f: 'send', value: [['send', '1', 1]] };
    expect((await runClientOp(kafkaWorkload, options(), send, () => 'timeout')).completion).toMatchObject({ type: 'info', error: 'net-timeout' });
    expect((await runClientOp(kafkaWorkload, options(), send, () => ({ type: 'error', code: 11 }))).completion).toMatchObject({
      type: 'fail',
      error: ['temporarily-unavailable', null],
    });
    // a poll whose commit fails indefinitely is info, the poll's messages are not recorded
    const poll = await runClientOp(kafkaWorkload, options(), { f: 'poll', value: [['poll']] }, (req) =>
      req.type === 'poll' ? { type: 'poll_ok', msgs: { '1': [[0, 1]] } } : { type: 'error', code: 13 },
    );
    expect(poll.completion).toEqual({ type: 'info', value: [['poll']], error: ['crash', null] });
  });

  it('rejects replies outside the closed schemas with SchemaError', async () => {
    const bad: Array<[string, Json, Body]> = [
      ['send', [['send', '1', 1]], { type: 'send_ok', offset: '3' }],
      ['send', [['send', '1', 1]], { type: 'send_ok', offset: 3.5 }],
      ['send', [['send', '1', 1]], { type: 'send_ok', offset: 3, extra: true }],
      ['send', [['send', '1', 1]], { type: 'send_ok' }],
      ['poll', [['poll']], { type: 'poll_ok', msgs: [] }],
      ['poll', [['poll']], { type: 'poll_ok', msgs: { '1': [[1]] } }],
      ['poll', [['poll']], { type: 'poll_ok', msgs: { '1': [[1, 2, 3]] } }],
      ['poll', [['poll']], { type: 'poll_ok', msgs: { '1': [['a', 2]] } }],
      ['poll', [['poll']], { type: 'poll_ok', msgs: { '1': { 0: 1 } } }],
      ['poll', [['poll']], { type: 'poll_ok' }],
      ['assign', ['1'], { type: 'list_committed_offsets_ok', offsets: { '1': 'x' } }],
      ['assign', ['1'], { type: 'list_committed_offsets_ok', offsets: [] }],
      ['assign', ['1'], { type: 'list_committed_offsets_ok' }],
    ];
    for (const [f, value, reply] of bad) {
      await expect(runClientOp(kafkaWorkload, options(), { f, value }, () => reply), JSON.stringify(reply)).rejects.toThrow(SchemaError);
    }
    // a commit_offsets_ok with an extra key
    await expect(
      runClientOp(kafkaWorkload, options(), { f: 'poll', value: [['poll']] }, (req) =>
        req.type === 'poll' ? { type: 'poll_ok', msgs: { '1': [[0, 1]] } } : { type: 'commit_offsets_ok', offsets: {} },
      ),
    ).rejects.toThrow(SchemaError);
  });
});

// ---------------------------------------------------------------------------------------------

describe('kafka final phase', () => {
  /** The load generator hears these ok completions; the final phase targets what they saw. */
  function finalGenFor(events: Array<Partial<Op>>): Gen {
    const seen = new SeenOffsets();
    let gen = kafkaLoadGenerator(options(), seen);
    const ctx: GenContext = { timeNs: 0, threads: [0, 1], freeThreads: [0, 1], process: (t) => t, thread: (p) => (p === 'nemesis' ? 'nemesis' : p % 2), rng: createRng(1) };
    events.forEach((e, index) => (gen = gen.update(ctx, { index, time: 0, process: 0, type: 'ok', ...e } as Op)));
    return kafkaFinalGenerator(() => seen);
  }
  const history: Array<Partial<Op>> = [
    { f: 'send', value: [['send', '3', [5, 1]]] },
    { f: 'poll', value: [['poll', { '1': [[0, 1], [2, 2]] }]] },
    { f: 'send', value: [['send', '10', [0, 1]]], type: 'info' },
  ];

  it('crashes each client, assigns every key seen from the beginning, and polls until caught up', () => {
    let polls = 0;
    const driven = drive(finalGenFor(history), {
      concurrency: 2,
      maxOps: 1000,
      complete: (inv, process): Completion => {
        if (inv.f === 'crash') return { type: 'info', value: null };
        if (inv.f === 'assign') return { type: 'ok', value: inv.value };
        polls++;
        // thread 0's process sees key 1 at once and key 3 on its third poll; thread 1 sees both at once
        const msgs: Json = process % 2 === 1 || polls > 4 ? { '1': [[2, 2]], '3': [[5, 1]] } : { '1': [[0, 1], [2, 2]] };
        return { type: 'ok', value: [['poll', msgs]] };
      },
    });
    for (const thread of [0, 1]) {
      const mine = driven.filter((d) => d.inv.thread === thread).map((d) => d.inv);
      expect(mine[0]).toMatchObject({ f: 'crash', value: null });
      // keys ascending, as strings; an info send's key (10) is not a target
      expect(mine[1]).toMatchObject({ f: 'assign', value: ['1', '3'], attrs: { 'seek-to-beginning?': true } });
      for (const p of mine.slice(2)) expect(p).toMatchObject({ f: 'poll', value: [['poll']], attrs: { 'poll-ms': 1000 } });
    }
    const pollsOf = (thread: number) => driven.filter((d) => d.inv.thread === thread && d.inv.f === 'poll');
    expect(pollsOf(1)).toHaveLength(1);
    expect(pollsOf(0).length).toBeGreaterThanOrEqual(2);
    // the thread stops with the first poll that reached key 3's offset 5
    const last = pollsOf(0).at(-1) as Driven;
    expect(JSON.stringify(last.completion.value)).toContain('"3":[[5,1]]');
    // the new process after the crash does the assign and the polls
    expect(driven.filter((d) => d.inv.thread === 0 && d.inv.f !== 'crash').every((d) => d.process === 2)).toBe(true);
  });

  it('spaces polls about 0.2 s apart and stops at 10 s when a key never catches up', () => {
    const driven = drive(finalGenFor(history), {
      concurrency: 2,
      maxOps: 10_000,
      complete: (inv) => ({ type: inv.f === 'crash' ? 'info' : 'ok', value: inv.f === 'poll' ? [['poll', { '1': [[2, 2]] }]] : inv.value }),
    });
    const polls = driven.filter((d) => d.inv.f === 'poll' && d.inv.thread === 0);
    expect(polls.length).toBeGreaterThan(30);
    expect(polls.length).toBeLessThan(80);
    const times = polls.map((d) => d.inv.timeNs);
    expect(Math.max(...times)).toBeLessThan(10e9 + 1e6);
    expect(Math.max(...times)).toBeGreaterThan(9e9);
    const meanGapS = (times.at(-1)! - times[0]!) / (times.length - 1) / 1e9;
    expect(meanGapS).toBeGreaterThan(0.12);
    expect(meanGapS).toBeLessThan(0.3);
  });

  it('has nothing to do when no key was ever seen', () => {
    expect(drive(finalGenFor([]), { concurrency: 2, maxOps: 10 })).toEqual([]);
  });

  it('targets what the load generator of the same options saw', () => {
    const opts = options({ concurrency: 1 });
    let load = kafkaWorkload.generator(opts);
    const final = (kafkaWorkload.finalGenerator as (o: TestOptions) => Gen)(opts);
    const ctx: GenContext = { timeNs: 0, threads: [0], freeThreads: [0], process: () => 0, thread: () => 0, rng: createRng(1) };
    load = load.update(ctx, { index: 0, time: 0, process: 0, type: 'ok', f: 'send', value: [['send', '42', [7, 1]]] });
    const driven = drive(final, { concurrency: 1, maxOps: 3, complete: (inv) => ({ type: inv.f === 'crash' ? 'info' : 'ok', value: inv.value }) });
    expect(driven[1]?.inv).toMatchObject({ f: 'assign', value: ['42'] });
  });
});

// ---------------------------------------------------------------------------------------------

/** A JSON value's structure: types, with arrays and objects reduced to the set of their members' shapes. */
function shape(value: Json | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'num';
  if (typeof value === 'string') return value === 'send' || value === 'poll' ? value : 'str';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return `[${[...new Set(value.map(shape))].sort().join('|')}]`;
  return `{${[...new Set(Object.values(value).map(shape))].sort().join('|')}}`;
}

function opShape(o: Op): string {
  const keys = Object.keys(o).filter((k) => k !== 'unseen').sort().join(',');
  return `${o.f} ${o.type} ${keys} ${shape(o.value)}`;
}

describe('kafka workload end to end in one process', () => {
  async function runInMemory(log: Log): Promise<Op[]> {
    const opts = options({ concurrency: 2, nodes: ['n0'], timeLimitS: 1, rate: 500, finalWaitS: 0 });
    const gen = testGenerator(opts, kafkaWorkload, { generator: EMPTY, finalGenerator: EMPTY }, { phase() {} });
    const history: Op[] = [];
    const clients = new Map<number, WorkloadClient>();
    const conn: Connection = { id: 'c', node: 'n0', rpc: async (body) => ({ kind: 'reply', body: { in_reply_to: 1, ...log.answer(body) } }) };
    await interpret(gen, {
      clock: realClock(),
      concurrency: opts.concurrency,
      rng: createRng(11),
      invokeClient(thread, process, spec) {
        const client = clients.get(thread) ?? kafkaWorkload.openClient(conn, opts);
        clients.set(thread, client);
        return client.invoke({ ...spec, process });
      },
      invokeNemesis: () => ({ type: 'info', value: null }),
      record(o) {
        const full = { index: history.length, ...o } as Op;
        history.push(full);
        return full;
      },
      onProcessCrash: (thread) => clients.delete(thread),
      shouldStop: () => false,
    });
    return history;
  }

  it('makes a history shaped like Maelstrom\'s that the checker accepts, ending with caught-up final polls', async () => {
    const log = memoryLog();
    const history = await runInMemory(log);
    expect(history.length).toBeGreaterThan(200);
    const result = checkKafka(history);
    expect(result['valid?']).toBe(true);
    const reference = new Set(loadReferenceHistory('kafka-single').map(opShape));
    const ours = new Set(history.map(opShape));
    for (const s of ours) expect(reference.has(s), s).toBe(true);
    for (const s of ['send invoke', 'send ok', 'poll invoke', 'poll ok', 'crash invoke', 'crash info']) {
      expect([...ours].some((o) => o.startsWith(s)), s).toBe(true);
    }
    // The final polls read every key to its end.
    const finalPolls = history.filter((o) => o.f === 'poll' && o.type === 'ok' && o['poll-ms'] === 1000);
    expect(finalPolls.length).toBeGreaterThan(0);
    const lastPoll = finalPolls.at(-1) as Op;
    const highest = new Map<string, number>();
    for (const o of finalPolls.filter((p) => p.process === lastPoll.process)) {
      for (const [k, pairs] of Object.entries((o.value as [[string, { [key: string]: [number, Json][] }]])[0][1])) {
        for (const [offset] of pairs) highest.set(k, Math.max(highest.get(k) ?? -1, offset));
      }
    }
    for (const [key, entries] of log.logs) expect(highest.get(key), key).toBe(entries.length - 1);
  }, 30_000);
});

describe('kafka check', () => {
  it('gives the checker\'s whole result and report data cut to a bounded size', () => {
    const history = loadReferenceHistory('kafka-lossy');
    const verdict = kafkaWorkload.check(history, { opts: options(), deadlineMs: Date.now() + 60_000 }) as WorkloadVerdict;
    const { result, report } = checkKafkaWithReport(history);
    expect(verdict.workload).toEqual(result);
    expect(verdict.workload['valid?']).toBe(false);
    const extra = verdict.extra as { 'realtime-lag': Array<{ key: string; points: [number, number][] }>; errors: Array<{ type: string }>; 'error-counts': { [t: string]: number } };
    expect(extra['error-counts']).toEqual(report.errorCounts);
    const points = extra['realtime-lag'].reduce((n, s) => n + s.points.length, 0);
    expect(points).toBeLessThanOrEqual(MAX_LAG_POINTS + extra['realtime-lag'].length);
    expect(extra['realtime-lag'].map((s) => s.key)).toEqual(report.lag.map((s) => s.key));
    // coarsening keeps each key's worst lag
    for (const [i, series] of report.lag.entries()) {
      const worst = Math.max(...series.points.map((p) => p[1]));
      expect(Math.max(...(extra['realtime-lag'][i]?.points ?? []).map((p) => p[1]))).toBe(worst);
    }
    const perType = new Map<string, number>();
    for (const e of extra.errors) perType.set(e.type, (perType.get(e.type) ?? 0) + 1);
    for (const count of perType.values()) expect(count).toBeLessThanOrEqual(MAX_ERRORS_PER_TYPE);
    expect(perType.get('nonmonotonic-send')).toBe(MAX_ERRORS_PER_TYPE);
    expect(JSON.stringify(verdict.extra).length).toBeLessThan(400_000);
  }, 60_000);
});
