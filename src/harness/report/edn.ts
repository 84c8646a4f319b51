// Writes results in Maelstrom's EDN (as Clojure's pretty printer shows it), so scripts that read
// store/latest/results.edn keep working: keyword map keys, quantile keys as numbers, nil.

const DEFAULT_WIDTH_CHARS = 80;
/**
 * Most items of one list that results.edn shows; the rest are counted in a closing string. Elle
 * can report thousands of anomalies, which results.json lists whole: printing them twice cost
 * more than checking them (docs/analyze.md).
 */
export const EDN_MAX_LIST_ITEMS = 100;

interface Page {
  widthChars: number;
  maxItems: number;
}

/** A list as results.edn shows it: at most `maxItems`, then how many more there are. */
function shownItems(list: readonly unknown[], page: Page): readonly unknown[] {
  if (list.length <= page.maxItems) return list;
  return [...list.slice(0, page.maxItems), `... and ${list.length - page.maxItems} more (results.json has them all)`];
}

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

const ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function ednString(text: string): string {
  return `"${text.replace(/["\\\n\r\t]/g, (ch) => ESCAPES[ch] as string)}"`;
}

function ednNumber(value: number, context: Context): string {
  if (Number.isNaN(value)) return '##NaN';
  if (value === Infinity) return '##Inf';
  if (value === -Infinity) return '##-Inf';
  const text = String(value);
  if (context === 'float' && Number.isInteger(value) && !text.includes('e')) return `${text}.0`;
  return text;
}

const MAX_CACHED_KEYS = 10_000;
const keyCache = new Map<string, string>();

/** A map key: numbers stay numbers (quantiles, offsets), names become keywords. */
export function ednKey(key: string): string {
  const known = keyCache.get(key);
  if (known !== undefined) return known;
  const text = NUMBER_KEY_PATTERN.test(key) ? key : KEYWORD_PATTERN.test(key) ? `:${key}` : ednString(key);
  // The same few keys recur in every op record; a bound keeps hostile keys from filling memory.
  if (keyCache.size < MAX_CACHED_KEYS) keyCache.set(key, text);
  return text;
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
 * Appends `value` on one line to `out.text`, giving up (false) as soon as the text passes
 * `limitChars`: deciding whether a subtree fits the rest of a line costs at most a line's worth
 * of work, however large the subtree. (Printing every subtree whole to measure it was quadratic.)
 */
function appendFlat(value: unknown, context: Context, limitChars: number, page: Page, out: { text: string }): boolean {
  // a string's EDN is at least its length plus quotes: no need to escape a long one to refuse it
  if (typeof value === 'string' && out.text.length + value.length + 2 > limitChars) return false;
  const simple = scalar(value, context);
  if (simple !== undefined) {
    out.text += simple;
    return out.text.length <= limitChars;
  }
  if (Array.isArray(value)) {
    out.text += '[';
    const items = shownItems(value, page);
    for (let i = 0; i < items.length; i++) {
      if (i > 0) out.text += ' ';
      if (!appendFlat(items[i], 'plain', limitChars, page, out)) return false;
    }
    out.text += ']';
  } else if (isPlainObject(value)) {
    out.text += '{';
    const list = entries(value);
    for (let i = 0; i < list.length; i++) {
      const [key, item, ctx] = list[i] as [string, unknown, Context];
      out.text += (i > 0 ? ', ' : '') + ednKey(key) + ' ';
      if (out.text.length > limitChars || !appendFlat(item, ctx, limitChars, page, out)) return false;
    }
    out.text += '}';
  } else {
    out.text += ednString(String(value));
  }
  return out.text.length <= limitChars;
}

/**
 * Clojure's layout: a value that fits on the rest of the line stays on it, otherwise one item
 * (map entry) per line, aligned under the first. `trailingChars`: closing brackets and commas
 * that will follow on the value's last line.
 */
function writePretty(value: unknown, context: Context, column: number, page: Page, trailingChars: number, out: string[]): void {
  const flat = { text: '' };
  // A scalar stays whole even when it is too long for the line.
  const simple = Array.isArray(value) || isPlainObject(value) ? undefined : scalar(value, context) ?? ednString(String(value));
  if (simple !== undefined) {
    out.push(simple);
    return;
  }
  if (appendFlat(value, context, Math.max(0, page.widthChars - column - trailingChars), page, flat)) {
    out.push(flat.text);
    return;
  }
  const indent = '\n' + ' '.repeat(column + 1);
  if (Array.isArray(value)) {
    const items = shownItems(value, page);
    const last = items.length - 1;
    out.push('[');
    for (let i = 0; i <= last; i++) {
      if (i > 0) out.push(indent);
      writePretty(items[i], 'plain', column + 1, page, i === last ? trailingChars + 1 : 0, out);
    }
    out.push(']');
    return;
  }
  const list = entries(value as Record<string, unknown>);
  const last = list.length - 1;
  out.push('{');
  list.forEach(([key, item, ctx], i) => {
    if (i > 0) out.push(',', indent);
    const keyText = ednKey(key);
    out.push(keyText, ' ');
    writePretty(item, ctx, column + 1 + keyText.length + 1, page, i === last ? trailingChars + 1 : 1, out);
  });
  out.push('}');
}

/**
 * EDN text for a JSON-like value, pretty-printed to about `widthChars` columns, lists cut at
 * `maxItems` (unbounded unless given: results.edn passes EDN_MAX_LIST_ITEMS).
 */
export function toEdn(value: unknown, widthChars: number = DEFAULT_WIDTH_CHARS, maxItems: number = Infinity): string {
  const out: string[] = [];
  writePretty(value, 'plain', 0, { widthChars, maxItems }, 0, out);
  return out.join('');
}
