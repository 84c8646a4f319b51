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

function flat(value: unknown, context: Context): string {
  const simple = scalar(value, context);
  if (simple !== undefined) return simple;
  if (Array.isArray(value)) return `[${value.map((item) => flat(item, 'plain')).join(' ')}]`;
  if (isPlainObject(value)) {
    return `{${entries(value).map(([key, item, ctx]) => `${ednKey(key)} ${flat(item, ctx)}`).join(', ')}}`;
  }
  return ednString(String(value));
}

/** `trailingChars`: closing brackets and commas that will follow on the value's last line. */
function pretty(value: unknown, context: Context, column: number, widthChars: number, trailingChars: number): string {
  const oneLine = flat(value, context);
  if (column + oneLine.length + trailingChars <= widthChars) return oneLine;
  const indent = '\n' + ' '.repeat(column + 1);
  if (Array.isArray(value)) {
    const last = value.length - 1;
    return `[${value.map((item, i) => pretty(item, 'plain', column + 1, widthChars, i === last ? trailingChars + 1 : 0)).join(indent)}]`;
  }
  if (isPlainObject(value)) {
    const list = entries(value);
    const last = list.length - 1;
    const lines = list.map(([key, item, ctx], i) => {
      const keyText = ednKey(key);
      const itemColumn = column + 1 + keyText.length + 1;
      return `${keyText} ${pretty(item, ctx, itemColumn, widthChars, i === last ? trailingChars + 1 : 1)}`;
    });
    return `{${lines.join(',' + indent)}}`;
  }
  return oneLine;
}

/** EDN text for a JSON-like value, pretty-printed to about `widthChars` columns. */
export function toEdn(value: unknown, widthChars: number = DEFAULT_WIDTH_CHARS): string {
  return pretty(value, 'plain', 0, widthChars, 0);
}
