// Reply schemas with the meaning Maelstrom's own have: its workloads declare replies with Jepsen's
// `schema` library, and a reply that does not match becomes an :info operation. What that library
// accepts, we accept, no more and no less (docs/protocol.md §1):
// - `any` takes every value, null included (a key must still be present);
// - a list schema `[X]` takes null as well as a list of X (the library's sequence precondition);
// - a map schema `{Key V}` takes only a map, never null;
// - a tuple `[(one A) (one B)]` takes exactly that many elements;
// - `int` takes a JSON integer. (A JSON `1.0` parses as a double in Maelstrom and is refused
//   there; JSON.parse cannot tell it from `1`, so we accept it.)
import type { Json } from '../types.js';

export type ReplySchema =
  | { readonly kind: 'any' }
  | { readonly kind: 'int' }
  | { readonly kind: 'str' }
  | { readonly kind: 'eq'; readonly value: string }
  | { readonly kind: 'seq'; readonly of: ReplySchema }
  | { readonly kind: 'map'; readonly values: ReplySchema }
  | { readonly kind: 'tuple'; readonly items: readonly ReplySchema[] }
  | { readonly kind: 'either'; readonly options: readonly ReplySchema[] };

export const S = {
  any: { kind: 'any' },
  int: { kind: 'int' },
  str: { kind: 'str' },
  eq: (value: string): ReplySchema => ({ kind: 'eq', value }),
  seq: (of: ReplySchema): ReplySchema => ({ kind: 'seq', of }),
  map: (values: ReplySchema): ReplySchema => ({ kind: 'map', values }),
  tuple: (...items: ReplySchema[]): ReplySchema => ({ kind: 'tuple', items }),
  either: (...options: ReplySchema[]): ReplySchema => ({ kind: 'either', options }),
} as const satisfies Record<string, ReplySchema | ((...args: never[]) => ReplySchema)>;

/** Deepest value a reply may nest before we stop looking (the runtime refuses deeper input anyway). */
const MAX_SCHEMA_DEPTH = 64;

/** What is wrong with value at path, or undefined when it matches. */
export function schemaProblem(value: Json | undefined, schema: ReplySchema, path: string, depth = 0): string | undefined {
  if (depth > MAX_SCHEMA_DEPTH) return `${path}: nested too deep`;
  switch (schema.kind) {
    case 'any':
      return undefined;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : `${path}: not an integer`;
    case 'str':
      return typeof value === 'string' ? undefined : `${path}: not a string`;
    case 'eq':
      return value === schema.value ? undefined : `${path}: expected ${JSON.stringify(schema.value)}`;
    case 'seq':
      return value === null ? undefined : listProblem(value, schema.of, path, depth);
    case 'map':
      return mapProblem(value, schema.values, path, depth);
    case 'tuple':
      return tupleProblem(value, schema.items, path, depth);
    case 'either': {
      const problems = schema.options.map((option) => schemaProblem(value, option, path, depth + 1));
      return problems.includes(undefined) ? undefined : problems.join(' or ');
    }
  }
}

function listProblem(value: Json | undefined, of: ReplySchema, path: string, depth: number): string | undefined {
  if (!Array.isArray(value)) return `${path}: not a list`;
  for (let i = 0; i < value.length; i++) {
    const problem = schemaProblem(value[i], of, `${path}[${i}]`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function mapProblem(value: Json | undefined, values: ReplySchema, path: string, depth: number): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${path}: not a map`;
  for (const [key, item] of Object.entries(value)) {
    const problem = schemaProblem(item, values, `${path}.${key}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function tupleProblem(value: Json | undefined, items: readonly ReplySchema[], path: string, depth: number): string | undefined {
  if (!Array.isArray(value) || value.length !== items.length) return `${path}: not a list of ${items.length} elements`;
  for (let i = 0; i < items.length; i++) {
    const problem = schemaProblem(value[i], items[i] as ReplySchema, `${path}[${i}]`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
