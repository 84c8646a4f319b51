// What every Maelstrom workload client shares: closed response schemas, and how an error reply
// or a timeout becomes a history completion (Maelstrom's client.clj `with-errors`).

import { errorKind } from '../../lib/errors.js';
import { checkFields } from '../../lib/protocol.js';
import { schemaProblem, type ReplySchema } from './reply-schema.js';
import type { OpSpec } from '../run/generator.js';
import { SchemaError } from '../types.js';
import type { Body, Completion, Json, TestOptions } from '../types.js';
import type { ClientOp, Connection, WorkloadClient } from '../workload.js';

/** Maelstrom's default RPC timeout for a client operation. */
export const DEFAULT_RPC_TIMEOUT_MS = 5000;

/** The text the engine passes with code 0 when the client itself gave up waiting. */
export const CLIENT_TIMEOUT_TEXT = 'net-timeout';

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

/**
 * Validates a reply body against a closed schema: `type` must be `replyType`, `in_reply_to` an
 * integer, `msg_id` an optional integer, every field in `fields` present and well-formed, and no
 * other key. Throws SchemaError, which the engine records as an :info op with the exception.
 */
export function validateReply(
  request: Body,
  body: Body,
  replyType: string,
  fields: Readonly<Record<string, ReplySchema>>,
): void {
  const problems: string[] = [];
  if (body.type !== replyType) problems.push(`type: expected "${replyType}"`);
  if (!('in_reply_to' in body) || body.in_reply_to === undefined) {
    problems.push('in_reply_to: missing required key');
  } else if (checkFields(body, { in_reply_to: 'integer' }) !== undefined) {
    problems.push('in_reply_to: not an integer');
  }
  if ('msg_id' in body && checkFields(body, { msg_id: 'integer' }) !== undefined) {
    problems.push('msg_id: not an integer');
  }
  for (const [key, schema] of Object.entries(fields)) {
    const problem = body[key] === undefined ? `${key}: missing required key` : schemaProblem(body[key], schema, key);
    if (problem !== undefined) problems.push(problem);
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

/** An RPC that did not succeed: an error reply (its code) or the client's timeout (code 0). */
export class RpcFailure extends Error {
  readonly code: number;
  readonly text: string | undefined;

  constructor(code: number, text: string | undefined) {
    super(`error ${code}${text === undefined ? '' : `: ${text}`}`);
    this.name = 'RpcFailure';
    this.code = code;
    this.text = text;
  }
}

/** One RPC on a client's connection: the reply body, or RpcFailure. */
export async function call(conn: Connection, body: Body, timeoutMs: number): Promise<Body> {
  const result = await conn.rpc(body, timeoutMs);
  if (result.kind === 'timeout') throw new RpcFailure(0, CLIENT_TIMEOUT_TEXT);
  if (result.body.type === 'error') {
    const code = typeof result.body.code === 'number' ? result.body.code : -1;
    throw new RpcFailure(code, typeof result.body.text === 'string' ? result.body.text : undefined);
  }
  return result.body;
}

/**
 * Maelstrom's with-errors: runs an operation's RPCs and turns an RpcFailure from any of them into
 * the completion Maelstrom records (fail for definite errors and idempotent ops, info otherwise).
 */
export async function withErrors(op: OpSpec, idempotent: boolean, run: () => Promise<Completion>): Promise<Completion> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RpcFailure) return errorCompletion(op, err.code, err.text, idempotent);
    throw err;
  }
}

/** A workload whose every operation is one request and one reply (echo, unique-ids, broadcast). */
export interface SingleRpc {
  request(op: ClientOp): Body;
  /** the completion for a non-error reply; throws SchemaError when the body breaks the schema */
  reply(op: ClientOp, body: Body): Completion;
  /** idempotent operations fail on any error (broadcast's read) */
  idempotent?(op: ClientOp): boolean;
  timeoutMs?(opts: TestOptions): number;
}

export function singleRpcClient(spec: SingleRpc): (conn: Connection, opts: TestOptions) => WorkloadClient {
  return (conn, opts) => {
    const timeoutMs = spec.timeoutMs?.(opts) ?? DEFAULT_RPC_TIMEOUT_MS;
    return {
      invoke: (op) =>
        withErrors(op, spec.idempotent?.(op) ?? false, async () => spec.reply(op, await call(conn, spec.request(op), timeoutMs))),
    };
  };
}

export type { Json };
