// A small in-process cluster for the counter node's tests: test nodes (no processes) on the
// harness's own network and services (src/harness/net), so seq-kv is the one model the harness
// runs, stale the way Maelstrom's is; partitions, kills, and a seeded generator (util/rng.ts).

import type { Body, Message } from '../../src/lib/index.js';
import type { Node } from '../../src/lib/index.js';
import { startTestNode, type TestNode } from '../../src/lib/testing.js';
import { createNetwork, type Network } from '../../src/harness/net/network.js';
import { startServices } from '../../src/harness/net/services.js';
import { createRng } from '../../src/harness/util/rng.js';

/** msg ids of the cluster's own seq-kv requests, far above any a node uses */
const OWN_READ_IDS_FROM = 1_000_000_000;

/**
 * Routes what nodes write through the network (to seq-kv, to peers unless partitioned, to
 * clients). A killed node is replaced by a fresh process under the same id, as a kill nemesis does.
 */
export class Cluster {
  readonly nodes = new Map<string, TestNode>();
  /** requests nodes sent to seq-kv */
  kvRequests = 0;
  /** the next this-many cas replies from seq-kv are lost on the way to the node */
  casRepliesToLose = 0;
  private readonly network: Network;
  private readonly waiting = new Map<number, (reply: Body) => void>();
  private nextMsgId = 1000;
  private readonly pump: NodeJS.Timeout;
  private readonly casIds = new Set<string>();

  constructor(
    seed: number,
    readonly ids: string[],
    private readonly install: (node: Node) => void,
  ) {
    const t0 = process.hrtime.bigint();
    this.network = createNetwork({ latencyMs: 0, latencyDist: 'constant', rng: createRng(seed), nowNs: () => Number(process.hrtime.bigint() - t0) });
    startServices(this.network, createRng(seed + 1), () => {});
    this.pump = setInterval(() => this.route(), 2);
  }

  async start(id: string): Promise<void> {
    const t = startTestNode(this.install);
    this.nodes.set(id, t);
    this.network.register(id, { deliver: (message) => this.toNode(id, message) });
    // init goes through the router like any request: the node's first seq-kv read comes out
    // before init_ok, and must be routed too
    const reply = await this.request(id, { type: 'init', node_id: id, node_ids: this.ids }, 5000);
    if (reply?.type !== 'init_ok') throw new Error(`${id} did not answer init: ${JSON.stringify(reply)}`);
  }

  async kill(id: string): Promise<void> {
    const old = this.nodes.get(id);
    this.nodes.delete(id);
    this.network.unregister(id);
    if (old !== undefined) {
      await old.end();
      old.drain(); // what it had not sent yet dies with it
    }
    await this.start(id);
  }

  partition(groups: string[][]): void {
    const grudge: Record<string, string[]> = {};
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) grudge[x] = [...(grudge[x] ?? []), ...b];
    this.network.setGrudge(grudge);
  }

  private toNode(id: string, message: Message): void {
    const inReplyTo = message.body.in_reply_to;
    if (typeof inReplyTo === 'number' && inReplyTo >= OWN_READ_IDS_FROM) {
      this.waiting.get(inReplyTo)?.(message.body);
      this.waiting.delete(inReplyTo);
      return;
    }
    if (message.src === 'seq-kv' && this.casIds.delete(`${id}:${String(inReplyTo)}`) && this.casRepliesToLose > 0) {
      this.casRepliesToLose -= 1;
      return; // applied (or not), but the node never hears: its cas is in doubt
    }
    this.nodes.get(id)?.deliver(message);
  }

  private route(): void {
    for (const [id, t] of this.nodes) {
      for (const message of t.drain()) this.fromNode(id, message);
    }
  }

  private fromNode(id: string, message: Message): void {
    const { dest, body } = message;
    if (dest.startsWith('c')) {
      if (typeof body.in_reply_to === 'number') {
        this.waiting.get(body.in_reply_to)?.(body);
        this.waiting.delete(body.in_reply_to);
      }
      return;
    }
    if (dest === 'seq-kv') {
      this.kvRequests += 1;
      if (body.type === 'cas') this.casIds.add(`${id}:${String(body.msg_id)}`);
    }
    if (this.network.isRegistered(dest)) this.network.send(id, dest, body);
  }

  /** What `node`'s own seq-kv key holds, read as that node: it sees its own writes. */
  ownKey(node: string, key: string): Promise<Body | undefined> {
    return this.kvAs(node, { type: 'read', key });
  }

  /** A seq-kv request sent in `node`'s name (the node never sees the reply). */
  async kvAs(node: string, body: Body): Promise<Body | undefined> {
    const msgId = OWN_READ_IDS_FROM + this.nextMsgId++;
    const reply = this.awaitReply(msgId, 2000);
    this.network.send(node, 'seq-kv', { ...body, msg_id: msgId });
    return reply;
  }

  private awaitReply(msgId: number, timeoutMs: number): Promise<Body | undefined> {
    return new Promise<Body | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(msgId);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(msgId, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
    });
  }

  /** One client request; resolves with the reply body, or undefined after timeoutMs. */
  async request(node: string, body: Body, timeoutMs: number): Promise<Body | undefined> {
    const msgId = this.nextMsgId++;
    const reply = this.awaitReply(msgId, timeoutMs);
    this.nodes.get(node)?.deliver({ src: `c${msgId}`, dest: node, body: { ...body, msg_id: msgId } });
    return reply;
  }

  /** Lines the node wrote to stderr. */
  stderr(node: string): string[] {
    return this.nodes.get(node)?.stderrLines ?? [];
  }

  async stop(): Promise<void> {
    clearInterval(this.pump);
    this.network.close();
    await Promise.all([...this.nodes.values()].map((t) => t.end()));
  }
}
