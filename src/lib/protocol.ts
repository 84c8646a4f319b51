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
      return Number.isInteger(value);
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
      return `field '${field}' must be ${kind === 'integer' || kind === 'array' || kind === 'object' ? 'an' : 'a'} ${kind}, got ${JSON.stringify(value)}`;
    }
  }
  return undefined;
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
 * Splits a byte stream into lines, keeping the unfinished tail for the next chunk, so a line split
 * across reads is never lost. The tail is bounded: a line longer than maxLineBytes is dropped whole.
 */
export function createLineSplitter(
  onLine: (line: string) => void,
  onOverflow: (droppedBytes: number) => void,
  maxLineBytes = 64 * 1024 * 1024,
): { push(chunk: string): void; end(): void } {
  let carry = '';
  // After an overflow, the rest of that overlong line (up to its newline) is dropped too.
  let skipping = false;
  return {
    push(chunk) {
      const lines = (carry + chunk).split('\n');
      carry = lines.pop() ?? '';
      let first = 0;
      if (skipping) {
        if (lines.length === 0) {
          carry = '';
          return;
        }
        skipping = false;
        first = 1;
      }
      for (let k = first; k < lines.length; k++) {
        const line = lines[k] as string;
        if (line.length > 0) onLine(line);
      }
      if (carry.length > maxLineBytes) {
        onOverflow(carry.length);
        carry = '';
        skipping = true;
      }
    },
    end() {
      if (carry.length > 0 && !skipping) onLine(carry);
      carry = '';
    },
  };
}
