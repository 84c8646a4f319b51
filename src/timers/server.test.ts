import { describe, expect, it } from 'vitest';
import { earliestSendMs, noteTick, type TickRecord } from './server.js';

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
