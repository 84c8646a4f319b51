// Challenge 1: echo the request's payload back.
import { createNode } from '../lib/index.js';

const node = createNode();
node.handle('echo', { echo: 'any' }, (message) => ({ type: 'echo_ok', echo: message.body.echo }));
await node.run();
