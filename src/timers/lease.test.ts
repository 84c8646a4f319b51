import { describe, expect, it } from 'vitest';
import { initialLease, leaseValid, stepLease, type LeaseEvent, type LeaseState } from './lease.js';

const config = { leaseMs: 600, renewMs: 100, watchMs: 100, guardMs: 50 };

function run(state: LeaseState, self: string, events: LeaseEvent[]): { state: LeaseState; kinds: string[] } {
  const kinds: string[] = [];
  for (const event of events) {
    const step = stepLease(state, event, self, config);
    state = step.state;
    kinds.push(...step.actions.map((action) => action.kind));
  }
  return { state, kinds };
}

describe('lease', () => {
  it('takes a lease nobody holds at once', () => {
    const { state, kinds } = run(initialLease(0), 'n0', [
      { kind: 'tick', nowMs: 0 },
      { kind: 'read', value: null, nowMs: 1 },
      { kind: 'cas-ok', to: { epoch: 1, holder: 'n0', beat: 0 }, sentAtMs: 1, nowMs: 2 },
    ]);
    expect(kinds).toEqual(['read', 'cas', 'became-leader']);
    expect(leaseValid(state, 500)).toBe(true);
    expect(leaseValid(state, 1 + 600 - 50)).toBe(false);
  });

  it('waits out a live holder, and takes over with the next epoch once its record stood still for leaseMs', () => {
    const held = { epoch: 4, holder: 'n1', beat: 7 };
    const watching = run(initialLease(0), 'n0', [
      { kind: 'tick', nowMs: 0 },
      { kind: 'read', value: held, nowMs: 10 },
      { kind: 'tick', nowMs: 200 },
      { kind: 'read', value: { ...held, beat: 8 }, nowMs: 200 },
      { kind: 'tick', nowMs: 700 },
      { kind: 'read', value: { ...held, beat: 8 }, nowMs: 700 },
    ]);
    expect(watching.kinds).toEqual(['read', 'read', 'read']);
    const step = stepLease(watching.state, { kind: 'tick', nowMs: 800 }, 'n0', config);
    const taken = stepLease(step.state, { kind: 'read', value: { ...held, beat: 8 }, nowMs: 800 }, 'n0', config);
    expect(taken.actions).toEqual([{ kind: 'cas', from: { ...held, beat: 8 }, to: { epoch: 5, holder: 'n0', beat: 0 } }]);
  });

  it("the holder's lease ends before any watcher may take over (counted from the renewal's send)", () => {
    const leader = run(initialLease(0), 'n0', [
      { kind: 'tick', nowMs: 0 },
      { kind: 'read', value: null, nowMs: 0 },
      { kind: 'cas-ok', to: { epoch: 1, holder: 'n0', beat: 0 }, sentAtMs: 0, nowMs: 0 },
      { kind: 'tick', nowMs: 100 },
    ]);
    // the renewal sent at 100 lands; a watcher first sees it no earlier than 100, so may take over at 700
    const renewed = stepLease(leader.state, { kind: 'cas-ok', to: { epoch: 1, holder: 'n0', beat: 1 }, sentAtMs: 100, nowMs: 400 }, 'n0', config);
    expect(leaseValid(renewed.state, 649)).toBe(true);
    expect(leaseValid(renewed.state, 650)).toBe(false);
  });

  it('steps down when a renewal is refused, not when it times out', () => {
    const leader = run(initialLease(0), 'n0', [
      { kind: 'tick', nowMs: 0 },
      { kind: 'read', value: null, nowMs: 0 },
      { kind: 'cas-ok', to: { epoch: 1, holder: 'n0', beat: 0 }, sentAtMs: 0, nowMs: 0 },
      { kind: 'tick', nowMs: 100 },
      { kind: 'cas-failed', definite: false, nowMs: 200 },
    ]);
    expect(leader.state.role).toBe('leader');
    const refused = run(leader.state, 'n0', [
      { kind: 'tick', nowMs: 300 },
      { kind: 'cas-failed', definite: true, nowMs: 301 },
    ]);
    expect(refused.kinds).toEqual(['cas', 'stepped-down']);
    expect(refused.state.role).toBe('follower');
  });

  it('a restarted node that finds itself holder takes a new epoch at once (its old self is gone)', () => {
    const { kinds } = run(initialLease(0), 'n2', [
      { kind: 'tick', nowMs: 0 },
      { kind: 'read', value: { epoch: 3, holder: 'n2', beat: 9 }, nowMs: 1 },
    ]);
    expect(kinds).toEqual(['read', 'cas']);
  });
});
