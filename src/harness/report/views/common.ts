// Shared pieces of the workload views: reading untyped results JSON safely (results.json may
// come from an older or a foreign checker), describing history operations in words, and caps.

import type { Json, Op } from '../../types.js';
import { escapeXml } from '../svg.js';

export type JsonMap = { [key: string]: Json };

export function isMap(value: Json | undefined): value is JsonMap {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

export function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

export function asMap(value: Json | undefined): JsonMap {
  return isMap(value) ? value : {};
}

export function asNumber(value: Json | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function asString(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Cuts text to `maxChars` with an ellipsis, so one huge value cannot swell the page. */
export function clip(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, Math.max(0, maxChars - 1))}…` : text;
}

/** A value as JSON, clipped. */
export function showValue(value: Json | undefined, maxChars = 80): string {
  return clip(JSON.stringify(value ?? null) ?? 'null', maxChars);
}

export function seconds(ns: number): string {
  return `${(ns / 1e9).toFixed(3)} s`;
}

/** Console lines a view may add to the summary before "... and N more". */
export const SUMMARY_LINE_LIMIT = 10;

/** At most `limit` lines, then "... and N more (see report.html)"; `total` counts findings not in `lines` too. */
export function boundLines(lines: string[], limit: number, total = lines.length): string[] {
  const shown = lines.slice(0, limit);
  if (total > shown.length) shown.push(`... and ${total - shown.length} more (see report.html)`);
  return shown;
}

/** A paragraph saying what was left out of a drawing or a list, or nothing. */
export function capNote(shown: number, total: number, what: string): string {
  if (shown >= total) return '';
  return `<p class="cap">Showing ${shown} of ${total} ${escapeXml(what)}; the rest are left out to keep this page small.</p>`;
}

/** Finds history ops by their index; a history read from a file usually has op.index === position. */
export function opFinder(history: readonly Op[]): (index: number) => Op | undefined {
  let byIndex: Map<number, Op> | undefined;
  return (index) => {
    const direct = history[index];
    if (direct !== undefined && direct.index === index) return direct;
    if (byIndex === undefined) byIndex = new Map(history.map((op) => [op.index, op]));
    return byIndex.get(index);
  };
}
