// Writes results in Maelstrom's EDN (as Clojure's pretty printer shows it), so scripts that read
// store/latest/results.edn keep working: keyword map keys, quantile keys as numbers, nil.

const DEFAULT_WIDTH_CHARS = 80;

/** Keys whose values Maelstrom computes as floats: an integral value still prints as 1.0. */
const FLOAT_KEYS = new Set(['msgs-per-op', 'ok-fraction']);

const OP_TYPES = new Set(['invoke', 'ok', 'fail', 'info']);

const KEYWORD_PATTERN = /^[A-Za-z*+!_?<>=][A-Za-z0-9*+!_?<>=.\-/]*$|^-(?:[A-Za-z*+!_?<>=.\-][A-Za-z0-9*+!_?<>=.\-/]*)?$/;
const NUMBER_KEY_PATTERN = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

type Context = 'plain' | 'keyword' | 'float';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Jepsen op records print with keyword type, f and :nemesis; ours are plain JSON strings. */
function isOpRecord(map: Record<string, unknown>): boolean {
  return (
    typeof map['type'] === 'string' &&
    OP_TYPES.has(map['type']) &&
    typeof map['f'] === 'string' &&
    'process' in map &&
    typeof map['index'] === 'number'
  );
}

function ednString(text: string): string {
  let out = '"';
  for (const ch of text) {
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return out + '"';
}

function ednNumber(value: number, context: Context): string {
  if (Number.isNaN(value)) return '##NaN';
  if (value === Infinity) return '##Inf';
  if (value === -Infinity) return '##-Inf';
  const text = String(value);
  if (context === 'float' && Number.isInteger(value) && !text.includes('e')) return `${text}.0`;
  return text;
}

/** A map key: numbers stay numbers (quantiles, offsets), names become keywords. */
export function ednKey(key: string): string {
  if (NUMBER_KEY_PATTERN.test(key)) return key;
  if (KEYWORD_PATTERN.test(key)) return `:${key}`;
  return ednString(key);
}

function valueContext(key: string, value: unknown, inOpRecord: boolean): Context {
  if (typeof value === 'string') {
    if (key === 'valid?') return 'keyword';
    if (inOpRecord && (key === 'type' || key === 'f' || (key === 'process' && value === 'nemesis'))) return 'keyword';
  }
  if (typeof value === 'number' && FLOAT_KEYS.has(key)) return 'float';
  return 'plain';
}

function scalar(value: unknown, context: Context): string | undefined {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return ednNumber(value, context);
  if (typeof value === 'bigint') return `${value}N`;
  if (typeof value === 'string') {
    return context === 'keyword' && KEYWORD_PATTERN.test(value) ? `:${value}` : ednString(value);
  }
  return undefined;
}

/**
 * JavaScript enumerates integer-like keys first, so {0, 0.5, 1} would come out as 0, 1, 0.5;
 * maps keyed only by numbers (quantiles, offsets) are put back in numeric order.
 */
function orderedEntries(map: Record<string, unknown>): [string, unknown][] {
  const list = Object.entries(map).filter(([, value]) => value !== undefined);
  if (list.length > 1 && list.every(([key]) => NUMBER_KEY_PATTERN.test(key))) {
    list.sort((a, b) => Number(a[0]) - Number(b[0]));
  }
  return list;
}

function entries(map: Record<string, unknown>): [string, unknown, Context][] {
  const op = isOpRecord(map);
  return orderedEntries(map)
    .map(([key, value]) => [key, value, valueContext(key, value, op)]);
}

/**
 * A value laid out once: its one-line text width, measured bottom up, so deciding whether a
 * subtree fits on the rest of a line costs nothing however deep it sits. (Measuring by printing
 * every subtree flat at every level was quadratic in depth.)
 */
type Laid =
  | { kind: 'scalar'; text: string; widthChars: number }
  | { kind: 'seq'; items: Laid[]; widthChars: number }
  | { kind: 'map'; keys: string[]; items: Laid[]; widthChars: number };

/** Depth-first, children before parents, without recursion: results nest as deep as their input. */
function layOut(root: unknown, rootContext: Context): Laid {
  type Frame = { value: unknown; context: Context; keys?: string[]; children?: [unknown, Context][]; done: Laid[] };
  const scalarOf = (value: unknown, context: Context): Laid | undefined => {
    const text = scalar(value, context);
    return text === undefined ? undefined : { kind: 'scalar', text, widthChars: text.length };
  };
  const open = (value: unknown, context: Context): Frame | Laid => {
    const simple = scalarOf(value, context);
    if (simple !== undefined) return simple;
    if (Array.isArray(value)) return { value, context, children: value.map((item): [unknown, Context] => [item, 'plain']), done: [] };
    if (isPlainObject(value)) {
      const list = entries(value);
      return { value, context, keys: list.map(([key]) => ednKey(key)), children: list.map(([, item, ctx]): [unknown, Context] => [item, ctx]), done: [] };
    }
    const text = ednString(String(value));
    return { kind: 'scalar', text, widthChars: text.length };
  };
  const first = open(root, rootContext);
  if ('kind' in first) return first;
  const stack: Frame[] = [first];
  for (;;) {
    const frame = stack[stack.length - 1] as Frame;
    const children = frame.children as [unknown, Context][];
    if (frame.done.length < children.length) {
      const [item, ctx] = children[frame.done.length] as [unknown, Context];
      const next = open(item, ctx);
      if ('kind' in next) frame.done.push(next);
      else stack.push(next);
      continue;
    }
    stack.pop();
    const laid = closeFrame(frame.keys, frame.done);
    const parent = stack[stack.length - 1];
    if (parent === undefined) return laid;
    parent.done.push(laid);
  }
}

function closeFrame(keys: string[] | undefined, items: Laid[]): Laid {
  let widthChars = 2 + Math.max(0, items.length - 1);
  for (const item of items) widthChars += item.widthChars;
  if (keys === undefined) return { kind: 'seq', items, widthChars };
  // each entry: "key value", joined by ", " (one more char than the seq's single space)
  for (const key of keys) widthChars += key.length + 1;
  widthChars += Math.max(0, items.length - 1);
  return { kind: 'map', keys, items, widthChars };
}

/** A laid-out value on one line, appended to `out`. */
function writeFlat(laid: Laid, out: string[]): void {
  if (laid.kind === 'scalar') {
    out.push(laid.text);
    return;
  }
  out.push(laid.kind === 'seq' ? '[' : '{');
  laid.items.forEach((item, i) => {
    if (i > 0) out.push(laid.kind === 'seq' ? ' ' : ', ');
    if (laid.kind === 'map') out.push(laid.keys[i] as string, ' ');
    writeFlat(item, out);
  });
  out.push(laid.kind === 'seq' ? ']' : '}');
}

/**
 * Clojure's layout: a value that fits on the rest of the line stays on it, otherwise one item
 * (map entry) per line, aligned under the first. `trailingChars`: closing brackets and commas
 * that will follow on the value's last line.
 */
function writePretty(laid: Laid, column: number, widthChars: number, trailingChars: number, out: string[]): void {
  if (laid.kind === 'scalar' || column + laid.widthChars + trailingChars <= widthChars) {
    writeFlat(laid, out);
    return;
  }
  const indent = '\n' + ' '.repeat(column + 1);
  const last = laid.items.length - 1;
  out.push(laid.kind === 'seq' ? '[' : '{');
  laid.items.forEach((item, i) => {
    const trailing = i === last ? trailingChars + 1 : laid.kind === 'seq' ? 0 : 1;
    if (laid.kind === 'seq') {
      if (i > 0) out.push(indent);
      writePretty(item, column + 1, widthChars, trailing, out);
      return;
    }
    if (i > 0) out.push(',', indent);
    const key = laid.keys[i] as string;
    out.push(key, ' ');
    writePretty(item, column + 1 + key.length + 1, widthChars, trailing, out);
  });
  out.push(laid.kind === 'seq' ? ']' : '}');
}

/** EDN text for a JSON-like value, pretty-printed to about `widthChars` columns. */
export function toEdn(value: unknown, widthChars: number = DEFAULT_WIDTH_CHARS): string {
  const out: string[] = [];
  writePretty(layOut(value, 'plain'), 0, widthChars, 0, out);
  return out.join('');
}
