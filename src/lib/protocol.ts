// Wire format: one JSON object per line, {src, dest, body}, and the typed field specs handlers declare.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Body {
  type: string;
  msg_id?: number;
  in_reply_to?: number;
  [key: string]: Json | undefined;
}

export interface Message<B extends Body = Body> {
  /** network-wide sequence number Maelstrom adds to inbound lines; informational */
  id?: number;
  src: string;
  dest: string;
  body: B;
}

export interface InitBody extends Body {
  type: 'init';
  msg_id: number;
  node_id: string;
  node_ids: string[];
}

export interface ErrorBody extends Body {
  type: 'error';
  in_reply_to: number;
  code: number;
  text?: string;
}

// -- Field specs: a handler declares the body fields it needs; the runtime checks them and types the body.

type BaseKind = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'any';
export type FieldKind = BaseKind | `${BaseKind}?`;
export type FieldSpec = Readonly<Record<string, FieldKind>>;

interface KindTypes {
  string: string;
  number: number;
  integer: number;
  boolean: boolean;
  array: Json[];
  object: { [key: string]: Json };
  any: Json;
}

type Required<S extends FieldSpec> = {
  [K in keyof S as S[K] extends BaseKind ? K : never]: S[K] extends BaseKind ? KindTypes[S[K]] : never;
};
type Optional<S extends FieldSpec> = {
  [K in keyof S as S[K] extends `${BaseKind}?` ? K : never]?: S[K] extends `${infer B extends BaseKind}?`
    ? KindTypes[B]
    : never;
};

/** The body type a field spec describes, e.g. { message: 'integer' } → { type; msg_id?; message: number }. */
export type BodyOf<S extends FieldSpec> = Body & Required<S> & Optional<S>;

function matchesKind(value: unknown, kind: BaseKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      // Safe integers only: beyond 2^53 a JSON number no longer round-trips, and a peer that
      // checks what it receives would refuse it later, far from where it came in.
      return Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'any':
      return value !== undefined;
  }
}

interface FieldCheck {
  field: string;
  kind: BaseKind;
  optional: boolean;
}

const compiledSpecs = new WeakMap<FieldSpec, FieldCheck[]>();

function compile(spec: FieldSpec): FieldCheck[] {
  let checks = compiledSpecs.get(spec);
  if (!checks) {
    checks = Object.entries(spec).map(([field, kindSpec]) => {
      const optional = kindSpec.endsWith('?');
      return { field, optional, kind: (optional ? kindSpec.slice(0, -1) : kindSpec) as BaseKind };
    });
    compiledSpecs.set(spec, checks);
  }
  return checks;
}

/** Returns why the body does not fit the spec, or undefined when it does. */
export function checkFields(body: Body, spec: FieldSpec): string | undefined {
  for (const { field, kind, optional } of compile(spec)) {
    const value = body[field];
    if (value === undefined) {
      if (optional) continue;
      return `body is missing required field '${field}' (${kind})`;
    }
    if (!matchesKind(value, kind)) {
      return `field '${field}' must be ${kindPhrase(kind)}, got ${previewJson(value)}`;
    }
  }
  return undefined;
}

function kindPhrase(kind: BaseKind): string {
  switch (kind) {
    case 'integer':
      return 'an integer (a safe one, |n| <= 2^53 - 1)';
    case 'number':
      return 'a number (a finite one)';
    case 'array':
    case 'object':
    case 'any':
      return `an ${kind}`;
    default:
      return `a ${kind}`;
  }
}

// -- Bounds on what a line may hold.

/**
 * Deepest nesting of arrays and objects accepted in one line (the envelope counts: a body is at
 * depth 2). Jackson, which Maelstrom's JSON reader uses, refuses more than 1000 by default; beyond a
 * few thousand, JSON.stringify and every recursive walk overflow the stack.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Whether a parsed JSON value nests arrays/objects more than maxDepth levels deep. Iterative, so
 * it cannot overflow the stack whatever the input; stops at the first level too deep.
 */
export function jsonDepthExceeds(root: unknown, maxDepth: number = MAX_JSON_DEPTH): boolean {
  if (typeof root !== 'object' || root === null) return false;
  const values: object[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop() as object;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return true;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item === 'object' && item !== null) {
          values.push(item as object);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) {
          values.push(item);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** Whether a line of this many characters could nest deeper than maxDepth (each level takes 2). */
export function lineMayBeTooDeep(lineChars: number, maxDepth: number = MAX_JSON_DEPTH): boolean {
  return lineChars >= 2 * (maxDepth + 1);
}

/** Length of a value as JSON text, in UTF-16 units: what size limits on request fields measure. */
export function jsonLength(value: Json): number {
  if (typeof value === 'number') return String(value).length;
  return JSON.stringify(value).length;
}

/** Characters of an offending value quoted in an error text or log line. */
export const MAX_PREVIEW_CHARS = 200;

/**
 * A short JSON-like rendering of any value for error texts and logs: at most maxChars characters
 * (then "…"), never deeper than a few levels, never throws (cycles, BigInt, huge or deep values).
 */
export function previewJson(value: unknown, maxChars: number = MAX_PREVIEW_CHARS): string {
  const out: string[] = [];
  let length = 0;
  const put = (text: string): boolean => {
    out.push(text);
    length += text.length;
    return length <= maxChars;
  };
  const walk = (item: unknown, depth: number): boolean => {
    if (item === null || typeof item === 'boolean') return put(String(item));
    if (typeof item === 'number') return put(Number.isFinite(item) ? String(item) : `${String(item)} (not JSON)`);
    if (typeof item === 'string') {
      const head = item.length > maxChars ? item.slice(0, maxChars) : item;
      return put(JSON.stringify(head) + (head.length < item.length ? `… (${item.length} chars)` : ''));
    }
    if (typeof item !== 'object') return put(`(${typeof item})`);
    if (depth >= 8) return put(Array.isArray(item) ? '[…]' : '{…}');
    if (Array.isArray(item)) {
      if (!put('[')) return false;
      for (let k = 0; k < item.length; k++) {
        if (k > 0 && !put(',')) return false;
        if (!walk(item[k], depth + 1)) return false;
      }
      return put(']');
    }
    if (!put('{')) return false;
    let first = true;
    for (const key in item) {
      if (!first && !put(',')) return false;
      first = false;
      if (!put(`${JSON.stringify(key.length > maxChars ? key.slice(0, maxChars) : key)}:`)) return false;
      if (!walk((item as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return put('}');
  };
  const complete = walk(value, 0);
  const text = out.join('');
  return complete && text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}

/** Cuts a text to maxChars, saying how long it was. */
export function boundText(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length} chars)`;
}

/** Why a parsed line is not a message, or undefined when it is one. */
export function checkEnvelope(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'line is not a JSON object';
  const message = value as Record<string, unknown>;
  if (typeof message.src !== 'string') return "message has no string 'src'";
  if (typeof message.dest !== 'string') return "message has no string 'dest'";
  const body = message.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return "message has no object 'body'";
  if (typeof (body as Record<string, unknown>).type !== 'string') return "body has no string 'type'";
  return undefined;
}

/**
 * Splits a stream of text chunks into lines, keeping the unfinished tail for the next chunk, so a
 * line split across reads is never lost. Each character is scanned for '\n' once: the tail is kept
 * as a list of pieces and joined only when its newline arrives. The tail is bounded as the text
 * arrives: once a line passes maxLineBytes characters (UTF-16 units, one per byte for ASCII) it is
 * reported through onOverflow and the rest of it, up to its newline, is dropped unread.
 */
export function createLineSplitter(
  onLine: (line: string) => void,
  onOverflow: (droppedBytes: number) => void,
  maxLineBytes = 64 * 1024 * 1024,
): { push(chunk: string): void; end(): void } {
  let pieces: string[] = [];
  let carried = 0;
  // After an overflow, the rest of that overlong line (up to its newline) is dropped too.
  let skipping = false;

  function carry(piece: string): void {
    if (skipping || piece.length === 0) return;
    carried += piece.length;
    if (carried > maxLineBytes) {
      onOverflow(carried);
      pieces = [];
      carried = 0;
      skipping = true;
      return;
    }
    pieces.push(piece);
  }

  function line(text: string): void {
    if (text.length > maxLineBytes) onOverflow(text.length);
    else if (text.length > 0) onLine(text);
  }

  return {
    push(chunk) {
      const firstNewline = chunk.indexOf('\n');
      if (firstNewline === -1) {
        carry(chunk);
        return;
      }
      let start = 0;
      if (skipping || carried > 0) {
        // The carried line ends in this chunk.
        if (!skipping) {
          pieces.push(chunk.slice(0, firstNewline));
          const joined = pieces.join('');
          pieces = [];
          carried = 0;
          line(joined);
        }
        skipping = false;
        start = firstNewline + 1;
      }
      const lastNewline = chunk.lastIndexOf('\n');
      if (lastNewline >= start) {
        // Complete lines: one native split over the new text only.
        const lines = chunk.slice(start, lastNewline).split('\n');
        for (let k = 0; k < lines.length; k++) line(lines[k] as string);
      }
      carry(chunk.slice(lastNewline + 1));
    },
    end() {
      if (carried > 0 && !skipping) line(pieces.join(''));
      pieces = [];
      carried = 0;
    },
  };
}
