// Maelstrom's error codes (docs/protocol.md §2) and the error type every RPC failure becomes.

export const ErrorCode = {
  Timeout: 0,
  NodeNotFound: 1,
  NotSupported: 10,
  TemporarilyUnavailable: 11,
  MalformedRequest: 12,
  Crash: 13,
  Abort: 14,
  KeyDoesNotExist: 20,
  KeyAlreadyExists: 21,
  PreconditionFailed: 22,
  TxnConflict: 30,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;

/** Longest text an error reply carries, whatever a handler threw: a reply is not a place for data. */
export const maxErrorReplyTextChars = 1000;

export interface ErrorKind {
  /** Maelstrom's name, as histories record it (e.g. "key-does-not-exist") */
  name: string;
  /** certain the operation did not happen */
  definite: boolean;
}

/**
 * Maelstrom's error registry (resources/errors.edn): the one table of codes, used by the runtime,
 * the harness's services and its clients.
 */
export const ERROR_KINDS: Readonly<Record<number, ErrorKind>> = {
  [ErrorCode.Timeout]: { name: 'timeout', definite: false },
  [ErrorCode.NodeNotFound]: { name: 'node-not-found', definite: true },
  [ErrorCode.NotSupported]: { name: 'not-supported', definite: true },
  [ErrorCode.TemporarilyUnavailable]: { name: 'temporarily-unavailable', definite: true },
  [ErrorCode.MalformedRequest]: { name: 'malformed-request', definite: true },
  [ErrorCode.Crash]: { name: 'crash', definite: false },
  [ErrorCode.Abort]: { name: 'abort', definite: true },
  [ErrorCode.KeyDoesNotExist]: { name: 'key-does-not-exist', definite: true },
  [ErrorCode.KeyAlreadyExists]: { name: 'key-already-exists', definite: true },
  [ErrorCode.PreconditionFailed]: { name: 'precondition-failed', definite: true },
  [ErrorCode.TxnConflict]: { name: 'txn-conflict', definite: true },
};

/** Unknown and custom codes are indefinite and named "unknown", as in Maelstrom. */
export function errorKind(code: number): ErrorKind {
  return ERROR_KINDS[code] ?? { name: 'unknown', definite: false };
}

/** Definite errors guarantee the operation did not happen; anything else (custom codes too) may have. */
export function isDefinite(code: number): boolean {
  return errorKind(code).definite;
}

/** An error reply (thrown by a handler to answer with it, or rejected by rpc() when a peer sends one). */
export class RPCError extends Error {
  readonly code: number;

  constructor(code: number, text?: string) {
    super(text ?? codeName(code));
    this.name = 'RPCError';
    this.code = code;
  }

  get definite(): boolean {
    return isDefinite(this.code);
  }

  /** The error reply body for a request with the given msg_id; the text is cut to maxErrorReplyTextChars. */
  toBody(inReplyTo: number): { type: 'error'; in_reply_to: number; code: number; text: string } {
    const text =
      this.message.length <= maxErrorReplyTextChars
        ? this.message
        : `${this.message.slice(0, maxErrorReplyTextChars)}… (${this.message.length} chars)`;
    return { type: 'error', in_reply_to: inReplyTo, code: this.code, text };
  }
}

export class TimeoutError extends RPCError {
  constructor(text = 'timed out') {
    super(ErrorCode.Timeout, text);
    this.name = 'TimeoutError';
  }
}

export class KeyDoesNotExistError extends RPCError {
  constructor(text = 'key does not exist') {
    super(ErrorCode.KeyDoesNotExist, text);
    this.name = 'KeyDoesNotExistError';
  }
}

export class PreconditionFailedError extends RPCError {
  constructor(text = 'precondition failed') {
    super(ErrorCode.PreconditionFailed, text);
    this.name = 'PreconditionFailedError';
  }
}

/** The typed error for an error reply's code. */
export function errorFromReply(code: number, text: string | undefined): RPCError {
  switch (code) {
    case ErrorCode.Timeout:
      return new TimeoutError(text);
    case ErrorCode.KeyDoesNotExist:
      return new KeyDoesNotExistError(text);
    case ErrorCode.PreconditionFailed:
      return new PreconditionFailedError(text);
    default:
      return new RPCError(code, text);
  }
}

export function codeName(code: number): string {
  for (const [name, value] of Object.entries(ErrorCode)) {
    if (value === code) return name;
  }
  return `error ${code}`;
}
