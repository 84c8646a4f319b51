// What every Maelstrom workload client shares: closed response schemas, and how an error reply
// or a timeout becomes a history completion (Maelstrom's client.clj `with-errors`).

import { SchemaError } from '../types.js';
import type { Body, Completion, Json, OpSpec } from '../types.js';

/** Maelstrom's default RPC timeout for a client operation. */
export const DEFAULT_RPC_TIMEOUT_MS = 5000;

/** The text the engine passes with code 0 when the client itself gave up waiting. */
export const CLIENT_TIMEOUT_TEXT = 'net-timeout';

export interface ErrorKind {
  name: string;
  definite: boolean;
}

/** Maelstrom's error registry (resources/errors.edn): code -> name and definiteness. */
export const ERROR_KINDS: Readonly<Record<number, ErrorKind>> = {
  0: { name: 'timeout', definite: false },
  1: { name: 'node-not-found', definite: true },
  10: { name: 'not-supported', definite: true },
  11: { name: 'temporarily-unavailable', definite: true },
  12: { name: 'malformed-request', definite: true },
  13: { name: 'crash', definite: false },
  14: { name: 'abort', definite: true },
  20: { name: 'key-does-not-exist', definite: true },
  21: { name: 'key-already-exists', definite: true },
  22: { name: 'precondition-failed', definite: true },
  30: { name: 'txn-conflict', definite: true },
};

/** Unknown and custom codes are indefinite and named "unknown", as in Maelstrom. */
export function errorKind(code: number): ErrorKind {
  return ERROR_KINDS[code] ?? { name: 'unknown', definite: false };
}

/**
 * The completion Maelstrom records for a failed RPC. A client timeout (code 0 with
 * CLIENT_TIMEOUT_TEXT) records `error: "net-timeout"`; an error reply records
 * `error: [name, text]` (text null when absent). Definite errors fail; indefinite ones and
 * timeouts are info, except for idempotent operations, which fail on anything.
 */
export function errorCompletion(
  op: OpSpec,
  code: number,
  text: string | undefined,
  idempotent: boolean,
): Completion {
  if (code === 0 && text === CLIENT_TIMEOUT_TEXT) {
    return { type: idempotent ? 'fail' : 'info', value: op.value, error: CLIENT_TIMEOUT_TEXT };
  }
  const kind = errorKind(code);
  return {
    type: kind.definite || idempotent ? 'fail' : 'info',
    value: op.value,
    error: [kind.name, text ?? null],
  };
}

/** Checks one field's value; returns why it does not match, or null when it does. */
export type FieldCheck = (value: Json) => string | null;

export const anyValue: FieldCheck = () => null;

export const listValue: FieldCheck = (value) => (Array.isArray(value) ? null : 'not a list');

export const integerValue: FieldCheck = (value) =>
  typeof value === 'number' && Number.isInteger(value) ? null : 'not an integer';

/**
 * Validates a reply body against a closed schema: `type` must be `replyType`, `in_reply_to` an
 * integer, `msg_id` an optional integer, every field in `fields` present and well-formed, and no
 * other key. Throws SchemaError, which the engine records as an :info op with the exception.
 */
export function validateReply(
  request: Body,
  body: Body,
  replyType: string,
  fields: Readonly<Record<string, FieldCheck>>,
): void {
  const problems: string[] = [];
  if (body.type !== replyType) problems.push(`type: expected "${replyType}"`);
  if (!('in_reply_to' in body) || body.in_reply_to === undefined) {
    problems.push('in_reply_to: missing required key');
  } else if (integerValue(body.in_reply_to) !== null) {
    problems.push('in_reply_to: not an integer');
  }
  if ('msg_id' in body && integerValue(body.msg_id ?? null) !== null) {
    problems.push('msg_id: not an integer');
  }
  for (const [key, check] of Object.entries(fields)) {
    const value = body[key];
    if (value === undefined) {
      problems.push(`${key}: missing required key`);
      continue;
    }
    const problem = check(value);
    if (problem !== null) problems.push(`${key}: ${problem}`);
  }
  const allowed = new Set(['type', 'in_reply_to', 'msg_id', ...Object.keys(fields)]);
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) problems.push(`${key}: disallowed key`);
  }
  if (problems.length > 0) {
    const expected = ['type', ...Object.keys(fields), 'in_reply_to', 'msg_id (optional)'].join(', ');
    throw new SchemaError(
      `Malformed RPC response. Request ${JSON.stringify(request)} expects a "${replyType}" body ` +
        `with exactly {${expected}}, but received ${JSON.stringify(body)}: ${problems.join('; ')}`,
    );
  }
}
