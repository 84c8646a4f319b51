// Group calls: ask one of several nodes until one answers, or ask them all at once.
import { ErrorCode, RPCError, TimeoutError } from './errors.js';
import type { OutBody } from './outbox.js';
import type { Body } from './protocol.js';

export interface AskAnyOptions {
  /** per-attempt timeout */
  timeoutMs?: number;
  /** overall deadline from the call, after which the call rejects with a TimeoutError */
  deadlineMs?: number;
  /** upper bound on attempts, whatever the deadline (default: three rounds over the nodes) */
  maxAttempts?: number;
}

export type AskAllResult = { node: string; ok: true; body: Body } | { node: string; ok: false; error: RPCError };

/** One RPC with its own timeout, as the node makes it. */
export type Call = (dest: string, body: OutBody, timeoutMs: number) => Promise<Body>;

/**
 * Asks nodes[start], then the next on a timeout or an indefinite error, round robin, until one
 * answers, a definite error comes back (another node would say the same), or the deadline passes.
 */
export async function askAny(
  call: Call,
  now: () => number,
  start: number,
  nodes: readonly string[],
  body: OutBody,
  options: AskAnyOptions & { timeoutMs: number },
): Promise<{ from: string; body: Body }> {
  if (nodes.length === 0) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'askAny needs at least one node');
  const deadline = now() + (options.deadlineMs ?? options.timeoutMs * nodes.length);
  const maxAttempts = options.maxAttempts ?? nodes.length * 3;
  let lastError: RPCError = new TimeoutError('askAny deadline passed before any attempt');
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const remainingMs = deadline - now();
    if (remainingMs <= 0) break;
    const target = nodes[(start + attempt) % nodes.length] as string;
    try {
      return { from: target, body: await call(target, body, Math.min(options.timeoutMs, remainingMs)) };
    } catch (error) {
      if (!(error instanceof RPCError)) throw error;
      if (error.definite) throw error;
      lastError = error;
    }
  }
  throw lastError instanceof TimeoutError ? lastError : new TimeoutError(`askAny: no node answered (${lastError.message})`);
}

/** Asks every node at once; each answer or error, in the nodes' order. */
export function askAll(call: Call, nodes: readonly string[], body: OutBody, timeoutMs: number): Promise<AskAllResult[]> {
  return Promise.all(
    nodes.map((target) =>
      call(target, body, timeoutMs).then(
        (answer): AskAllResult => ({ node: target, ok: true, body: answer }),
        (error: unknown): AskAllResult => ({
          node: target,
          ok: false,
          error: error instanceof RPCError ? error : new RPCError(ErrorCode.Crash, String(error)),
        }),
      ),
    ),
  );
}
