// What every command line comes to: one declarative table of flags that drives both the tokenizer
// and the help text, and the one way a node program acts on the result. The harness's `glomers
// test` flags use the same table shape.

/** A flag as a command line declares it; parsing and `--help` read the same row. */
export interface FlagRow {
  /** long name without the dashes: `interval` for `--interval` */
  readonly name: string;
  /** one-letter alias without the dash: `h` for `-h` */
  readonly short?: string;
  /** the value's name in help (`MS`, `N`); absent for a flag that takes no value */
  readonly value?: string;
  /** one line (or a few) for --help, after the flag and its value name */
  readonly help: string;
}

/** A command line split by its table: values by flag (in order, repeats kept), bare flags, the rest. */
export interface Tokens {
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly present: ReadonlySet<string>;
  /** arguments that are not flags, in order */
  readonly positional: readonly string[];
  /** everything after a lone `--` */
  readonly afterDashes: readonly string[];
}

export type TokenizeResult = { ok: true; tokens: Tokens } | { ok: false; message: string };

/** Longest argument list a command line may have, so a runaway caller cannot make us loop for ever. */
export const MAX_ARGS = 10_000;

interface Split {
  row: FlagRow | undefined;
  spelled: string;
  inline: string | undefined;
}

/** `--name=value`, `--name value`, `-x value`, `-xvalue`; a negative number is a positional value. */
function splitFlag(arg: string, rows: readonly FlagRow[]): Split | undefined {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    return { row: rows.find((r) => r.name === name), spelled: `--${name}`, inline: eq === -1 ? undefined : arg.slice(eq + 1) };
  }
  if (arg.length < 2 || !arg.startsWith('-') || /^-[\d.]/.test(arg)) return undefined;
  const rest = arg.slice(2);
  return {
    row: rows.find((r) => r.short === arg[1]),
    spelled: arg.slice(0, 2),
    inline: rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest,
  };
}

/** Splits argv by the table. Unknown flags, a missing value, or a value given to a bare flag are errors. */
export function tokenizeArgs(argv: readonly string[], rows: readonly FlagRow[]): TokenizeResult {
  if (argv.length > MAX_ARGS) return { ok: false, message: `at most ${MAX_ARGS} arguments, got ${argv.length}` };
  const values = new Map<string, string[]>();
  const present = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return { ok: true, tokens: { values, present, positional, afterDashes: argv.slice(i + 1) } };
    const split = splitFlag(arg, rows);
    if (split === undefined) {
      positional.push(arg);
      continue;
    }
    const { row, spelled, inline } = split;
    if (row === undefined) return { ok: false, message: `unknown option ${spelled}` };
    present.add(row.name);
    if (row.value === undefined) {
      if (inline !== undefined) return { ok: false, message: `${spelled} takes no value; remove "=${inline}"` };
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) return { ok: false, message: `${spelled} needs a value (${row.value})` };
    values.set(row.name, [...(values.get(row.name) ?? []), value]);
  }
  return { ok: true, tokens: { values, present, positional, afterDashes: [] } };
}

/** The last value given for a flag (a later flag overrides an earlier one, as Maelstrom's CLI). */
export function lastValue(tokens: Tokens, name: string): string | undefined {
  return tokens.values.get(name)?.at(-1);
}

/** Help lines for the rows: the flag and its value name in a column, then the help text. */
export function flagHelp(rows: readonly FlagRow[], column = 30): string {
  return rows
    .map((row) => {
      const names = `${row.short === undefined ? '' : `-${row.short}, `}--${row.name}${row.value === undefined ? '' : ` ${row.value}`}`;
      const left = `  ${names}`;
      const [first = '', ...more] = row.help.split('\n');
      const head = left.length < column ? `${left.padEnd(column)}${first}` : `${left}\n${' '.repeat(column)}${first}`;
      return [head, ...more.map((line) => `${' '.repeat(column)}${line}`)].join('\n');
    })
    .join('\n');
}

/** A number flag's value, or the problem with it, in words a user can act on. */
export function numberArg(flag: string, raw: string, check: { integer?: boolean; min?: number; max?: number }): number | { error: string } {
  const value = Number(raw);
  const integerOk = check.integer !== true || Number.isSafeInteger(value);
  const inRange = (check.min === undefined || value >= check.min) && (check.max === undefined || value <= check.max);
  if (raw.trim() !== '' && Number.isFinite(value) && integerOk && inRange) return value;
  const bounds = [check.min === undefined ? '' : `>= ${check.min}`, check.max === undefined ? '' : `<= ${check.max}`].filter((s) => s !== '');
  return { error: `--${flag} must be ${check.integer === true ? 'an integer' : 'a number'}${bounds.length === 0 ? '' : ` ${bounds.join(' and ')}`}, got '${raw}'` };
}

/** A numeric flag of a node program: its row, the bounds numberArg checks, and where its value goes. */
export interface NumericFlag<O> {
  row: FlagRow;
  integer?: boolean;
  min?: number;
  max?: number;
  set(options: O, value: number): void;
}

/** Sets every numeric flag given (its last value) on `options`; the error of the first bad one. */
export function applyNumericFlags<O>(tokens: Tokens, flags: readonly NumericFlag<O>[], options: O): { error: string } | undefined {
  for (const flag of flags) {
    const raw = lastValue(tokens, flag.row.name);
    if (raw === undefined) continue;
    const value = numberArg(flag.row.name, raw, flag);
    if (typeof value !== 'number') return value;
    flag.set(options, value);
  }
  return undefined;
}

/** The result of parsing a node's arguments. */
export type ArgsResult<O> = { kind: 'options'; options: O } | { kind: 'help' } | { kind: 'error'; message: string };

/**
 * A node program's flags by its table, or the end of parsing: --help asked, a bad flag, or any
 * argument that is not a flag (node programs take none).
 */
export function nodeFlags(argv: readonly string[], rows: readonly FlagRow[]): { kind: 'tokens'; tokens: Tokens } | ArgsResult<never> {
  const split = tokenizeArgs(argv, rows);
  if (!split.ok) return { kind: 'error', message: split.message };
  const { tokens } = split;
  if (tokens.present.has('help')) return { kind: 'help' };
  const stray = [...tokens.positional, ...tokens.afterDashes][0];
  if (stray !== undefined) return { kind: 'error', message: `unknown argument '${stray}'` };
  return { kind: 'tokens', tokens };
}

/**
 * The options, or the end of the program: usage on stdout and exit 0 for --help, the problem
 * and usage on stderr and exit 2 for a bad argument.
 */
export function optionsOrExit<O>(program: string, parsed: ArgsResult<O>, usage: string): O {
  if (parsed.kind === 'help') {
    process.stdout.write(usage);
    process.exit(0);
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${program}: ${parsed.message}\n\n${usage}`);
    process.exit(2);
  }
  return parsed.options;
}
