// bin/sched's scheduler role in process, with lin-kv answered by the test: work is refused until
// the cluster message, malformed requests get 12, and a job goes log -> submit_ok -> probes ->
// grant (claim first) -> done.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../lib/testing.js';
import type { Body, Json, Message } from '../lib/index.js';
import { installSched, type SchedNode } from './server.js';

let open: TestNode | undefined;
afterEach(async () => {
  await open?.end();
  open = undefined;
});

/** Answers the node's lin-kv requests from a map until `until` matches a message; returns the others. */
async function serveUntil(t: TestNode, kv: Map<string, Json>, until: (m: Message) => boolean): Promise<Message[]> {
  const seen: Message[] = [];
  for (;;) {
    const message = await t.next(10_000);
    if (message.dest !== 'lin-kv') {
      if (until(message)) return seen;
      seen.push(message);
      continue;
    }
    const { body } = message;
    const key = JSON.stringify(body.key);
    const reply = (out: Body): void => t.deliver({ src: 'lin-kv', dest: message.src, body: { ...out, in_reply_to: body.msg_id } });
    if (body.type === 'read') reply(kv.has(key) ? { type: 'read_ok', value: kv.get(key) ?? null } : { type: 'error', code: 20 });
    else if (body.type === 'write') {
      kv.set(key, body.value ?? null);
      reply({ type: 'write_ok' });
    } else if (body.type === 'cas') {
      const exists = kv.has(key);
      if (!exists && body.create_if_not_exists !== true) reply({ type: 'error', code: 20 });
      else if (exists && JSON.stringify(kv.get(key)) !== JSON.stringify(body.from)) reply({ type: 'error', code: 22 });
      else {
        kv.set(key, body.to ?? null);
        reply({ type: 'cas_ok' });
      }
    }
  }
}

async function started(): Promise<{ t: TestNode; sched: SchedNode }> {
  let sched: SchedNode | undefined;
  const t = startTestNode((node) => {
    sched = installSched(node);
  });
  open = t;
  await t.init('n0', ['n0', 'n1', 'n2']);
  if (sched === undefined) throw new Error('not installed');
  return { t, sched };
}

const submit = (msgId: number, body: { [key: string]: Json }): Message => ({ src: 'c9', dest: 'n0', body: { type: 'submit', msg_id: msgId, ...body } });

describe('bin/sched scheduler role', () => {
  it('refuses work with 11 before the cluster message, and a malformed cluster with 12', async () => {
    const { t } = await started();
    t.deliver(submit(2, { job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }] }));
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 11, in_reply_to: 2 });
    t.deliver({ src: 'c9', dest: 'n0', body: { type: 'cluster', msg_id: 3, schedulers: ['n7'], slots: { n1: 2 } } });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 3 });
    t.deliver({ src: 'c9', dest: 'n0', body: { type: 'cluster', msg_id: 4, schedulers: ['n0'], slots: { n1: -1 } } });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 4 });
  });

  it('logs a job in lin-kv before submit_ok, probes, grants on a claim, and forgets the job once done', async () => {
    const { t, sched } = await started();
    const kv = new Map<string, Json>();
    t.deliver({ src: 'c9', dest: 'n0', body: { type: 'cluster', msg_id: 2, schedulers: ['n0'], slots: { n1: 2, n2: 2 } } });
    await serveUntil(t, kv, (m) => m.body.type === 'cluster_ok');

    t.deliver(submit(3, { job: 'j0', tasks: 'nope' }));
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 3 });
    t.deliver(submit(4, { job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }] }));
    const probes = await serveUntil(t, kv, (m) => m.body.type === 'submit_ok' && m.body.in_reply_to === 4);
    // d = 2 probes for the one task, one per worker (batch sampling)
    expect(probes.filter((m) => m.body.type === 'reserve').map((m) => m.dest).sort()).toEqual(['n1', 'n2']);
    const chunk = kv.get(JSON.stringify('log/n0/0')) as { jobs: Json[] };
    expect(chunk.jobs).toEqual([{ job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }] }]);

    // worker n1 asks and is granted the task, its claim in lin-kv first
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'get_task', msg_id: 1, inc: 'n1-a' } });
    const granting = await serveUntil(t, kv, (m) => m.body.type === 'grant' && m.body.task === 'j0.0');
    expect(kv.get(JSON.stringify('claim/j0.0'))).toEqual({ w: 'n1', i: 'n1-a' });
    // nothing else pending: the reservation standing at n2 is cancelled, and n2 asking anyway gets none
    expect(granting.filter((m) => m.body.type === 'cancel').map((m) => m.dest)).toEqual(['n2']);
    t.deliver({ src: 'n2', dest: 'n0', body: { type: 'get_task', msg_id: 1, inc: 'n2-a' } });
    await serveUntil(t, kv, (m) => m.body.type === 'grant' && m.body.task === null);

    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'task_done', task: 'j0.0' } });
    // a repeated submit of a finished job is acknowledged, not logged again
    t.deliver(submit(5, { job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }] }));
    await serveUntil(t, kv, (m) => m.body.type === 'submit_ok' && m.body.in_reply_to === 5);
    expect(sched.scheduler()?.state.tasks.size).toBe(0);
    expect(kv.has(JSON.stringify('log/n0/1'))).toBe(false);
  });
});
