// The supervisor's line check: whatever a node prints, checkLine answers and never throws.
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../lib/protocol.js';
import { checkLine, messageLine } from './process.js';

const registered = (id: string): boolean => /^(n\d+|c\d+|lin-kv)$/.test(id);
const line = (body: string): string => `{"src":"n0","dest":"c1","body":${body}}`;

describe('checkLine', () => {
  it('refuses a line nested deeper than the limit, naming the limit, without overflowing the stack', () => {
    const deep = (depth: number): string => line(`{"type":"x","v":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    // envelope and body are two levels
    expect(checkLine(deep(MAX_JSON_DEPTH - 2), registered)).toMatchObject({ ok: true });
    expect(checkLine(deep(MAX_JSON_DEPTH - 1), registered)).toEqual({ ok: false, reason: `nested deeper than ${MAX_JSON_DEPTH} levels` });
    expect(checkLine(deep(100_000), registered)).toMatchObject({ ok: false });
  });

  it('refuses what Maelstrom refuses: Infinity is not JSON; an unknown src is named, briefly', () => {
    expect(checkLine(line('{"type":"x","in_reply_to":Infinity}'), registered)).toMatchObject({ ok: false, reason: /not well-formed JSON/ });
    const longId = 'z'.repeat(1_000_000);
    const checked = checkLine(`{"src":"${longId}","dest":"c1","body":{"type":"x"}}`, registered);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.reason.length).toBeLessThan(400);
  });

  it('fuzz: generated depths, number forms and lengths never throw and always get a verdict', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const numbers = ['1e400', '-0', '9007199254740993', '1.5e-400', '0.1', 'NaN', 'Infinity', '-', '1e', '01'];
    for (let k = 0; k < 400; k++) {
      const depth = Math.floor(random() ** 2 * 5000);
      const open = random() < 0.5 ? '[' : '{"k":';
      const close = open === '[' ? ']' : '}';
      const value = `${open.repeat(depth)}${numbers[Math.floor(random() * numbers.length)]}${close.repeat(depth)}`;
      const padding = 'p'.repeat(Math.floor(random() ** 4 * 200_000));
      const text = line(`{"type":"x","pad":"${padding}","v":${value}}`);
      const cut = random() < 0.2 ? text.slice(0, Math.floor(random() * text.length)) : text;
      const checked = checkLine(cut, registered);
      if (checked.ok) {
        // accepted lines are safe to forward
        expect(() => JSON.stringify(checked.message)).not.toThrow();
        expect(depth + 2).toBeLessThanOrEqual(MAX_JSON_DEPTH);
      } else {
        expect(checked.reason.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('messageLine', () => {
  it('is the text JSON.stringify makes, around a body serialised once', () => {
    const messages = [
      { id: 7, src: 'n1', dest: 'n2', body: { type: 'gossip', values: [1, 2.5, -0, 'é"\\\n'], nested: { a: null } } },
      { src: 'c"quoted', dest: 'n0', body: { type: 'echo', echo: '\u2028 😀 \ud800' } },
    ];
    for (const message of messages) {
      expect(messageLine(message, JSON.stringify(message.body))).toBe(`${JSON.stringify(message)}\n`);
      expect(messageLine(message)).toBe(`${JSON.stringify(message)}\n`);
    }
  });
});
