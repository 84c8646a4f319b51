// The node runtime's public API. See README.md for a complete example node.
export {
  createNode,
  defaultRpcTimeoutMs,
  type AskAllResult,
  type AskAnyOptions,
  type Handler,
  type HandlerResult,
  type Node,
  type NodeOptions,
  type OutBody,
  type RpcCallback,
  type RpcOptions,
} from './node.js';
export {
  ERROR_KINDS,
  ErrorCode,
  errorKind,
  KeyDoesNotExistError,
  PreconditionFailedError,
  RPCError,
  TimeoutError,
  codeName,
  errorFromReply,
  isDefinite,
  type ErrorCodeName,
  type ErrorKind,
} from './errors.js';
export { optionsOrExit, type ArgsResult } from './args.js';
export { streamHost, type NodeHost, type StreamHostOptions } from './host.js';
export { createKV, defaultKvTimeoutMs, type KV, type KVOptions, type KVService } from './kv.js';
export type { Body, BodyOf, ErrorBody, FieldKind, FieldSpec, InitBody, Json, Message } from './protocol.js';
export {
  gridTopology,
  lineTopology,
  starTopology,
  totalTopology,
  treeTopology,
  type Topology,
} from './topology.js';
export { createReplyGuard, type ReplyGuard, type ReplyGuardOptions } from './reply-guard.js';
