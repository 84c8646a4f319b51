#!/usr/bin/env node
// A broadcast node that floods: every broadcast it receives, from a client or a peer, goes to every
// other node again, with no de-duplication. Copied in spirit from public 3b solutions that do this;
// the traffic grows until the harness (not the node) is what limits it, so the number of messages
// a run delivers measures the harness's capacity (bench/harness-cost.mjs, docs/network.md).
// Only Node's standard library, so the node itself stays cheap: one JSON.parse per line, forwarded
// lines built by string concatenation.
'use strict';

let nodeId = '';
let peers = [];
let nextMsgId = 1;
/** every value seen, for read (a Set: the messages repeat for ever) */
const values = new Set();
let valuesJson = '[]';
let valuesDirty = false;
let out = '';

const send = (dest, bodyJson) => {
  out += `{"src":${JSON.stringify(nodeId)},"dest":${JSON.stringify(dest)},"body":${bodyJson}}\n`;
};

function handle(message) {
  const { body } = message;
  const replyTo = body.msg_id;
  switch (body.type) {
    case 'init':
      nodeId = body.node_id;
      peers = body.node_ids.filter((id) => id !== nodeId);
      break;
    case 'topology':
      break;
    case 'broadcast': {
      if (!values.has(body.message)) {
        values.add(body.message);
        valuesDirty = true;
      }
      const forward = `{"type":"broadcast","message":${JSON.stringify(body.message)}}`;
      for (const peer of peers) send(peer, forward);
      break;
    }
    case 'read':
      if (valuesDirty) {
        valuesJson = JSON.stringify([...values]);
        valuesDirty = false;
      }
      send(message.src, `{"type":"read_ok","messages":${valuesJson},"in_reply_to":${replyTo},"msg_id":${nextMsgId++}}`);
      return;
    default:
      return;
  }
  if (replyTo !== undefined) {
    send(message.src, `{"type":"${body.type}_ok","in_reply_to":${replyTo},"msg_id":${nextMsgId++}}`);
  }
}

let carry = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (carry + chunk).split('\n');
  carry = lines.pop() ?? '';
  for (const line of lines) if (line !== '') handle(JSON.parse(line));
  if (out !== '') {
    // Reading goes on while stdout is full, as in the public Go solutions (a goroutine per
    // message): the backlog waits in this process, so the harness's stdout pace is the limit.
    process.stdout.write(out);
    out = '';
  }
});
process.stdout.on('error', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
