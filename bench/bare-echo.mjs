#!/usr/bin/env node
// The physical limit of the design: a bare line-by-line JSON parse/stringify echo loop with no
// runtime at all (same batching of one stdout write per input chunk as the runtime).
let carry = '';
let msgId = 0;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (carry + chunk).split('\n');
  carry = lines.pop() ?? '';
  let out = '';
  for (const line of lines) {
    if (line.length === 0) continue;
    const message = JSON.parse(line);
    const body = message.body;
    const reply =
      body.type === 'init'
        ? { type: 'init_ok', msg_id: ++msgId, in_reply_to: body.msg_id }
        : { type: 'echo_ok', echo: body.echo, msg_id: ++msgId, in_reply_to: body.msg_id };
    out += JSON.stringify({ src: message.dest, dest: message.src, body: reply }) + '\n';
  }
  if (out.length > 0) process.stdout.write(out);
});
