// The echo workload: each client sends a short string and expects the same string back.

import type { CheckResult, Json, Op } from '../types.js';
import type { Workload } from '../workload.js';
import { repeat } from '../run/generator.js';
import { isClientOp, jsonEqual } from '../check/checkers/json-values.js';
import { singleRpcClient, validateReply } from './rpc.js';
import { S } from './reply-schema.js';

/** Maelstrom's payload: "Please echo " and a number in 0..127. */
export const ECHO_PAYLOAD_RANGE = 128;

function echoedValue(completionValue: Json | undefined): Json {
  if (typeof completionValue === 'object' && completionValue !== null && !Array.isArray(completionValue)) {
    return completionValue.echo ?? null;
  }
  return null;
}

/**
 * Maelstrom's echo checker: every invocation paired with an :ok or :fail completion (by process,
 * as Knossos pairs them) must get its payload back under `echo`. Operations that ended :info, or
 * never ended, have no pair and are not compared; a :fail carries no echo, so it is an error.
 */
export function checkEcho(history: readonly Op[]): CheckResult {
  const pending = new Map<number | 'nemesis', Op>();
  const errors: Json[] = [];
  for (const op of history) {
    if (op.type === 'invoke') {
      pending.set(op.process, op);
      continue;
    }
    if (op.type === 'info') continue;
    const invocation = pending.get(op.process);
    if (!invocation) continue;
    pending.delete(op.process);
    if (!isClientOp(op)) continue;
    const sent = invocation.value ?? null;
    if (!jsonEqual(sent, echoedValue(op.value))) {
      errors.push(['Expected a message with :echo', sent, 'But received', op.value ?? null]);
    }
  }
  return { 'valid?': errors.length === 0, errors };
}

export const echoWorkload: Workload = {
  name: 'echo',
  options: [],
  generator: () => repeat((ctx) => ({ f: 'echo', value: `Please echo ${ctx.rng.int(ECHO_PAYLOAD_RANGE)}` })),
  openClient: singleRpcClient({
    request: (op) => ({ type: 'echo', echo: op.value }),
    reply(op, body) {
      validateReply({ type: 'echo', echo: op.value }, body, 'echo_ok', { echo: S.any });
      // Maelstrom records the whole reply body as the op's value.
      return { type: 'ok', value: { ...body } as Json };
    },
  }),
  check: (history) => ({ workload: checkEcho(history) }),
};
