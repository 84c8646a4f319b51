// Bounded texts built from received data, for error replies and log lines.
import { boundText } from './protocol.js';

/** Bound on any text the runtime builds into an error reply or a log line from received data. */
export const maxErrorTextChars = 500;
const maxQuotedNameChars = 100;

/** A received name (type, node id) as quoted in texts: bounded, whatever the sender put there. */
export function short(name: string): string {
  return boundText(String(name), maxQuotedNameChars);
}

export function errorText(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? error.message : String(error);
  } catch {
    text = '(an error that cannot be shown)';
  }
  return boundText(text, maxErrorTextChars);
}

export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
