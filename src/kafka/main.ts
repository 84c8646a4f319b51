// Kafka-style log node for Gossip Glomers 5a-5c. Settings: see `bin/kafka --help`.

import { createNode } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installKafka } from './server.js';

const parsed = parseArgs(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(usage);
  process.exit(0);
}
if (parsed.kind === 'error') {
  process.stderr.write(`kafka: ${parsed.message}\n\n${usage}`);
  process.exit(2);
}

const node = createNode();
installKafka(node, parsed.options);
await node.run();
