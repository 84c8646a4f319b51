// When not to answer a client. A reply to a client that has given up (its request timed out, and
// the harness closed it) is a bad line to Maelstrom, which then ignores everything this node
// writes for the rest of the test. A node cannot see a client's deadline, but it can see when it
// was itself stopped (SIGSTOP by the pause nemesis, or starved of CPU): its own timer ran late.
// Requests read right after such a stall may have waited in the pipe past the client's patience,
// and a reply that took longer than that is late whatever the reason. Neither is answered: the
// client records the operation as indeterminate, which is what it is.

/** Under the harness's client timeout (5 s): a reply older than this may find its client closed. */
export const REPLY_DEADLINE_MS = 4_000;
/** How late our own tick may run before we count it as a stall. */
export const STALL_MS = 1_000;
/** After a stall, how long requests read are taken as possibly stale (they were queued meanwhile). */
export const AFTER_STALL_MS = 250;
export const GUARD_TICK_MS = 50;

export interface ClientGuard {
  lastTickMs: number;
  /** requests read before this time (after a stall) are not answered */
  staleUntilMs: number;
}

export function createGuard(nowMs: number): ClientGuard {
  return { lastTickMs: nowMs, staleUntilMs: -Infinity };
}

/** The guard's own timer: a tick that comes much later than asked means this node was stopped. */
export function tick(guard: ClientGuard, nowMs: number): void {
  if (nowMs - guard.lastTickMs > STALL_MS) guard.staleUntilMs = nowMs + AFTER_STALL_MS;
  guard.lastTickMs = nowMs;
}

/** Whether a request read at receivedAtMs may still be answered at nowMs. */
export function mayAnswer(guard: ClientGuard, receivedAtMs: number, nowMs: number): boolean {
  if (nowMs - receivedAtMs > REPLY_DEADLINE_MS) return false;
  if (receivedAtMs < guard.staleUntilMs) return false;
  // our timers have not caught up yet: we have just woken, and the tick will say so
  return nowMs - guard.lastTickMs <= STALL_MS;
}
