// Which client requests a node still answers: late replies, and requests read through a stall.
import { describe, expect, it } from 'vitest';
import { createReplyGuard, earliestSendMs, noteTick, type TickRecord } from './reply-guard.js';

describe('requests that waited through a stall', () => {
  it('date from the stall start whether they are read before or just after the first tick after it', () => {
    const ticks: TickRecord = { lastTickMs: 1000, lastStall: undefined };
    expect(earliestSendMs(1003, ticks, 500)).toBe(1003);
    // paused from 1000 to 7000: read before the first tick
    expect(earliestSendMs(7000, ticks, 500)).toBe(1000);
    // or the tick ran first
    noteTick(ticks, 7000, 500);
    expect(ticks.lastStall).toEqual({ fromMs: 1000, toMs: 7000 });
    expect(earliestSendMs(7001, ticks, 500)).toBe(1000);
    // well after the stall, requests are fresh again
    noteTick(ticks, 7400, 500);
    noteTick(ticks, 7800, 500);
    expect(earliestSendMs(7801, ticks, 500)).toBe(7801);
  });
});

describe('createReplyGuard', () => {
  const options = { replyWithinMs: 4_000, stallMs: 1_000 };

  it('answers a prompt reply, drops one that took longer than replyWithinMs, errors included', async () => {
    let now = 0;
    const guard = createReplyGuard(() => now, options);
    const tickTo = (endMs: number): void => {
      for (; now < endMs; now += 50) guard.tick();
    };
    await expect(guard.answer(async () => 'ok')).resolves.toBe('ok');
    const slow = guard.answer(() => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 1)));
    tickTo(4_050);
    await expect(slow).resolves.toBeUndefined();
    const failing = guard.answer(async () => {
      throw new Error('refused');
    });
    await expect(failing).rejects.toThrow('refused');
  });

  it('neither runs nor answers a request read after a stall longer than replyWithinMs', async () => {
    let now = 0;
    const guard = createReplyGuard(() => now, options);
    guard.tick();
    now = 9_000; // paused for 9 s: the request may have waited in the pipe since 0
    let ran = false;
    await expect(
      guard.answer(async () => {
        ran = true;
        return 'ok';
      }),
    ).resolves.toBeUndefined();
    expect(ran).toBe(false);
    guard.tick();
    now = 9_000 + options.stallMs + 1;
    guard.tick();
    await expect(guard.answer(async () => 'fresh')).resolves.toBe('fresh');
  });
});
