// Broadcast node for Gossip Glomers 3a-3e. Settings: see `bin/broadcast --help`.

import { createNode } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installBroadcast } from './server.js';

const parsed = parseArgs(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(usage);
  process.exit(0);
}
if (parsed.kind === 'error') {
  process.stderr.write(`broadcast: ${parsed.message}\n\n${usage}`);
  process.exit(2);
}

const node = createNode();
installBroadcast(node, parsed.options);
await node.run();
