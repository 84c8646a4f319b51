// Replies a client may no longer wait for. A reply to a client that has given up (its request
// timed out and the harness closed it) is a bad line to Maelstrom, which then ignores everything
// the node writes for the rest of the test. A node cannot see a client's deadline, but it can see
// when it was itself stopped (SIGSTOP by the pause nemesis, or starved of CPU): its own ticks ran
// late. A request read during or just after such a stall may have waited in the pipe since the
// stall began. A request is answered only within replyWithinMs of the earliest moment it may have
// been sent; otherwise it is neither answered nor acted on, and the client records the operation
// as indeterminate, which is what it is.

export interface ReplyGuardOptions {
  /** under the client's timeout (Maelstrom's is 5 s): answer only within this of the send */
  replyWithinMs: number;
  /** a gap between ticks longer than this is a stall */
  stallMs: number;
}

/** When the guard's ticks last ran, and the last stall (a gap between ticks) they saw. */
export interface TickRecord {
  lastTickMs: number;
  lastStall: { fromMs: number; toMs: number } | undefined;
}

export function noteTick(ticks: TickRecord, nowMs: number, stallMs: number): void {
  if (nowMs - ticks.lastTickMs > stallMs) ticks.lastStall = { fromMs: ticks.lastTickMs, toMs: nowMs };
  ticks.lastTickMs = nowMs;
}

/**
 * The earliest a request read now may have been sent. Normally now; but requests that waited in
 * the pipe through a stall are read either before the first tick after it (the gap is still open)
 * or just after it (the tick ran first): either way they may date from the stall's start.
 */
export function earliestSendMs(nowMs: number, ticks: TickRecord, stallMs: number): number {
  if (nowMs - ticks.lastTickMs > stallMs) return ticks.lastTickMs;
  if (ticks.lastStall !== undefined && nowMs - ticks.lastStall.toMs <= stallMs) return ticks.lastStall.fromMs;
  return nowMs;
}

export interface ReplyGuard {
  /** Call every few ticks of the node's own timer (well under stallMs apart). */
  tick(): void;
  /**
   * Runs a client request's handler if the request is still in time, and passes on its reply
   * (or error) only if it still is; undefined means: do not answer.
   */
  answer<T>(handle: () => Promise<T>): Promise<T | undefined>;
}

export function createReplyGuard(nowMs: () => number, options: ReplyGuardOptions): ReplyGuard {
  const ticks: TickRecord = { lastTickMs: nowMs(), lastStall: undefined };
  return {
    tick: () => noteTick(ticks, nowMs(), options.stallMs),
    answer<T>(handle: () => Promise<T>): Promise<T | undefined> {
      const sentNoEarlierThanMs = earliestSendMs(nowMs(), ticks, options.stallMs);
      const inTime = (): boolean => nowMs() - sentNoEarlierThanMs <= options.replyWithinMs;
      if (!inTime()) return Promise.resolve(undefined);
      return handle().then(
        (reply) => (inTime() ? reply : undefined),
        (error: unknown) => {
          if (inTime()) throw error;
          return undefined;
        },
      );
    },
  };
}
