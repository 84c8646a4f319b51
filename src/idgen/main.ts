// Challenge 2: globally unique ids, totally available under partitions (no messages between nodes).
import { createNode } from '../lib/index.js';
import { createIdGenerator } from './ids.js';

const node = createNode();
let nextId: (() => string) | undefined;
node.onInit(() => {
  nextId = createIdGenerator(node.id);
});
node.handle('generate', {}, () => ({ type: 'generate_ok', id: (nextId as () => string)() }));
await node.run();
