// A tiny in-process network for the counter node's tests and measurements: test nodes (no
// processes), a fake seq-kv that is stale the way Maelstrom's is, partitions and kills.

import type { Body, Message } from '../../src/lib/index.js';
import { startTestNode, type TestNode } from '../../src/lib/testing.js';
import { createFakeSeqKv, type FakeSeqKv } from './fake-seq-kv.js';
import { installCounter, type CounterOptions } from '../../src/counter/server.js';

/**
 * A tiny network: routes what nodes write to seq-kv, to peers (unless partitioned) and to clients.
 * A killed node is replaced by a fresh process under the same id, as a kill nemesis does.
 */
export class Cluster {
  readonly nodes = new Map<string, TestNode>();
  readonly kv: FakeSeqKv;
  private readonly waiting = new Map<number, (reply: Body) => void>();
  readonly cut = new Set<string>(); // "a>b": b drops messages from a
  serverMessages = 0;
  /** the next this-many cas replies from seq-kv are lost */
  casRepliesToLose = 0;
  private nextMsgId = 1000;
  private pump: NodeJS.Timeout;

  constructor(
    seed: number,
    readonly ids: string[],
    readonly options: CounterOptions,
  ) {
    this.kv = createFakeSeqKv(seed);
    this.pump = setInterval(() => this.route(), 2);
  }

  async start(id: string): Promise<void> {
    const t = startTestNode((node) => installCounter(node, this.options));
    this.nodes.set(id, t);
    // init goes through the router like any request: the node's first seq-kv read may come out
    // before init_ok, and must be routed too
    const reply = await this.request(id, { type: 'init', node_id: id, node_ids: this.ids }, 2000);
    if (reply?.type !== 'init_ok') throw new Error(`${id} did not answer init`);
  }

  async kill(id: string): Promise<void> {
    const old = this.nodes.get(id)!;
    this.nodes.delete(id);
    await old.end();
    old.drain(); // what it had not sent yet dies with it
    await this.start(id);
  }

  partition(groups: string[][]): void {
    this.cut.clear();
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
  }

  private route(): void {
    for (const [id, t] of this.nodes) {
      for (const message of t.drain()) this.deliver(id, message);
    }
  }

  private deliver(from: string, message: Message): void {
    const { dest, body } = message;
    if (dest.startsWith('c')) {
      if (typeof body.in_reply_to === 'number') {
        this.waiting.get(body.in_reply_to)?.(body);
        this.waiting.delete(body.in_reply_to);
      }
      return;
    }
    this.serverMessages += 1;
    if (dest === 'seq-kv') {
      const reply = this.kv.handle(from, body);
      this.serverMessages += 1;
      if (body.type === 'cas' && this.casRepliesToLose > 0) {
        this.casRepliesToLose -= 1;
        return; // applied (or not), but the node never hears: its cas is in doubt
      }
      this.nodes.get(from)?.deliver({ src: 'seq-kv', dest: from, body: { ...reply, type: String(reply.type), in_reply_to: body.msg_id as number } });
      return;
    }
    if (this.cut.has(`${from}>${dest}`)) return;
    this.nodes.get(dest)?.deliver(message);
  }

  /** One client request; resolves with the reply body, or undefined after timeoutMs. */
  async request(node: string, body: Body, timeoutMs: number): Promise<Body | undefined> {
    const msgId = this.nextMsgId++;
    const reply = new Promise<Body | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(msgId);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(msgId, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
    });
    this.nodes.get(node)?.deliver({ src: `c${msgId}`, dest: node, body: { ...body, msg_id: msgId } });
    return reply;
  }

  async stop(): Promise<void> {
    clearInterval(this.pump);
    await Promise.all([...this.nodes.values()].map((t) => t.end()));
  }
}

