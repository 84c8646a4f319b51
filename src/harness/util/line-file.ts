// A file written one line at a time as a run goes (the network journal, the history), buffered
// so that a busy run makes few writes, and bounded: at most BUFFER_BYTES wait in memory. Lines are
// encoded into one reused buffer as they come, rather than kept as strings until a flush: a
// flooded run appends a million lines a second, and strings held that long outlive the young
// generation and make the garbage collector the harness's largest cost (docs/network.md).
import { closeSync, openSync, writeSync } from 'node:fs';

/** Bytes buffered before a write. */
const BUFFER_BYTES = 1 << 20;
const NEWLINE = 0x0a;

export interface LineFile {
  append(line: string): void;
  /** Writes what is buffered and closes the file. */
  close(): void;
}

/** A line file at `file`; `what` names it in the one message printed if the disk refuses it. */
export function createLineFile(file: string, what: string): LineFile {
  const fd = openSync(file, 'w');
  const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  let used = 0;
  let failed = false;
  let closed = false;
  const writeAll = (bytes: Buffer): void => {
    if (failed) return;
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      // A full disk must not end the test; what is kept in memory stays exact.
      failed = true;
      process.stderr.write(`glomers: cannot write ${what} any more (${String(err)})\n`);
    }
  };
  const flush = (): void => {
    if (used > 0) writeAll(buffer.subarray(0, used));
    used = 0;
  };
  return {
    append(line) {
      if (failed || closed) return;
      // 3 bytes per UTF-16 unit is the most UTF-8 can need, so the common case checks no more.
      if (used + line.length * 3 + 1 > BUFFER_BYTES) {
        flush();
        if (line.length * 3 + 1 > BUFFER_BYTES) {
          writeAll(Buffer.from(`${line}\n`));
          return;
        }
      }
      used += buffer.write(line, used);
      buffer[used++] = NEWLINE;
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      closeSync(fd);
    },
  };
}
