// Unit tests of the Raft core: one node's reaction to single events, with hand-built logs.

import { describe, expect, it } from 'vitest';
import {
  before,
  checkInvariants,
  createRaft,
  defaultLimits,
  defaultTimings,
  emptyDurable,
  lastIndex,
  receive,
  submit,
  termAt,
  tick,
  type Durable,
  type Entry,
  type Output,
  type PeerMessage,
  RaftInvariantError,
  type RaftConfig,
  type RaftState,
} from './raft.js';

const ids = ['n0', 'n1', 'n2'];

function config(id: string, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return { id, nodeIds: ids, ...defaultTimings, ...defaultLimits, random: () => 0.5, ...overrides };
}

function entry(term: number, value?: number): Entry {
  return { term, cmd: value === undefined ? null : { origin: 'n9', rid: `r${value}`, op: { f: 'write', key: 'k', value } } };
}

function node(id: string, durable: Partial<Durable> = {}, overrides: Partial<RaftConfig> = {}): RaftState {
  return createRaft(config(id, overrides), { ...emptyDurable(), ...durable }, 0);
}

/** Makes n0 leader of a two-node cluster (n0, n1). */
function makeLeaderOfTwo(state: RaftState, nowMs: number): Output {
  tick(state, nowMs);
  receive(state, 'n1', { type: 'raft_pre_vote_reply', term: state.term + 1, granted: true }, nowMs);
  const won = receive(state, 'n1', { type: 'raft_vote_reply', term: state.term, granted: true }, nowMs);
  expect(state.role).toBe('leader');
  return won;
}

function sent<T extends PeerMessage['type']>(out: Output, type: T, to?: string): Array<Extract<PeerMessage, { type: T }>> {
  return out.messages.filter((m) => m.body.type === type && (to === undefined || m.to === to)).map((m) => m.body as Extract<PeerMessage, { type: T }>);
}

/** Makes n0 leader of `term` with the votes of n1 (pre-vote and vote). */
function makeLeader(state: RaftState, nowMs: number): Output {
  const pre = tick(state, nowMs);
  expect(sent(pre, 'raft_pre_vote')).toHaveLength(2);
  const vote = receive(state, 'n1', { type: 'raft_pre_vote_reply', term: state.term + 1, granted: true }, nowMs);
  expect(state.role).toBe('candidate');
  expect(sent(vote, 'raft_vote')).toHaveLength(2);
  const won = receive(state, 'n1', { type: 'raft_vote_reply', term: state.term, granted: true }, nowMs);
  expect(state.role).toBe('leader');
  return won;
}

describe('elections', () => {
  it('a lone node elects itself after its election timeout, not before', () => {
    const solo = createRaft({ ...config('n0'), nodeIds: ['n0'] }, { ...emptyDurable(), term: 1 }, 0);
    tick(solo, defaultTimings.electionMinMs - 1);
    expect(solo.role).toBe('follower');
    const out = tick(solo, defaultTimings.electionMaxMs);
    expect(solo.role).toBe('leader');
    expect(solo.term).toBe(2);
    expect(out.persist).toContainEqual({ kind: 'hardState', term: 2, votedFor: 'n0' });
  });

  it('a cluster that never had a leader (term 0) runs its first election sooner', () => {
    const fresh = createRaft({ ...config('n0'), nodeIds: ['n0'], random: () => 0.99 }, emptyDurable(), 0);
    expect(fresh.electionDeadlineMs).toBeLessThan(defaultTimings.electionMinMs / 2);
    tick(fresh, defaultTimings.electionMinMs / 2);
    expect(fresh.role).toBe('leader');
  });

  it('a pre-vote changes no term; the real vote raises it and is persisted', () => {
    const n0 = node('n0', { term: 4 });
    const pre = tick(n0, 1_000);
    expect(n0.term).toBe(4);
    expect(sent(pre, 'raft_pre_vote')[0]).toMatchObject({ term: 5 });
    expect(pre.persist).toEqual([]);
    const vote = receive(n0, 'n2', { type: 'raft_pre_vote_reply', term: 5, granted: true }, 1_000);
    expect(n0.term).toBe(5);
    expect(vote.persist).toContainEqual({ kind: 'hardState', term: 5, votedFor: 'n0' });
  });

  it('grants one vote per term, persisted in the same step as the reply', () => {
    const n1 = node('n1', { term: 2 });
    const first = receive(n1, 'n0', { type: 'raft_vote', term: 3, last_index: 0, last_term: 0 }, 1_000);
    expect(sent(first, 'raft_vote_reply')[0]).toEqual({ type: 'raft_vote_reply', term: 3, granted: true });
    expect(first.persist).toEqual([{ kind: 'hardState', term: 3, votedFor: null }, { kind: 'hardState', term: 3, votedFor: 'n0' }]);
    const second = receive(n1, 'n2', { type: 'raft_vote', term: 3, last_index: 5, last_term: 3 }, 1_001);
    expect(sent(second, 'raft_vote_reply')[0]?.granted).toBe(false);
    // Asking again is fine (a lost reply).
    expect(sent(receive(n1, 'n0', { type: 'raft_vote', term: 3, last_index: 0, last_term: 0 }, 1_002), 'raft_vote_reply')[0]?.granted).toBe(true);
  });

  it('refuses a candidate whose log is behind (last term, then length)', () => {
    const n1 = node('n1', { term: 3, entries: [entry(1), entry(3)] });
    expect(sent(receive(n1, 'n0', { type: 'raft_vote', term: 4, last_index: 5, last_term: 2 }, 1_000), 'raft_vote_reply')[0]?.granted).toBe(false);
    expect(n1.term).toBe(4); // the term still moves on
    expect(sent(receive(n1, 'n2', { type: 'raft_vote', term: 4, last_index: 1, last_term: 3 }, 1_000), 'raft_vote_reply')[0]?.granted).toBe(false);
    expect(sent(receive(n1, 'n2', { type: 'raft_vote', term: 4, last_index: 2, last_term: 3 }, 1_000), 'raft_vote_reply')[0]?.granted).toBe(true);
  });

  it('refuses pre-votes and votes while it hears from a leader (stickiness)', () => {
    const n1 = node('n1', { term: 2 });
    receive(n1, 'n0', { type: 'raft_append', term: 2, prev_index: 0, prev_term: 0, entries: [], commit: 0 }, 1_000);
    const pre = receive(n1, 'n2', { type: 'raft_pre_vote', term: 3, last_index: 0, last_term: 0 }, 1_050);
    expect(sent(pre, 'raft_pre_vote_reply')[0]?.granted).toBe(false);
    const vote = receive(n1, 'n2', { type: 'raft_vote', term: 3, last_index: 0, last_term: 0 }, 1_050);
    expect(sent(vote, 'raft_vote_reply')[0]?.granted).toBe(false);
    expect(n1.term).toBe(2);
    // Once the leader has been silent for the minimum election timeout, the same request succeeds.
    const later = receive(n1, 'n2', { type: 'raft_pre_vote', term: 3, last_index: 0, last_term: 0 }, 1_000 + defaultTimings.electionMinMs);
    expect(sent(later, 'raft_pre_vote_reply')[0]?.granted).toBe(true);
  });

  it('steps down when any message shows a higher term', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    const out = receive(n0, 'n2', { type: 'raft_append_reply', term: 7, ok: false, match: 0 }, 1_010);
    expect(n0.role).toBe('follower');
    expect(n0.term).toBe(7);
    expect(n0.votedFor).toBeNull();
    expect(out.persist).toContainEqual({ kind: 'hardState', term: 7, votedFor: null });
  });

  it('a leader that hears no majority for checkQuorumMs steps down', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    tick(n0, 1_000 + defaultTimings.checkQuorumMs - 10);
    expect(n0.role).toBe('leader');
    receive(n0, 'n1', { type: 'raft_append_reply', term: n0.term, ok: true, match: 0 }, 1_200);
    tick(n0, 1_000 + defaultTimings.checkQuorumMs + 50);
    expect(n0.role).toBe('leader'); // n1 answered recently
    tick(n0, 1_200 + defaultTimings.checkQuorumMs + 1);
    expect(n0.role).toBe('follower');
  });
});

describe('log replication', () => {
  it('a new leader appends a no-op and sends it at once', () => {
    const n0 = node('n0', { term: 1, entries: [entry(1, 1)] });
    const out = makeLeader(n0, 1_000);
    expect(n0.entries.at(-1)).toEqual({ term: 2, cmd: null });
    const appends = sent(out, 'raft_append');
    expect(appends).toHaveLength(2);
    expect(appends[0]).toMatchObject({ term: 2, prev_index: 1, prev_term: 1, entries: [{ term: 2, cmd: null }] });
    expect(out.persist).toContainEqual({ kind: 'append', fromIndex: 2, entries: [{ term: 2, cmd: null }] });
  });

  it('rejects an append whose previous entry it lacks, hinting its last index', () => {
    const n1 = node('n1', { term: 1, entries: [entry(1), entry(1)] });
    const out = receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 5, prev_term: 1, entries: [], commit: 0 }, 10);
    expect(sent(out, 'raft_append_reply')[0]).toMatchObject({ type: 'raft_append_reply', term: 1, ok: false, match: 2 });
  });

  it('on a term conflict, hints the index before the conflicting term', () => {
    const n1 = node('n1', { term: 3, entries: [entry(1), entry(2), entry(2), entry(2)] });
    const out = receive(n1, 'n0', { type: 'raft_append', term: 3, prev_index: 4, prev_term: 3, entries: [], commit: 0 }, 10);
    expect(sent(out, 'raft_append_reply')[0]).toMatchObject({ ok: false, match: 1 });
  });

  it('replaces a conflicting suffix, keeps matching entries, and persists from the conflict on', () => {
    const n1 = node('n1', { term: 2, entries: [entry(1, 1), entry(2, 2), entry(2, 3)] });
    const incoming = [entry(1, 1), entry(3, 7), entry(3, 8)];
    const out = receive(n1, 'n0', { type: 'raft_append', term: 3, prev_index: 0, prev_term: 0, entries: incoming, commit: 0 }, 10);
    expect(n1.entries).toEqual(incoming);
    expect(out.persist).toContainEqual({ kind: 'append', fromIndex: 2, entries: incoming.slice(1) });
    expect(sent(out, 'raft_append_reply')[0]).toMatchObject({ ok: true, match: 3 });
    // A stale, shorter copy of the same append does not truncate anything.
    const again = receive(n1, 'n0', { type: 'raft_append', term: 3, prev_index: 0, prev_term: 0, entries: incoming.slice(0, 1), commit: 0 }, 20);
    expect(n1.entries).toEqual(incoming);
    expect(again.persist.filter((op) => op.kind === 'append')).toEqual([]);
  });

  it('commits only up to what the append proved to match', () => {
    const n1 = node('n1', { term: 1, entries: [entry(1, 1), entry(1, 2), entry(1, 3)] });
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 1, prev_term: 1, entries: [], commit: 3 }, 10);
    expect(n1.commitIndex).toBe(1);
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 3, prev_term: 1, entries: [], commit: 3 }, 20);
    expect(n1.commitIndex).toBe(3);
    expect(n1.kv.get('"k"')).toBe(3);
  });

  it('does not commit an earlier term’s entry by counting replicas (§5.4.2), only with its own', () => {
    // n0 was leader in term 2 and wrote index 2; now it leads term 4 after a term-3 leader failed.
    const n0 = node('n0', { term: 3, entries: [entry(1, 1), entry(2, 2)] });
    makeLeader(n0, 1_000);
    expect(n0.term).toBe(4);
    const noop = lastIndex(n0);
    expect(noop).toBe(3);
    // n1 acknowledges index 2 only: a majority holds it, but it is from term 2.
    receive(n0, 'n1', { type: 'raft_append_reply', term: 4, ok: true, match: 2 }, 1_010);
    expect(n0.commitIndex).toBe(0);
    // Once the term-4 no-op is on a majority, everything up to it commits.
    receive(n0, 'n1', { type: 'raft_append_reply', term: 4, ok: true, match: 3 }, 1_020);
    expect(n0.commitIndex).toBe(3);
    expect(termAt(n0, 2)).toBe(2);
  });

  it('the leader writes a new entry in the same step that sends it, and counts itself only once written', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    receive(n0, 'n1', { type: 'raft_append_reply', term: 1, ok: true, match: 1, seq: 1 }, 1_001);
    expect(n0.commitIndex).toBe(1);
    const out = submit(n0, 'a', { f: 'write', key: 1, value: 1 }, 1_002);
    expect(lastIndex(n0)).toBe(2);
    // Persisted and sent in one output: the caller writes before it sends.
    expect(out.persist).toEqual([{ kind: 'append', fromIndex: 2, entries: [n0.entries[1] as Entry] }]);
    const append = sent(out, 'raft_append', 'n1')[0];
    expect(append).toMatchObject({ prev_index: 1, entries: [n0.entries[1]] });
    expect(append?.lazy).toBeUndefined(); // the leader waits on it: acknowledged
    expect(n0.commitIndex).toBe(1);
    const ack = receive(n0, 'n1', { type: 'raft_append_reply', term: 1, ok: true, match: 2, seq: append?.seq as number }, 1_003);
    expect(n0.commitIndex).toBe(2);
    expect(ack.answers).toEqual([{ rid: 'a', result: { type: 'write_ok' } }]);
  });

  it('sends a write at once to one follower only (a majority with the leader); the other gets it with its next heartbeat', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    const out = submit(n0, 'a', { f: 'write', key: 1, value: 1 }, 1_010);
    // n1 still has the no-op append in flight: n2, idle, gets the write.
    expect(sent(out, 'raft_append').map((m) => m.entries.map((e) => e.cmd?.rid))).toEqual([['a']]);
    expect(out.messages[0]?.to).toBe('n2');
    expect(tick(n0, 1_020).messages).toEqual([]);
    const beat = tick(n0, 1_000 + defaultTimings.heartbeatMs);
    expect(sent(beat, 'raft_append', 'n1')[0]?.entries).toHaveLength(1);
  });

  it('one acknowledged append in flight per follower: entries arriving meanwhile wait and go together on the ack', () => {
    const n0 = createRaft({ ...config('n0'), nodeIds: ['n0', 'n1'] }, emptyDurable(), 0);
    makeLeaderOfTwo(n0, 1_000);
    const first = submit(n0, 'a', { f: 'write', key: 1, value: 1 }, 1_001);
    expect(sent(first, 'raft_append')).toHaveLength(0); // the no-op is still in flight
    const second = submit(n0, 'b', { f: 'write', key: 2, value: 2 }, 1_002);
    expect(sent(second, 'raft_append')).toHaveLength(0);
    const ack = receive(n0, 'n1', { type: 'raft_append_reply', term: 1, ok: true, match: 1, seq: 1 }, 1_003);
    const batch = sent(ack, 'raft_append', 'n1');
    expect(batch).toHaveLength(1);
    expect(batch[0]?.entries.map((e) => e.cmd?.rid)).toEqual(['a', 'b']);
  });

  it('a rejection moves nextIndex back to the hint and repairs at once', () => {
    const n0 = node('n0', { term: 1, entries: [entry(1), entry(1), entry(1)] });
    makeLeader(n0, 1_000);
    const out = receive(n0, 'n2', { type: 'raft_append_reply', term: 2, ok: false, match: 1 }, 1_001);
    expect(sent(out, 'raft_append', 'n2')[0]).toMatchObject({ prev_index: 1, prev_term: 1 });
    expect(sent(out, 'raft_append', 'n2')[0]?.entries).toHaveLength(3);
  });
});

describe('commits known to followers', () => {
  it('in three nodes a follower holding an entry of the current term commits it and answers, without acking a lazy append', () => {
    const n1 = node('n1', { term: 1 });
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: [entry(1)], commit: 0, seq: 1 }, 10);
    const forward = submit(n1, 'x', { f: 'write', key: 'a', value: 1 }, 20);
    const ops = sent(forward, 'raft_append_reply', 'n0')[0]?.ops as NonNullable<Extract<PeerMessage, { type: 'raft_append_reply' }>['ops']>;
    expect(ops).toEqual([{ origin: 'n1', rid: 'x', op: { f: 'write', key: 'a', value: 1 } }]);
    const mine: Entry = { term: 1, cmd: ops[0] as NonNullable<Entry['cmd']> };
    const out = receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 1, prev_term: 1, entries: [mine], commit: 1, seq: 2, lazy: true }, 25);
    expect(n1.commitIndex).toBe(2);
    expect(out.answers).toEqual([{ rid: 'x', result: { type: 'write_ok' } }]);
    expect(out.messages).toEqual([]);
  });

  it('an entry of an earlier term is not taken as committed that way', () => {
    const n1 = node('n1', { term: 2 });
    receive(n1, 'n0', { type: 'raft_append', term: 2, prev_index: 0, prev_term: 0, entries: [entry(1, 1)], commit: 0, seq: 1 }, 10);
    expect(n1.commitIndex).toBe(0);
  });

  it('in five nodes a follower waits for the leader’s commit index', () => {
    const n1 = createRaft({ ...config('n1'), nodeIds: ['n0', 'n1', 'n2', 'n3', 'n4'] }, { ...emptyDurable(), term: 1 }, 0);
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: [entry(1, 1)], commit: 0, seq: 1 }, 10);
    expect(n1.commitIndex).toBe(0);
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 1, prev_term: 1, entries: [], commit: 1, seq: 2, lazy: true }, 20);
    expect(n1.commitIndex).toBe(1);
  });
});

describe('reads (ReadIndex)', () => {
  it('the leader answers its own read only after a follower echoes an append sent after the read arrived', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    receive(n0, 'n1', { type: 'raft_append_reply', term: 1, ok: true, match: 1, seq: 1 }, 1_001);
    expect(n0.commitIndex).toBe(1);
    const out = submit(n0, 'r', { f: 'read', key: 'k' }, 1_010);
    expect(lastIndex(n0)).toBe(1); // no log entry for a read
    expect(out.answers).toEqual([]);
    const round = out.messages.find((m) => m.body.type === 'raft_append' && m.body.lazy !== true);
    expect(round).toBeDefined();
    const seq = (round?.body as { seq: number }).seq;
    // An acknowledgement of something sent before the read proves nothing about now.
    expect(receive(n0, 'n2', { type: 'raft_append_reply', term: 1, ok: true, match: 1, seq: seq - 1 }, 1_011).answers).toEqual([]);
    const confirmed = receive(n0, round?.to as string, { type: 'raft_append_reply', term: 1, ok: true, match: 1, seq }, 1_012);
    expect(confirmed.answers).toEqual([{ rid: 'r', result: { type: 'error', code: 20, text: 'key does not exist' } }]);
  });

  it('a read waits for the leader’s last index at its arrival to be applied', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    // The no-op is not known committed yet: a read must wait for it.
    const out = submit(n0, 'r', { f: 'read', key: 'k' }, 1_010);
    const seq = n0.sendSeq;
    expect(out.answers).toEqual([]);
    expect(receive(n0, 'n2', { type: 'raft_append_reply', term: 1, ok: true, match: 0, seq }, 1_011).answers).toEqual([]);
    expect(receive(n0, 'n2', { type: 'raft_append_reply', term: 1, ok: true, match: 1, seq }, 1_012).answers).toHaveLength(1);
  });

  it('a follower’s read is granted in a lazy append and answered once applied that far', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    const n1 = node('n1');
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: [...n0.entries], commit: 0, seq: 1 }, 1_001);
    const ask = submit(n1, 'r', { f: 'read', key: 'k' }, 1_002);
    const request = sent(ask, 'raft_append_reply', 'n0')[0];
    expect(request?.reads).toEqual(['r']);
    const grant = receive(n0, 'n1', request as PeerMessage, 1_003);
    const append = sent(grant, 'raft_append', 'n1')[0];
    expect(append?.reads).toEqual([['r', 1]]);
    expect(append?.lazy).toBe(true);
    // n1 holds the term-1 no-op, so (with the leader) it knows index 1 is committed, and answers.
    const answered = receive(n1, 'n0', append as PeerMessage, 1_004);
    expect(answered.answers).toEqual([{ rid: 'r', result: { type: 'error', code: 20, text: 'key does not exist' } }]);
  });

  it('a leader that steps down hands its unconfirmed reads to the next leader', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    submit(n0, 'r', { f: 'read', key: 'k' }, 1_010);
    receive(n0, 'n2', { type: 'raft_append', term: 5, prev_index: 0, prev_term: 0, entries: [], commit: 0, seq: 1 }, 1_020);
    expect(n0.role).toBe('follower');
    expect(n0.queue).toEqual([]); // forwarded at once to n2
    const pendingRead = n0.pending.get('r');
    expect(pendingRead?.sent).toBe(true);
  });
});

describe('invariants', () => {
  it('throws when a step lowers the term or the commit index, or commits past the log', () => {
    const n0 = node('n0', { term: 3, entries: [entry(1), entry(3)] });
    const was = before(n0);
    n0.term = 2;
    expect(() => checkInvariants(n0, was)).toThrow(RaftInvariantError);
    n0.term = 3;
    n0.commitIndex = 5;
    expect(() => checkInvariants(n0, was)).toThrow(/beyond last index/);
    n0.commitIndex = 2;
    const later = before(n0);
    n0.commitIndex = 1;
    n0.lastApplied = 1;
    expect(() => checkInvariants(n0, later)).toThrow(/commit index went down/);
  });

  it('throws when a leader’s log loses entries', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    const was = before(n0);
    n0.entries.pop();
    expect(() => checkInvariants(n0, was)).toThrow(/truncated its own log/);
  });

  it('every step checks them: a corrupted state makes the next event throw', () => {
    const n0 = node('n0');
    n0.commitIndex = 3;
    expect(() => tick(n0, 10)).toThrow(RaftInvariantError);
  });
});

describe('client requests', () => {
  it('a follower hands a request to the leader at once, once', () => {
    const n1 = node('n1', { term: 1 });
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: [], commit: 0 }, 10);
    const forward = submit(n1, 'x', { f: 'write', key: 'a', value: 1 }, 20);
    expect(sent(forward, 'raft_append_reply')[0]?.ops).toEqual([{ origin: 'n1', rid: 'x', op: { f: 'write', key: 'a', value: 1 } }]);
    const next = receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: [], commit: 0 }, 130);
    expect(sent(next, 'raft_append_reply')[0]?.ops).toBeUndefined();
  });

  it('a follower without a leader keeps requests until one is known', () => {
    const n1 = node('n1', { term: 1 });
    expect(submit(n1, 'x', { f: 'write', key: 'a', value: 1 }, 20).messages).toEqual([]);
    const out = receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: [], commit: 0, lazy: true }, 30);
    expect(sent(out, 'raft_append_reply')[0]?.ops).toHaveLength(1);
  });

  it('the leader logs forwarded requests and the origin answers when it applies them', () => {
    const n0 = node('n0');
    makeLeader(n0, 1_000);
    const cmd = { origin: 'n1', rid: 'x', op: { f: 'write' as const, key: 'a', value: 1 } };
    receive(n0, 'n1', { type: 'raft_append_reply', term: 1, ok: true, match: 1, ops: [cmd] }, 1_001);
    expect(n0.entries.at(-1)).toEqual({ term: 1, cmd });
    const n1 = node('n1');
    submit(n1, 'x', cmd.op, 1_000);
    n1.queue.length = 0; // it went to the leader
    (n1.pending.get('x') as { sent: boolean }).sent = true;
    const out = receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: n0.entries, commit: 2 }, 1_100);
    expect(out.answers).toEqual([{ rid: 'x', result: { type: 'write_ok' } }]);
    expect(n1.pending.size).toBe(0);
  });

  it('answers 11 for requests never handed on, 0 for writes that were, 11 for reads', () => {
    const n1 = node('n1', { term: 1 });
    receive(n1, 'n0', { type: 'raft_append', term: 1, prev_index: 0, prev_term: 0, entries: [], commit: 0 }, 0);
    submit(n1, 'w-sent', { f: 'write', key: 1, value: 1 }, 10);
    submit(n1, 'r-sent', { f: 'read', key: 1 }, 10);
    n1.leaderId = null;
    submit(n1, 'w-queued', { f: 'cas', key: 1, from: 1, to: 2 }, 20);
    const out = tick(n1, 10 + defaultTimings.requestTimeoutMs + 20);
    const codes = Object.fromEntries(out.answers.map((a) => [a.rid, a.result.type === 'error' ? a.result.code : 'ok']));
    expect(codes).toEqual({ 'w-sent': 0, 'r-sent': 11, 'w-queued': 11 });
    expect(n1.pending.size).toBe(0);
    expect(n1.queue).toEqual([]);
  });

  it('refuses requests past maxPending with 11 at once', () => {
    const n0 = node('n0', {}, { maxPending: 2 });
    submit(n0, 'a', { f: 'read', key: 1 }, 0);
    submit(n0, 'b', { f: 'read', key: 1 }, 0);
    const out = submit(n0, 'c', { f: 'read', key: 1 }, 0);
    expect(out.answers).toEqual([{ rid: 'c', result: { type: 'error', code: 11, text: 'too many requests in flight' } }]);
  });

  it('a leader stops taking entries while maxUncommitted are outstanding', () => {
    const n0 = node('n0', {}, { maxUncommitted: 3 });
    makeLeader(n0, 1_000);
    for (let k = 0; k < 5; k++) submit(n0, `r${k}`, { f: 'write', key: k, value: k }, 1_001);
    expect(lastIndex(n0)).toBe(3);
    expect(n0.queue).toEqual(['r2', 'r3', 'r4']);
  });
});

describe('snapshots', () => {
  it('compacts after compactEvery applied entries and sends the snapshot to a follower that needs it', () => {
    const n0 = node('n0', {}, { compactEvery: 4 });
    makeLeader(n0, 1_000);
    for (let k = 0; k < 5; k++) submit(n0, `r${k}`, { f: 'write', key: k, value: k }, 1_001);
    const out = receive(n0, 'n1', { type: 'raft_append_reply', term: 1, ok: true, match: 6, seq: n0.sendSeq }, 1_070);
    expect(n0.commitIndex).toBe(6);
    expect(n0.snapshot.index).toBe(6);
    expect(n0.entries).toEqual([]);
    expect(out.persist.some((op) => op.kind === 'snapshot')).toBe(true);
    // n2 answers that it is at index 0: it needs the snapshot, at once.
    const next = receive(n0, 'n2', { type: 'raft_append_reply', term: 1, ok: false, match: 0 }, 1_071);
    const snap = sent(next, 'raft_snapshot', 'n2')[0];
    expect(snap?.snapshot.index).toBe(6);
    const n2 = node('n2');
    const installed = receive(n2, 'n0', snap as PeerMessage, 1_200);
    expect(n2.commitIndex).toBe(6);
    expect(n2.kv.get('4')).toBe(4);
    expect(sent(installed, 'raft_append_reply')[0]).toMatchObject({ ok: true, match: 6 });
  });
});
