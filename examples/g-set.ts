// A grow-only set (Maelstrom's g-set workload) that gossips its elements to every peer.
import { createNode } from '../src/lib/index.js';

const node = createNode();
const elements = new Set<number>();

node.handle('add', { element: 'integer' }, (message) => {
  elements.add(message.body.element);
  return { type: 'add_ok' };
});
node.handle('read', {}, () => ({ type: 'read_ok', value: [...elements] }));
node.handle('merge', { elements: 'array' }, (message) => {
  for (const element of message.body.elements) if (typeof element === 'number' && Number.isSafeInteger(element)) elements.add(element);
  return { type: 'merge_ok' };
});
node.onInit(() => {
  node.every(500, () => {
    for (const peer of node.nodeIds.filter((id) => id !== node.id)) {
      node.rpc(peer, { type: 'merge', elements: [...elements] }, { timeoutMs: 400 }).catch(() => {});
    }
  });
});
await node.run();
