// The echo workload: each client sends a short string and expects the same string back.

import type { Body, CheckResult, Completion, Generator, Json, Op, OpSpec, Rng, Workload } from '../types.js';
import { isClientOp, jsonEqual } from '../checkers/json-values.js';
import { anyValue, DEFAULT_RPC_TIMEOUT_MS, errorCompletion, validateReply } from './rpc.js';

/** Maelstrom's payload: "Please echo " and a number in 0..127. */
export const ECHO_PAYLOAD_RANGE = 128;

function echoRequest(op: OpSpec): Body {
  return { type: 'echo', echo: op.value };
}

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
  hasFinalPhase: false,

  rpcTimeoutMs(): number {
    return DEFAULT_RPC_TIMEOUT_MS;
  },

  generator(_opts, rng: Rng): Generator {
    return {
      next(): OpSpec {
        return { f: 'echo', value: `Please echo ${rng.int(ECHO_PAYLOAD_RANGE)}` };
      },
    };
  },

  request: echoRequest,

  onReply(op: OpSpec, body: Body): Completion {
    validateReply(echoRequest(op), body, 'echo_ok', { echo: anyValue });
    // Maelstrom records the whole reply body as the op's value.
    return { type: 'ok', value: { ...body } as Json };
  },

  onError(op: OpSpec, code: number, text: string | undefined): Completion {
    return errorCompletion(op, code, text, false);
  },

  check(history: Op[]): CheckResult {
    return checkEcho(history);
  },
};
