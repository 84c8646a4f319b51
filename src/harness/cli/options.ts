// Command-line option values: the parsing rules every flag shares, and the specs with which each
// workload registers its own flags (so TestOptions does not collect every workload's fields).
import type { Json, TestOptions } from '../types.js';

/** Default budget of the workload checker, in seconds (`--check-budget`). */
export const DEFAULT_CHECK_BUDGET_S = 300;

/** Bad command line: the message says what to do; the process exits 254. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface NumberCheck {
  integer?: boolean;
  min?: number;
  max?: number;
  /** strictly above min */
  above?: number;
}

/** Decimal notation only: Number() would also take 0x10, 0b1, 0o7, Infinity and surrounding spaces. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumber(flag: string, raw: string, check: NumberCheck): number {
  const value = Number(raw);
  const ok =
    DECIMAL.test(raw) &&
    Number.isFinite(value) &&
    (!check.integer || Number.isSafeInteger(value)) &&
    (check.min === undefined || value >= check.min) &&
    (check.above === undefined || value > check.above) &&
    (check.max === undefined || value <= check.max);
  if (!ok) {
    const kind = check.integer ? 'an integer' : 'a number';
    const low = check.above !== undefined ? `above ${check.above}` : check.min !== undefined ? `>= ${check.min}` : '';
    const range =
      check.min !== undefined && check.max !== undefined
        ? ` between ${check.min} and ${check.max}`
        : [low, check.max !== undefined ? `<= ${check.max}` : ''].filter((s) => s !== '').map((s) => ` ${s}`).join(' and');
    throw new UsageError(`--${flag} expects ${kind}${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A flag a workload registers: `--flag VALUE`, stored under `key` in opts.workloadOptions. */
export interface OptionSpec {
  flag: string;
  key: string;
  /** one line for --help, after the flag and its value name */
  help: string;
  valueName: string;
  default: Json;
  /** the value for raw text; throws UsageError when it cannot be accepted */
  parse(raw: string): Json;
}

export function intOption(flag: string, key: string, help: string, defaultValue: number | null, check: NumberCheck = {}): OptionSpec {
  return {
    flag,
    key,
    help,
    valueName: 'N',
    default: defaultValue,
    parse: (raw) => parseNumber(flag, raw, { integer: true, ...check }),
  };
}

export function choiceOption(flag: string, key: string, help: string, choices: readonly string[], defaultValue: string): OptionSpec {
  return {
    flag,
    key,
    help: `${help}: ${choices.join(', ')} (default ${defaultValue})`,
    valueName: 'NAME',
    default: defaultValue,
    parse(raw) {
      if (!choices.includes(raw)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    },
  };
}

export function flagOption(flag: string, key: string, help: string): OptionSpec {
  return { flag, key, help, valueName: '', default: false, parse: () => true };
}

/** Our own workloads' one flag for "more than once is wrong" (sched's tasks, timers' fires). */
export const exactlyOnceOption: OptionSpec = flagOption(
  'exactly-once',
  'exactlyOnce',
  'work done more than once (a task run twice, a timer fired twice) makes the run invalid; without it it is only counted',
);

/** A workload option's value: its parsed flag, or the spec's default. */
export function optionValue(opts: TestOptions, spec: OptionSpec): Json {
  return Object.hasOwn(opts.workloadOptions, spec.key) ? (opts.workloadOptions[spec.key] ?? null) : spec.default;
}

export function intOptionValue(opts: TestOptions, spec: OptionSpec): number | null {
  const value = optionValue(opts, spec);
  return typeof value === 'number' ? value : null;
}
