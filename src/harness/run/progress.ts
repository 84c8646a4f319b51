// Progress display: one line rewritten in place on a TTY, a plain line every few seconds otherwise.
import type { Op } from '../types.js';

export interface Progress {
  setPhase(phase: string, endNs: number | null, nowNs: () => number): void;
  stop(): void;
}

const PLAIN_INTERVAL_MS = 5000;
const TTY_INTERVAL_MS = 250;

export function createProgress(
  stream: NodeJS.WriteStream | null,
  snapshot: () => { history: Op[]; messages: number },
): Progress {
  if (stream === null) return { setPhase() {}, stop() {} };
  const tty = stream.isTTY === true;
  let phase = 'starting';
  let endNs: number | null = null;
  let clock: () => number = () => 0;
  let phaseStartNs = 0;
  // Count completions incrementally rather than rescanning the whole history each tick.
  let scanned = 0;
  const counts = { ok: 0, fail: 0, info: 0 };

  const line = (): string => {
    const { history, messages } = snapshot();
    for (; scanned < history.length; scanned++) {
      const op = history[scanned] as Op;
      if (op.process === 'nemesis') continue;
      if (op.type === 'ok' || op.type === 'fail' || op.type === 'info') counts[op.type]++;
    }
    const now = clock();
    const elapsed = ((now - phaseStartNs) / 1e9).toFixed(0);
    const limit = endNs === null ? '' : `/${((endNs - phaseStartNs) / 1e9).toFixed(0)}`;
    return `[${phase} ${elapsed}${limit}s] ops ok ${counts.ok} fail ${counts.fail} info ${counts.info}, messages ${messages}`;
  };

  const tick = (): void => {
    if (tty) stream.write(`\r\x1b[2K${line()}`);
    else stream.write(`${line()}\n`);
  };
  const timer = setInterval(tick, tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS);
  timer.unref();

  return {
    setPhase(next, nextEndNs, nowNs) {
      phase = next;
      endNs = nextEndNs;
      clock = nowNs;
      phaseStartNs = nowNs();
    },
    stop() {
      clearInterval(timer);
      if (tty) stream.write(`\r\x1b[2K${line()}\n`);
    },
  };
}
