// Reads EDN as Maelstrom writes its history.edn (one operation per line), into the JSON shapes of
// our history.jsonl: keywords become their names (":invoke" -> "invoke"), vectors, lists and sets
// become arrays, maps become objects with string keys, tagged records (#jepsen.history.Op{...})
// become their maps, nil becomes null.
import type { Json, Op } from '../types.js';

/** Deepest nesting read; deeper input is refused rather than overflowing the stack. */
export const MAX_EDN_DEPTH = 1_000;

export class EdnError extends Error {
  constructor(message: string, position: number) {
    super(`${message} at character ${position}`);
    this.name = 'EdnError';
  }
}

const DELIMITERS = new Set(['(', ')', '[', ']', '{', '}', '"', ';']);

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === ',' || ch === '\n' || ch === '\r' || ch === '\t';
}

/** Map keys are strings in JSON: keywords and strings by name, anything else as its EDN-ish text. */
function keyText(key: Json): string {
  return typeof key === 'string' ? key : JSON.stringify(key);
}

class Reader {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    this.skip();
    return this.pos >= this.text.length;
  }

  private skip(): void {
    const { text } = this;
    while (this.pos < text.length) {
      const ch = text[this.pos] as string;
      if (isWhitespace(ch)) this.pos++;
      else if (ch === ';') while (this.pos < text.length && text[this.pos] !== '\n') this.pos++;
      else break;
    }
  }

  read(depth = 0): Json {
    if (depth > MAX_EDN_DEPTH) throw new EdnError(`nesting deeper than ${MAX_EDN_DEPTH}`, this.pos);
    this.skip();
    const ch = this.text[this.pos];
    if (ch === undefined) throw new EdnError('unexpected end of input', this.pos);
    if (ch === '"') return this.readString();
    if (ch === '[' || ch === '(') return this.readSeq(ch === '[' ? ']' : ')', depth);
    if (ch === '{') return this.readMap(depth);
    if (ch === '#') return this.readDispatch(depth);
    if (ch === '\\') return this.readChar();
    return this.readAtom();
  }

  private readSeq(close: string, depth: number): Json[] {
    this.pos++;
    const out: Json[] = [];
    for (;;) {
      this.skip();
      if (this.text[this.pos] === close) {
        this.pos++;
        return out;
      }
      if (this.pos >= this.text.length) throw new EdnError(`missing ${close}`, this.pos);
      out.push(this.read(depth + 1));
    }
  }

  private readMap(depth: number): { [key: string]: Json } {
    this.pos++;
    const out: { [key: string]: Json } = {};
    for (;;) {
      this.skip();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      if (this.pos >= this.text.length) throw new EdnError('missing }', this.pos);
      const key = this.read(depth + 1);
      out[keyText(key)] = this.read(depth + 1);
    }
  }

  private readDispatch(depth: number): Json {
    const next = this.text[this.pos + 1];
    if (next === '{') {
      this.pos++;
      return this.readSeq('}', depth);
    }
    if (next === '_') {
      this.pos += 2;
      this.read(depth + 1);
      return this.read(depth);
    }
    // A tagged element: #tag value. Records and instants keep just their value.
    this.pos++;
    this.readAtom();
    return this.read(depth + 1);
  }

  private readString(): string {
    const { text } = this;
    let out = '';
    let k = this.pos + 1;
    for (;;) {
      const ch = text[k];
      if (ch === undefined) throw new EdnError('unterminated string', this.pos);
      if (ch === '"') break;
      if (ch === '\\') {
        const esc = text[k + 1];
        k += 2;
        if (esc === 'n') out += '\n';
        else if (esc === 't') out += '\t';
        else if (esc === 'r') out += '\r';
        else if (esc === 'u') {
          out += String.fromCharCode(parseInt(text.slice(k, k + 4), 16));
          k += 4;
        } else out += esc ?? '';
        continue;
      }
      out += ch;
      k++;
    }
    this.pos = k + 1;
    return out;
  }

  private readChar(): string {
    const start = ++this.pos;
    while (this.pos < this.text.length && !isWhitespace(this.text[this.pos] as string) && !DELIMITERS.has(this.text[this.pos] as string)) this.pos++;
    const name = this.text.slice(start, Math.max(this.pos, start + 1));
    if (this.pos === start) this.pos++;
    const named: Record<string, string> = { newline: '\n', space: ' ', tab: '\t', return: '\r' };
    return named[name] ?? name;
  }

  private readAtom(): Json {
    const start = this.pos;
    while (this.pos < this.text.length && !isWhitespace(this.text[this.pos] as string) && !DELIMITERS.has(this.text[this.pos] as string)) this.pos++;
    const token = this.text.slice(start, this.pos);
    if (token === '') throw new EdnError(`unexpected ${JSON.stringify(this.text[start])}`, start);
    if (token === 'nil') return null;
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (token.startsWith(':')) return token.slice(1);
    if (/^[+-]?\d/.test(token)) return parseNumberToken(token, start);
    return token;
  }
}

function parseNumberToken(token: string, position: number): number {
  const ratio = /^([+-]?\d+)\/(\d+)$/.exec(token);
  if (ratio) return Number(ratio[1]) / Number(ratio[2]);
  const value = Number(token.replace(/[NM]$/, ''));
  if (!Number.isFinite(value)) throw new EdnError(`not a number: ${token}`, position);
  return value;
}

export function parseEdn(text: string): Json {
  const reader = new Reader(text);
  const value = reader.read();
  if (!reader.atEnd()) throw new EdnError('more than one value', 0);
  return value;
}

/** Every top-level value of a text, e.g. one operation per line of history.edn. */
export function parseEdnValues(text: string): Json[] {
  const reader = new Reader(text);
  const out: Json[] = [];
  while (!reader.atEnd()) out.push(reader.read());
  return out;
}

/** Maelstrom's history.edn as history ops; a whole-history vector is accepted too. */
export function parseHistoryEdn(text: string): Op[] {
  const values = parseEdnValues(text);
  const ops = values.length === 1 && Array.isArray(values[0]) ? values[0] : values;
  return ops.map((value, k) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`history.edn entry ${k} is not a map: ${JSON.stringify(value).slice(0, 200)}`);
    }
    return value as unknown as Op;
  });
}
