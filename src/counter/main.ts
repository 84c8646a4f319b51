// Counter node for Gossip Glomers 4 (g-counter) and Maelstrom's pn-counter. Settings: `bin/counter --help`.

import { createNode } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installCounter } from './server.js';

const parsed = parseArgs(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(usage);
  process.exit(0);
}
if (parsed.kind === 'error') {
  process.stderr.write(`counter: ${parsed.message}\n\n${usage}`);
  process.exit(2);
}

const node = createNode();
installCounter(node, parsed.options);
await node.run();
