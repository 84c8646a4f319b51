// Counter node for Gossip Glomers 4 (g-counter) and Maelstrom's pn-counter. Settings: `bin/counter --help`.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installCrdtCounter } from './crdt-server.js';
import { installCounter } from './server.js';

const program = optionsOrExit('counter', parseArgs(process.argv.slice(2)), usage);

const node = createNode();
if (program.mode === 'memory') installCrdtCounter(node, program.config);
else installCounter(node, program.options);
await node.run();
