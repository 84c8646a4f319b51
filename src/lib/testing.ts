// In-process harness for testing nodes built on the runtime: feeds lines to a node's stdin and
// collects what it writes, with no processes involved. Used by the runtime's and the nodes' tests.

import { PassThrough } from 'node:stream';
import { createNode, type Node } from './node.js';
import type { Body, Message } from './protocol.js';

export interface TestNode {
  node: Node;
  /** Writes raw text to the node's stdin (lines need their own '\n'). */
  write(text: string): void;
  /** Sends one message as a JSON line. */
  deliver(message: Message | { src: string; dest: string; body: Body; id?: number }): void;
  /** Sends init for `id` among `ids` and waits for init_ok. */
  init(id: string, ids: string[]): Promise<Message>;
  /** The next message the node writes (waits up to timeoutMs). */
  next(timeoutMs?: number): Promise<Message>;
  /** Messages written so far and not yet taken by next(). */
  drain(): Message[];
  /** Lines the node wrote to stderr. */
  readonly stderrLines: string[];
  /** Closes stdin and waits for run() to finish. */
  end(): Promise<void>;
  /** resolves when run() finishes */
  readonly done: Promise<void>;
}

export function startTestNode(setup: (node: Node) => void = () => {}): TestNode {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const node = createNode({ stdin, stdout, stderr });
  setup(node);

  const outbox: Message[] = [];
  const waiters: Array<(message: Message) => void> = [];
  let carry = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    const lines = (carry + chunk).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (line.length === 0) continue;
      const message = JSON.parse(line) as Message;
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else outbox.push(message);
    }
  });
  const stderrLines: string[] = [];
  stderr.setEncoding('utf8');
  stderr.on('data', (chunk: string) => stderrLines.push(...chunk.split('\n').filter((line) => line.length > 0)));

  const done = node.run();

  function next(timeoutMs = 2_000): Promise<Message> {
    const ready = outbox.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = waiters.indexOf(waiter);
        if (index !== -1) waiters.splice(index, 1);
        reject(new Error(`node wrote nothing within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (message: Message): void => {
        clearTimeout(timer);
        resolve(message);
      };
      waiters.push(waiter);
    });
  }

  const testNode: TestNode = {
    node,
    write(text) {
      stdin.write(text);
    },
    deliver(message) {
      stdin.write(JSON.stringify(message) + '\n');
    },
    async init(id, ids) {
      testNode.deliver({ src: 'c0', dest: id, body: { type: 'init', msg_id: 1, node_id: id, node_ids: ids } });
      return next();
    },
    next,
    drain() {
      return outbox.splice(0, outbox.length);
    },
    stderrLines,
    async end() {
      stdin.end();
      await done;
    },
    done,
  };
  return testNode;
}
