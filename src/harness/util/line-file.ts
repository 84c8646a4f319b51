// A file written one line at a time as a run goes (the network journal, the history), buffered
// so that a busy run makes few writes, and bounded: at most FLUSH_BYTES wait in memory.
import { closeSync, openSync, writeSync } from 'node:fs';

/** Bytes buffered before a write. */
const FLUSH_BYTES = 1 << 20;

export interface LineFile {
  append(line: string): void;
  /** Writes what is buffered and closes the file. */
  close(): void;
}

/** A line file at `file`; `what` names it in the one message printed if the disk refuses it. */
export function createLineFile(file: string, what: string): LineFile {
  const fd = openSync(file, 'w');
  let buffer = '';
  let failed = false;
  let closed = false;
  const flush = (): void => {
    if (buffer.length === 0 || failed) return;
    try {
      writeSync(fd, buffer);
    } catch (err) {
      // A full disk must not end the test; what is kept in memory stays exact.
      failed = true;
      process.stderr.write(`glomers: cannot write ${what} any more (${String(err)})\n`);
    }
    buffer = '';
  };
  return {
    append(line) {
      if (failed || closed) return;
      buffer += `${line}\n`;
      if (buffer.length >= FLUSH_BYTES) flush();
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      closeSync(fd);
    },
  };
}
