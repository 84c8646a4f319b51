// The timers workload's `webhook` service: the users' callback (docs/workloads/timers.md). A node
// fires a timer with {type: "fire", timer}; the service answers fire_ok at once and records the
// fire with the harness's time on both clocks (ms since the test began, for the history; Unix ms,
// which due_ms is on) and the node that sent it. A timer no client asked to schedule is answered
// 12 and recorded as unknown, so the checker counts it. Never partitioned; latency applies.
import { ErrorCode } from '../../lib/errors.js';
import type { Body } from '../types.js';
import type { WorkloadService } from '../workload.js';
import { createRecordBound } from './record-bound.js';

export const WEBHOOK_SERVICE_ID = 'webhook';

/** Longest timer id the service takes (the clients' ids are a few characters). */
export const MAX_TIMER_ID_CHARS = 1_000;

/**
 * Fires recorded per scheduled timer, and fires of unknown timers in all: a second fire is already
 * a duplicate, and a node can fire as fast as it writes (record-bound.ts).
 */
export const MAX_FIRES_RECORDED = 100;
export const MAX_UNKNOWN_FIRES_RECORDED = 10_000;

export interface WebhookServiceOptions {
  /** true when a client sent a schedule request for this timer id */
  scheduled(timer: string): boolean;
  /** Unix ms by the clock the nodes share (Date.now(); under --sim, the virtual clock's) */
  epochMs(): number;
}

function errorBody(code: number, text: string): Body {
  return { type: 'error', code, text };
}

export function createWebhookService(options: WebhookServiceOptions): WorkloadService {
  const perTimer = createRecordBound(MAX_FIRES_RECORDED);
  const unknown = createRecordBound(MAX_UNKNOWN_FIRES_RECORDED);
  return {
    id: WEBHOOK_SERVICE_ID,
    handle({ src, body }, ctx) {
      const msgId = typeof body.msg_id === 'number' ? body.msg_id : undefined;
      const answer = (reply: Body): void => {
        if (msgId !== undefined) ctx.reply(src, msgId, reply);
      };
      if (body.type !== 'fire') {
        answer(errorBody(ErrorCode.NotSupported, `webhook answers only fire, not ${JSON.stringify(body.type)}`));
        return;
      }
      const { timer } = body;
      if (typeof timer !== 'string' || timer.length === 0 || timer.length > MAX_TIMER_ID_CHARS) {
        answer(errorBody(ErrorCode.MalformedRequest, `fire needs a timer id of 1 to ${MAX_TIMER_ID_CHARS} characters`));
        return;
      }
      const known = options.scheduled(timer);
      const admitted = known ? perTimer.admit(timer) : unknown.admit('unknown');
      if (admitted === 'record') ctx.record({ service: WEBHOOK_SERVICE_ID, node: src, type: 'fire', timeMs: ctx.nowMs(), timer, epoch_ms: options.epochMs(), known });
      else if (admitted === 'capped') ctx.record({ service: WEBHOOK_SERVICE_ID, node: src, type: 'capped', timeMs: ctx.nowMs(), kind: known ? `fires of ${timer}` : 'fires of unknown timers' });
      answer(known ? { type: 'fire_ok' } : errorBody(ErrorCode.MalformedRequest, `no client scheduled timer ${timer}`));
    },
  };
}
