// Transaction node for Gossip Glomers 6a-6c (txn-rw-register; txn-list-append too).
// Settings: see `bin/txn --help`.

import { createNode } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installTxn } from './server.js';

const parsed = parseArgs(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(usage);
  process.exit(0);
}
if (parsed.kind === 'error') {
  process.stderr.write(`txn: ${parsed.message}\n\n${usage}`);
  process.exit(2);
}

const node = createNode();
installTxn(node, parsed.options);
await node.run();
