// Reads EDN as Maelstrom writes its history.edn (one operation per line), into the JSON shapes of
// our history.jsonl: keywords become their names (":invoke" -> "invoke"), vectors, lists and sets
// become arrays, maps become objects with string keys, tagged records (#jepsen.history.Op{...})
// become their maps, nil becomes null.
//
// The input may be hostile or damaged (docs/analyze.md): the reader scans characters with an
// explicit stack (no recursion, so no stack overflow however deep or long a `#_` chain), and
// refuses what passes the bounds below instead of growing without limit.
import type { Json } from '../types.js';
import { createHistoryCollector, DamagedHistoryError, type HistoryDamage, type LoadedHistory } from '../run/history-file.js';

/** Deepest nesting read; deeper input is refused. */
export const MAX_EDN_DEPTH = 1_000;
/** Longest string read, in characters of input: Maelstrom's strings are error texts and node ids, far shorter. */
export const MAX_EDN_STRING_CHARS = 1_048_576;
/** Longest keyword, symbol or number. */
export const MAX_EDN_ATOM_CHARS = 4_096;

export class EdnError extends Error {
  constructor(
    message: string,
    /** character offset of the problem in the text */
    readonly position: number,
    /** true when the text ended inside a value: a torn last line rather than damage */
    readonly atEnd: boolean = false,
  ) {
    super(`${message} at character ${position}`);
    this.name = 'EdnError';
  }
}

const enum Ch {
  Tab = 9,
  Newline = 10,
  Return = 13,
  Space = 32,
  Quote = 34,
  Hash = 35,
  LeftParen = 40,
  RightParen = 41,
  Plus = 43,
  Comma = 44,
  Minus = 45,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  Semicolon = 59,
  LeftBracket = 91,
  Backslash = 92,
  RightBracket = 93,
  Underscore = 95,
  LeftBrace = 123,
  RightBrace = 125,
}

/** 1: whitespace (commas included), 2: a delimiter that ends an atom, 0: part of an atom. */
const CHAR_CLASS = new Uint8Array(128);
for (const code of [Ch.Tab, Ch.Newline, Ch.Return, Ch.Space, Ch.Comma]) CHAR_CLASS[code] = 1;
for (const code of [Ch.LeftParen, Ch.RightParen, Ch.LeftBracket, Ch.RightBracket, Ch.LeftBrace, Ch.RightBrace, Ch.Quote, Ch.Semicolon]) CHAR_CLASS[code] = 2;

const isAtomChar = (code: number): boolean => code >= 128 || CHAR_CLASS[code] === 0;

type Collection = 'vector' | 'map' | 'set';

/** An open collection being read: its items so far and how many values `#_` still discards. */
interface Frame {
  kind: Collection;
  closeCode: number;
  /** a vector's or set's items */
  items: Json[];
  /** a map, filled as its entries complete (no list of pairs to copy) */
  map: { [key: string]: Json } | null;
  /** a map's key waiting for its value */
  key: string | null;
  discards: number;
  start: number;
}

/** Adds a completed value to its open collection. */
function addToFrame(frame: Frame, value: Json): void {
  if (frame.map === null) frame.items.push(value);
  else if (frame.key === null) frame.key = keyText(value);
  else {
    // An own property even for "__proto__", as JSON.parse makes it: input never sets a prototype.
    if (frame.key === '__proto__') Object.defineProperty(frame.map, frame.key, { value, enumerable: true, writable: true, configurable: true });
    else frame.map[frame.key] = value;
    frame.key = null;
  }
}

function closeFrame(frame: Frame): Json {
  if (frame.map === null) return frame.items;
  if (frame.key !== null) throw new EdnError('map with a key and no value', frame.start);
  return frame.map;
}

const NO_ITEMS: Json[] = [];

const NAMED_CHARS: Readonly<Record<string, string>> = { newline: '\n', space: ' ', tab: '\t', return: '\r' };

/** Map keys are strings in JSON: keywords and strings by name, anything else as its EDN-ish text. */
function keyText(key: Json): string {
  return typeof key === 'string' ? key : JSON.stringify(key);
}

function parseNumberToken(token: string, position: number): number {
  const slash = token.indexOf('/');
  const value = slash === -1 ? Number(token.replace(/[NM]$/, '')) : Number(token.slice(0, slash)) / Number(token.slice(slash + 1));
  if (!Number.isFinite(value)) throw new EdnError(`not a number: ${token.slice(0, 40)}`, position);
  return value;
}

function atomValue(token: string, position: number): Json {
  if (token === 'nil') return null;
  if (token === 'true') return true;
  if (token === 'false') return false;
  const first = token.charCodeAt(0);
  if (first === Ch.Colon) return token.slice(1);
  const digitAt = first === Ch.Plus || first === Ch.Minus ? 1 : 0;
  const digit = token.charCodeAt(digitAt);
  if (digit >= Ch.Zero && digit <= Ch.Nine) return parseNumberToken(token, position);
  return token;
}

/** Reads top-level EDN values one at a time. */
export class EdnReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  /** Offset just past the last value read (or skipped whitespace). */
  get position(): number {
    return this.pos;
  }

  /** Skips whitespace and comments; true when nothing but them is left. */
  atEnd(): boolean {
    this.skip();
    return this.pos >= this.text.length;
  }

  private skip(): void {
    const { text } = this;
    while (this.pos < text.length) {
      const code = text.charCodeAt(this.pos);
      if (code < 128 && CHAR_CLASS[code] === 1) this.pos++;
      else if (code === Ch.Semicolon) {
        const end = text.indexOf('\n', this.pos);
        this.pos = end === -1 ? text.length : end + 1;
      } else break;
    }
  }

  /** The next top-level value; the stack of open collections is explicit, so depth costs no native stack. */
  read(): Json {
    const stack: Frame[] = [];
    let topDiscards = 0;
    for (;;) {
      this.skip();
      const frame = stack[stack.length - 1];
      if (this.pos >= this.text.length) {
        // Maelstrom never writes #_, so one left hanging is damage, not a write cut short.
        if (topDiscards > 0 || (frame?.discards ?? 0) > 0) throw new EdnError('#_ with nothing after it', this.pos);
        throw new EdnError(frame === undefined ? 'unexpected end of input' : `missing ${String.fromCharCode(frame.closeCode)}`, this.pos, true);
      }
      const code = this.text.charCodeAt(this.pos);
      let value: Json;
      if (frame !== undefined && code === frame.closeCode) {
        if (frame.discards > 0) throw new EdnError('#_ with nothing after it', this.pos);
        this.pos++;
        stack.pop();
        value = closeFrame(frame);
      } else {
        const opened = this.openOrPrefix(code, stack.length);
        if (opened === 'tag') continue;
        if (opened === 'discard') {
          if (frame === undefined) topDiscards++;
          else frame.discards++;
          continue;
        }
        if (opened !== undefined) {
          stack.push(opened);
          continue;
        }
        value = this.readScalar(code);
      }
      const parent = stack[stack.length - 1];
      if (parent === undefined) {
        if (topDiscards > 0) {
          topDiscards--;
          continue;
        }
        return value;
      }
      if (parent.discards > 0) parent.discards--;
      else addToFrame(parent, value);
    }
  }

  /**
   * A collection opened, `#_` or a tag read past, or undefined for a scalar. A tag (#inst,
   * #jepsen.history.Op) leaves just the value it tags.
   */
  private openOrPrefix(code: number, depth: number): Frame | 'discard' | 'tag' | undefined {
    const start = this.pos;
    let kind: Collection | undefined;
    let closeCode = 0;
    if (code === Ch.LeftBracket || code === Ch.LeftParen) [kind, closeCode] = ['vector', code === Ch.LeftBracket ? Ch.RightBracket : Ch.RightParen];
    else if (code === Ch.LeftBrace) [kind, closeCode] = ['map', Ch.RightBrace];
    else if (code === Ch.Hash) {
      const next = this.text.charCodeAt(this.pos + 1);
      if (next === Ch.Underscore) {
        this.pos += 2;
        return 'discard';
      }
      if (next === Ch.LeftBrace) {
        this.pos++;
        [kind, closeCode] = ['set', Ch.RightBrace];
      } else {
        this.pos++;
        if (this.readAtomToken() === '') throw new EdnError('# with no tag', start);
        return 'tag';
      }
    }
    if (kind === undefined) return undefined;
    if (depth >= MAX_EDN_DEPTH) throw new EdnError(`nesting deeper than ${MAX_EDN_DEPTH}`, start);
    this.pos++;
    return { kind, closeCode, items: kind === 'map' ? NO_ITEMS : [], map: kind === 'map' ? {} : null, key: null, discards: 0, start };
  }

  private readScalar(code: number): Json {
    const start = this.pos;
    if (code === Ch.Quote) return this.readString();
    if (code === Ch.Backslash) {
      this.pos++;
      const name = this.readAtomToken();
      if (name !== '') return NAMED_CHARS[name] ?? name;
      if (this.pos >= this.text.length) throw new EdnError('\\ at the end of input', start, true);
      return this.text[this.pos++] as string;
    }
    const number = this.readPlainInteger(code);
    if (number !== undefined) return number;
    if (code === Ch.Colon) {
      this.pos++;
      // a keyword's name, sliced once
      const name = this.readAtomToken();
      if (name === '') throw new EdnError('a keyword with no name', start);
      return name;
    }
    const token = this.readAtomToken();
    if (token === '') throw new EdnError(`unexpected ${JSON.stringify(this.text[start])}`, start);
    return atomValue(token, start);
  }

  /**
   * Most atoms in a history are small integers (times, indexes, keys, values): read straight from
   * the characters. Anything else (floats, 7N, ratios, long ones) is left to the token path.
   */
  private readPlainInteger(code: number): number | undefined {
    const { text } = this;
    let k = this.pos;
    const negative = code === Ch.Minus;
    if (negative || code === Ch.Plus) k++;
    const digitsStart = k;
    let value = 0;
    for (; k < text.length; k++) {
      const digit = text.charCodeAt(k) - Ch.Zero;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    const digits = k - digitsStart;
    if (digits === 0 || digits > 15 || (k < text.length && isAtomChar(text.charCodeAt(k)))) return undefined;
    this.pos = k;
    return negative ? -value : value;
  }

  private readAtomToken(): string {
    const { text } = this;
    const start = this.pos;
    while (this.pos < text.length && isAtomChar(text.charCodeAt(this.pos))) {
      if (++this.pos - start > MAX_EDN_ATOM_CHARS) throw new EdnError(`a keyword, symbol or number longer than ${MAX_EDN_ATOM_CHARS} characters`, start);
    }
    return text.slice(start, this.pos);
  }

  /** Slices runs without escapes, so a long string costs one copy, and stops at the bound before copying. */
  private readString(): string {
    const { text } = this;
    const start = this.pos;
    const parts: string[] = [];
    let run = start + 1;
    for (let k = run; ; k++) {
      if (k - start > MAX_EDN_STRING_CHARS) throw new EdnError(`a string longer than ${MAX_EDN_STRING_CHARS} characters`, start);
      if (k >= text.length) throw new EdnError('unterminated string', start, true);
      const code = text.charCodeAt(k);
      if (code === Ch.Quote) {
        parts.push(text.slice(run, k));
        this.pos = k + 1;
        return parts.length === 1 ? (parts[0] as string) : parts.join('');
      }
      if (code !== Ch.Backslash) continue;
      parts.push(text.slice(run, k));
      const [unescaped, width] = unescape(text, k);
      parts.push(unescaped);
      k += width - 1;
      run = k + 1;
    }
  }
}

/** One escape at `at` (a backslash): its text and how many characters it took. */
function unescape(text: string, at: number): [string, number] {
  const esc = text[at + 1];
  if (esc === undefined) throw new EdnError('unterminated string', at, true);
  if (esc === 'n') return ['\n', 2];
  if (esc === 't') return ['\t', 2];
  if (esc === 'r') return ['\r', 2];
  if (esc === 'u') {
    const hex = text.slice(at + 2, at + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new EdnError('bad \\u escape', at, at + 6 > text.length);
    return [String.fromCharCode(parseInt(hex, 16)), 6];
  }
  return [esc, 2];
}

export function parseEdn(text: string): Json {
  const reader = new EdnReader(text);
  const value = reader.read();
  if (!reader.atEnd()) throw new EdnError('more than one value', reader.position);
  return value;
}

/** Every top-level value of a text, e.g. one operation per line of history.edn. */
export function parseEdnValues(text: string): Json[] {
  const reader = new EdnReader(text);
  const out: Json[] = [];
  while (!reader.atEnd()) out.push(reader.read());
  return out;
}

// ---- The fast path: Maelstrom writes one op per line in a small part of EDN (maps, vectors, sets,
// keywords, strings without escapes, integers, nil, booleans). Such a file is rewritten byte by
// byte as the JSON text of an array of its lines' values, for the engine's JSON.parse, which builds
// the objects several times faster than the reader above and leaves no garbage behind. Any line
// outside that part (and any damage) sends the whole file to the reader, which has the last word.

/**
 * The rewrite's state: the output (grown by doubling; a token adds at most its own bytes and
 * three, so `room` is asked once per token) and the open collections as typed arrays, bounded by
 * MAX_EDN_DEPTH. One object whose fields the loop reads, so no per-token allocation at all.
 */
class JsonRewrite {
  out: Uint8Array;
  length = 0;
  depth = 0;
  readonly closeCodes = new Uint8Array(MAX_EDN_DEPTH);
  readonly isMap = new Uint8Array(MAX_EDN_DEPTH);
  readonly counts = new Int32Array(MAX_EDN_DEPTH);

  constructor(readonly bytes: Uint8Array) {
    this.out = new Uint8Array(Math.max(64, bytes.length + (bytes.length >> 2)));
  }

  room(extra: number): void {
    if (this.length + extra <= this.out.length) return;
    const grown = new Uint8Array(Math.max(this.out.length * 2, this.length + extra));
    grown.set(this.out.subarray(0, this.length));
    this.out = grown;
  }

  /** Copies bytes[start, end) to the output; the caller made room. */
  copy(start: number, end: number): void {
    const { out, bytes } = this;
    let at = this.length;
    for (let k = start; k < end; k++) out[at++] = bytes[k] as number;
    this.length = at;
  }

  /** Opens a collection at `code` (one of { [ ( or the # of #{); false past MAX_EDN_DEPTH. */
  open(code: number): boolean {
    if (this.depth >= MAX_EDN_DEPTH) return false;
    const map = code === Ch.LeftBrace;
    this.closeCodes[this.depth] = code === Ch.LeftBracket ? Ch.RightBracket : code === Ch.LeftParen ? Ch.RightParen : Ch.RightBrace;
    this.isMap[this.depth] = map ? 1 : 0;
    this.counts[this.depth] = 0;
    this.depth++;
    this.out[this.length++] = map ? Ch.LeftBrace : Ch.LeftBracket;
    return true;
  }

  /** Closes the innermost collection; false for a map with a key and no value. */
  close(): boolean {
    const top = this.depth - 1;
    const map = this.isMap[top] === 1;
    if (map && (this.counts[top] as number) % 2 !== 0) return false;
    this.out[this.length++] = map ? Ch.RightBrace : Ch.RightBracket;
    this.depth = top;
    if (top > 0) this.counts[top - 1] = (this.counts[top - 1] as number) + 1;
    return true;
  }
}

const NIL = Buffer.from('nil');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** Where an atom starting at `at` ends. */
function atomEnd(bytes: Uint8Array, at: number): number {
  let k = at;
  while (k < bytes.length && isAtomChar(bytes[k] as number)) k++;
  return k;
}

/** The end of a plain JSON integer at `at` (no leading zeros, no -0, at most 15 digits), or -1. */
function plainIntegerEnd(bytes: Uint8Array, at: number): number {
  const negative = bytes[at] === Ch.Minus;
  const digitsStart = negative ? at + 1 : at;
  let k = digitsStart;
  while (k < bytes.length && (bytes[k] as number) >= Ch.Zero && (bytes[k] as number) <= Ch.Nine) k++;
  const digits = k - digitsStart;
  if (digits === 0 || digits > 15 || (bytes[digitsStart] === Ch.Zero && (digits > 1 || negative))) return -1;
  return k < bytes.length && isAtomChar(bytes[k] as number) ? -1 : k;
}

/** The end of a string without escapes or control characters starting at `at` (a quote), or -1. */
function plainStringEnd(bytes: Uint8Array, at: number): number {
  for (let k = at + 1; k < bytes.length; k++) {
    const next = bytes[k] as number;
    if (next === Ch.Quote) return k + 1;
    // escapes, control characters (a newline inside a string) and the bound are the reader's
    if (next === Ch.Backslash || next < Ch.Space || k - at > MAX_EDN_STRING_CHARS) return -1;
  }
  return -1;
}

/** The end of a keyword's name starting at `at` (past the colon), or -1 for one JSON cannot quote as it is. */
function keywordEnd(bytes: Uint8Array, at: number): number {
  let end = at;
  for (; end < bytes.length && isAtomChar(bytes[end] as number); end++) if (bytes[end] === Ch.Backslash) return -1;
  return end === at || end - at >= MAX_EDN_ATOM_CHARS ? -1 : end;
}

/** Appends one scalar as JSON and returns its end, or -1 outside the fast path's part of EDN. */
function appendScalar(w: JsonRewrite, at: number, asKey: boolean): number {
  const { bytes } = w;
  const code = bytes[at] as number;
  if (code === Ch.Quote) {
    const end = plainStringEnd(bytes, at);
    if (end === -1) return -1;
    w.room(end - at);
    w.copy(at, end);
    return end;
  }
  const keyword = code === Ch.Colon;
  const end = keyword ? keywordEnd(bytes, at + 1) : (code >= Ch.Zero && code <= Ch.Nine) || code === Ch.Minus ? plainIntegerEnd(bytes, at) : -2;
  if (end === -1) return -1;
  if (end >= 0) {
    const quoted = keyword || asKey;
    w.room(end - at + 2);
    if (quoted) w.out[w.length++] = Ch.Quote;
    w.copy(keyword ? at + 1 : at, end);
    if (quoted) w.out[w.length++] = Ch.Quote;
    return end;
  }
  if (asKey) return -1;
  const wordEnd = atomEnd(bytes, at);
  const json = isWord(bytes, at, wordEnd, NIL) ? NULL : isWord(bytes, at, wordEnd, TRUE) ? TRUE : isWord(bytes, at, wordEnd, FALSE) ? FALSE : undefined;
  if (json === undefined) return -1;
  w.room(json.length);
  w.out.set(json, w.length);
  w.length += json.length;
  return wordEnd;
}

function isWord(bytes: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  if (end - at !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[at + i] !== word[i]) return false;
  return true;
}

/**
 * history.edn's bytes as the JSON text of an array of its values, one per non-blank line, and
 * each value's line; undefined when some line needs the reader.
 */
export function historyAsJson(bytes: Uint8Array): { json: string; lines: number[] } | undefined {
  const w = new JsonRewrite(bytes);
  const lines: number[] = [];
  let line = 1;
  let lineHasValue = false;
  w.out[w.length++] = Ch.LeftBracket;
  for (let k = 0; k < bytes.length; ) {
    const code = bytes[k] as number;
    if (code === Ch.Newline) {
      if (w.depth > 0) return undefined;
      line++;
      lineHasValue = false;
      k++;
      continue;
    }
    if (code < 128 && CHAR_CLASS[code] === 1) {
      k++;
      continue;
    }
    w.room(3);
    const top = w.depth - 1;
    if (top >= 0 && code === w.closeCodes[top]) {
      if (!w.close()) return undefined;
      k++;
      continue;
    }
    const count = top >= 0 ? (w.counts[top] as number) : 0;
    const inMap = top >= 0 && w.isMap[top] === 1;
    if (top < 0) {
      if (lineHasValue) return undefined;
      if (lines.length > 0) w.out[w.length++] = Ch.Comma;
      lines.push(line);
      lineHasValue = true;
    }
    const asKey = inMap && count % 2 === 0;
    if (count > 0) w.out[w.length++] = asKey ? Ch.Comma : inMap ? Ch.Colon : Ch.Comma;
    const set = code === Ch.Hash && bytes[k + 1] === Ch.LeftBrace;
    if (!asKey && (code === Ch.LeftBrace || code === Ch.LeftBracket || code === Ch.LeftParen || set)) {
      if (!w.open(code)) return undefined;
      k += set ? 2 : 1;
      continue;
    }
    const next = appendScalar(w, k, asKey);
    if (next === -1) return undefined;
    k = next;
    if (top >= 0) w.counts[top] = count + 1;
  }
  if (w.depth > 0) return undefined;
  w.room(1);
  w.out[w.length++] = Ch.RightBracket;
  return { json: Buffer.from(w.out.buffer, w.out.byteOffset, w.length).toString('utf8'), lines };
}

/** Every line's value by the fast path, or undefined when some line needs the reader. */
function fastHistoryValues(bytes: Uint8Array): { value: Json; line: number }[] | undefined {
  const rewritten = historyAsJson(bytes);
  if (rewritten === undefined) return undefined;
  let parsed: Json[];
  try {
    parsed = JSON.parse(rewritten.json) as Json[];
  } catch {
    return undefined;
  }
  return parsed.map((value, k) => ({ value, line: rewritten.lines[k] as number }));
}

/**
 * Maelstrom's history.edn as history ops (a whole-history vector is accepted too), with the
 * damage policy of history.jsonl (run/history-file.ts): a value the file ends inside is a torn
 * last line and dropped; a syntax error anywhere else refuses the file at its line, since past it
 * the reader cannot tell where the next op starts.
 */
export function parseHistoryEdn(input: string | Uint8Array, file = 'history.edn'): LoadedHistory {
  const history = createHistoryCollector(file);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const fast = fastHistoryValues(bytes);
  const { values, torn } = fast === undefined ? readHistoryValues(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.length).toString('utf8'), file) : { values: fast, torn: undefined };
  const whole = values.length === 1 && Array.isArray(values[0]?.value);
  // A whole-history vector has no line per op: damage is named by entry number.
  if (whole) (values[0]?.value as Json[]).forEach((value, k) => history.add(value, k + 1));
  else for (const { value, line: at } of values) history.add(value, at);
  return history.finish(torn);
}

/** The reader's way through a history: every value with its line, and a torn last one. */
function readHistoryValues(text: string, file: string): { values: { value: Json; line: number }[]; torn: HistoryDamage | undefined } {
  const reader = new EdnReader(text);
  const values: { value: Json; line: number }[] = [];
  let torn: HistoryDamage | undefined;
  // Lines counted as the reader moves on, so numbering every op costs one pass over the text.
  let line = 1;
  let countedTo = 0;
  const lineOf = (position: number): number => {
    for (let k = text.indexOf('\n', countedTo); k !== -1 && k < position; k = text.indexOf('\n', k + 1)) line++;
    countedTo = Math.max(countedTo, position);
    return line;
  };
  while (!reader.atEnd()) {
    const start = reader.position;
    const startLine = lineOf(start);
    try {
      values.push({ value: reader.read(), line: startLine });
    } catch (err) {
      if (!(err instanceof EdnError)) throw err;
      const lastLine = !text.slice(start).trimEnd().includes('\n');
      if (!err.atEnd || !lastLine) throw new DamagedHistoryError(file, [{ line: lineOf(err.position), reason: err.message }], 1);
      torn = { line: startLine, reason: `torn last line, dropped: ${err.message}` };
      break;
    }
  }
  return { values, torn };
}
