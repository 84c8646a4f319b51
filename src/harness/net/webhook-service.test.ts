// The webhook service: fire_ok for scheduled timers, 12 for others (recorded as unknown), and what it records.
import { describe, expect, it } from 'vitest';
import type { Body, ServiceEvent } from '../types.js';
import type { ServiceContext } from '../workload.js';
import { createWebhookService, MAX_FIRES_RECORDED } from './webhook-service.js';

function harness() {
  const replies: Array<{ dest: string; inReplyTo: number; body: Body }> = [];
  const events: ServiceEvent[] = [];
  const ctx: ServiceContext = {
    nowMs: () => 250,
    reply: (dest, inReplyTo, body) => replies.push({ dest, inReplyTo, body }),
    after: () => () => {},
    record: (event) => events.push(event),
  };
  const service = createWebhookService({ scheduled: (timer) => timer === 't1', epochMs: () => 1_000_250 });
  return { replies, events, send: (body: Body) => service.handle({ src: 'n2', body }, ctx) };
}

describe('webhook service', () => {
  it('answers fire_ok to a fire of a scheduled timer and records it with both clocks and the node', () => {
    const h = harness();
    h.send({ type: 'fire', timer: 't1', msg_id: 7 });
    expect(h.replies).toEqual([{ dest: 'n2', inReplyTo: 7, body: { type: 'fire_ok' } }]);
    expect(h.events).toEqual([{ service: 'webhook', node: 'n2', type: 'fire', timeMs: 250, timer: 't1', epoch_ms: 1_000_250, known: true }]);
  });

  it('answers 12 to a fire of a timer no client scheduled, and records it as unknown', () => {
    const h = harness();
    h.send({ type: 'fire', timer: 'nobody', msg_id: 8 });
    expect(h.replies[0]?.body).toMatchObject({ type: 'error', code: 12 });
    expect(h.events[0]).toMatchObject({ timer: 'nobody', known: false });
  });

  it('answers malformed fires with 12 and other requests with 10, recording nothing', () => {
    const h = harness();
    h.send({ type: 'fire', timer: 5, msg_id: 1 });
    h.send({ type: 'fire', timer: 'x'.repeat(2000), msg_id: 2 });
    h.send({ type: 'read', msg_id: 3 });
    expect(h.replies.map((r) => r.body.code)).toEqual([12, 12, 10]);
    expect(h.events).toEqual([]);
  });

  it('records a scheduled timer at most MAX_FIRES_RECORDED times, then once that it stopped, answering every fire', () => {
    const h = harness();
    for (let k = 0; k < MAX_FIRES_RECORDED + 10; k++) h.send({ type: 'fire', timer: 't1', msg_id: k });
    expect(h.events.filter((e) => e.type === 'fire')).toHaveLength(MAX_FIRES_RECORDED);
    expect(h.events.filter((e) => e.type === 'capped')).toEqual([expect.objectContaining({ kind: 'fires of t1' })]);
    expect(h.replies).toHaveLength(MAX_FIRES_RECORDED + 10);
  });
});
