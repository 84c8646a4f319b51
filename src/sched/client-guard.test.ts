// When a scheduler stops answering clients: late replies, and requests read right after a stall.
import { describe, expect, it } from 'vitest';
import { AFTER_STALL_MS, createGuard, mayAnswer, REPLY_DEADLINE_MS, STALL_MS, tick } from './client-guard.js';

describe('client guard', () => {
  it('answers promptly handled requests while its timer keeps time', () => {
    const guard = createGuard(0);
    for (let t = 50; t <= 1_000; t += 50) tick(guard, t);
    expect(mayAnswer(guard, 990, 1_000)).toBe(true);
  });

  it('does not answer a reply that took longer than the deadline', () => {
    const guard = createGuard(0);
    for (let t = 50; t <= 5_000; t += 50) tick(guard, t);
    expect(mayAnswer(guard, 1_000, 1_000 + REPLY_DEADLINE_MS)).toBe(true);
    expect(mayAnswer(guard, 999, 1_000 + REPLY_DEADLINE_MS)).toBe(false);
  });

  it('after a stall (paused: the tick came seconds late) requests read then are not answered, later ones are', () => {
    const guard = createGuard(0);
    tick(guard, 50);
    // woken at 8 s: before the late tick runs, nothing read is answered
    expect(mayAnswer(guard, 8_000, 8_000)).toBe(false);
    tick(guard, 8_000);
    expect(mayAnswer(guard, 8_001, 8_002)).toBe(false);
    tick(guard, 8_000 + AFTER_STALL_MS);
    expect(mayAnswer(guard, 8_000 + AFTER_STALL_MS, 8_000 + AFTER_STALL_MS + 1)).toBe(true);
    expect(STALL_MS).toBeLessThan(REPLY_DEADLINE_MS);
  });
});
