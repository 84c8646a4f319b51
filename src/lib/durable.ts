// Durable record files: an append-only file of checksummed lines that a node can trust after a
// kill or a power cut, and that refuses loudly to start from damaged data. docs/storage.md §1
// describes the format and the rules; in short:
//
// - Every line is `<crc32 of the payload, 8 hex digits> <payload>\n`. The first line is a header
//   record naming the format, so a stray file is never taken for ours.
// - append() writes all its records with positional writes, looping on the byte count; anything
//   less than the whole buffer fails the caller, and the bytes that did land are cut off again,
//   so no record half-exists and nothing is acknowledged that is not wholly written.
// - Loading streams the file in fixed chunks (memory: one chunk plus one record, never the file)
//   and sorts what it finds into valid records, a torn tail (the last record cut short or
//   failing its checksum, with nothing valid after it: a crash mid-append) that is dropped and
//   cut off, and damage anywhere else, which is an error naming the file and the line. A damaged
//   file is left exactly as it was.
// - rewrite() replaces the file with the given records (compaction): a temporary file is written
//   and fsynced, renamed over the old one, and the directory fsynced before anything else is
//   appended, so a crash at any point leaves either the old file or the new one.
//
// All I/O goes through a DurableFs, by default node:fs, so tests and the simulation can inject
// short writes, ENOSPC or lost fsyncs.

import * as nodeFs from 'node:fs';
import path from 'node:path';
import * as zlib from 'node:zlib';
import { installedFs } from './host.js';

/** The file operations a record file uses; node:fs satisfies it. */
export interface DurableFs {
  openSync(file: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, lengthBytes: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(file: string): void;
}

export interface RecordFileOptions {
  fs?: DurableFs;
  /** Longest payload accepted, in UTF-8 bytes; a longer line in the file is damage (default 1 MiB). */
  maxRecordBytes?: number;
  /** Bytes read per read() while loading (default 64 KiB). */
  readChunkBytes?: number;
  /**
   * Called with each valid record's payload, oldest first, as the file streams in. A throw marks
   * the record as damaged: opening fails with an error naming the file and the line.
   */
  onRecord?: (payload: string, line: number) => void;
}

export interface RecordFile {
  readonly path: string;
  /** Records in the file now (loaded and appended; the header is not counted). */
  readonly recordCount: number;
  /** Size of the file in bytes, header included. */
  readonly sizeBytes: number;
  /** Bytes of a torn tail dropped when the file was opened (0 if none). */
  readonly droppedTailBytes: number;
  /** Writes the records, each a payload without '\n'. Throws DurableWriteError if not all of it was written. */
  append(payloads: readonly string[]): void;
  /** fsync (skipped when nothing was written since the last one). Throws on failure; after one, every later append and sync throws too. */
  sync(): void;
  /** Replaces the whole file by these records (compaction); on failure the old file stays in use. */
  rewrite(payloads: Iterable<string>): void;
  close(): void;
}

/** The file holds damage a crash cannot explain; it is left untouched. */
export class DurableFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}: line ${line}: ${reason} (file left untouched)`);
    this.name = 'DurableFileError';
  }
}

/** A write or fsync did not complete; what it was asked to store is not stored. */
export class DurableWriteError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'DurableWriteError';
  }
}

export const defaultMaxRecordBytes = 1024 * 1024;
const defaultReadChunkBytes = 64 * 1024;
const headerPayload = JSON.stringify({ format: 'glomers-records', version: 1 });
/** 8 hex digits and a space before the payload, '\n' after it. */
const lineOverheadBytes = 10;
/** Compaction writes the new file in pieces of about this size (bounded memory). */
const rewriteChunkBytes = 1024 * 1024;
const newline = 0x0a;

// ---- CRC-32 (IEEE, as zlib and gzip use) ----

let crcTable: Uint32Array | undefined;

/**
 * Our own table-driven CRC-32: for Node versions before zlib.crc32 (added in 20.15), and for the
 * short ranges of a read buffer the loader checks (no Buffer view per record, no native call).
 */
export function tableCrc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = start; i < end; i += 1) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export function crc32(bytes: Uint8Array): number {
  return nativeCrc32 !== undefined ? nativeCrc32(bytes) >>> 0 : tableCrc32(bytes);
}

// ---- encoding ----

/** The line a payload is stored as. */
export function encodeRecord(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const line = Buffer.allocUnsafe(body.length + lineOverheadBytes);
  line.write(crc32(body).toString(16).padStart(8, '0'), 0, 'latin1');
  line[8] = 0x20;
  body.copy(line, 9);
  line[line.length - 1] = newline;
  return line;
}

/** Bytes a payload takes in the file. */
export function recordBytes(payload: string): number {
  return Buffer.byteLength(payload, 'utf8') + lineOverheadBytes;
}

/** Value of a lowercase hex digit, or -1. */
function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

/**
 * The payload of the line at bytes[start, end) (without its '\n'), or why it is not a valid
 * record. Works on the read buffer in place: this runs once per record at restore.
 */
function decodeLine(bytes: Buffer, start: number, end: number): { payload: string } | { problem: string } {
  if (end - start < lineOverheadBytes - 1 || bytes[start + 8] !== 0x20) return { problem: 'not a record line' };
  let expected = 0;
  for (let i = start; i < start + 8; i += 1) {
    const digit = hexDigit(bytes[i]!);
    if (digit < 0) return { problem: 'not a record line' };
    expected = expected * 16 + digit;
  }
  if (tableCrc32(bytes, start + 9, end) !== expected) return { problem: 'checksum mismatch' };
  return { payload: bytes.toString('utf8', start + 9, end) };
}

// ---- loading ----

interface Scan {
  /** Byte offset just after the last valid record. */
  goodEndBytes: number;
  /** Size of the file as read. */
  endBytes: number;
  records: number;
  /** The first line that failed, if any; with content after it, it is damage, not a torn tail. */
  firstBad: { line: number; problem: string } | undefined;
  sawHeader: boolean;
}

/** Whether every byte is NUL: what a power cut can leave where a file grew but data never landed. */
function allNul(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

interface Classifier {
  readonly file: string;
  readonly maxLineBytes: number;
  readonly onRecord: (payload: string, line: number) => void;
  readonly scan: Scan;
  lineNo: number;
}

/**
 * Sorts one line (bytes[start, end), or undefined when it was too long to keep) into a record, the
 * header, the first bad line, or damage (thrown). `endBytes` is the file offset after its '\n'.
 */
function classifyLine(c: Classifier, bytes: Buffer | undefined, start: number, end: number, endBytes: number): void {
  const { scan, file } = c;
  c.lineNo += 1;
  if (scan.firstBad !== undefined) {
    if (bytes === undefined || !allNul(bytes.subarray(start, end))) throw new DurableFileError(file, scan.firstBad.line, `${scan.firstBad.problem}, and more data follows it`);
    return;
  }
  const decoded = bytes === undefined ? { problem: `line longer than ${c.maxLineBytes} bytes` } : decodeLine(bytes, start, end);
  if ('problem' in decoded) {
    scan.firstBad = { line: c.lineNo, problem: decoded.problem };
    return;
  }
  if (!scan.sawHeader) {
    if (decoded.payload !== headerPayload) throw new DurableFileError(file, c.lineNo, 'not a glomers record file (unknown header)');
    scan.sawHeader = true;
  } else {
    try {
      c.onRecord(decoded.payload, c.lineNo);
    } catch (error) {
      throw new DurableFileError(file, c.lineNo, `record not understood: ${error instanceof Error ? error.message : String(error)}`);
    }
    scan.records += 1;
  }
  scan.goodEndBytes = endBytes;
}

/**
 * Streams the file line by line. Valid lines before any bad one are records; after a bad line,
 * anything but NUL bytes makes it damage.
 */
function scanFile(fs: DurableFs, fd: number, file: string, options: Required<Omit<RecordFileOptions, 'fs' | 'onRecord'>>, onRecord: (payload: string, line: number) => void): Scan {
  const scan: Scan = { goodEndBytes: 0, endBytes: 0, records: 0, firstBad: undefined, sawHeader: false };
  const maxLineBytes = options.maxRecordBytes + lineOverheadBytes;
  const classifier: Classifier = { file, maxLineBytes, onRecord, scan, lineNo: 0 };
  const finishLine = (bytes: Buffer | undefined, start: number, end: number, endBytes: number): void => classifyLine(classifier, bytes, start, end, endBytes);
  const chunk = Buffer.allocUnsafe(options.readChunkBytes);
  let pieces: Buffer[] = [];
  let carriedBytes = 0;
  let overlong = false;
  let lineStartBytes = 0;
  let positionBytes = 0;

  for (;;) {
    const readBytes = fs.readSync(fd, chunk, 0, chunk.length, positionBytes);
    if (readBytes <= 0) break;
    let start = 0;
    for (let at = chunk.indexOf(newline, 0); at >= 0 && at < readBytes; at = chunk.indexOf(newline, start)) {
      // A line wholly inside this chunk is decoded in place; one spanning chunks is put together.
      if (overlong || carriedBytes + at - start > maxLineBytes) {
        finishLine(undefined, 0, 0, positionBytes + at + 1);
      } else if (pieces.length === 0) {
        finishLine(chunk, start, at, positionBytes + at + 1);
      } else {
        const joined = Buffer.concat([...pieces, chunk.subarray(start, at)]);
        finishLine(joined, 0, joined.length, positionBytes + at + 1);
      }
      pieces = [];
      carriedBytes = 0;
      overlong = false;
      start = at + 1;
      lineStartBytes = positionBytes + start;
    }
    if (start < readBytes && !overlong) {
      carriedBytes += readBytes - start;
      if (carriedBytes > maxLineBytes) {
        overlong = true;
        pieces = [];
      } else {
        pieces.push(Buffer.from(chunk.subarray(start, readBytes)));
      }
    }
    positionBytes += readBytes;
  }
  // An unterminated last line is a record cut short: torn, unless a bad line came before it
  // and it holds more than NUL bytes.
  if (positionBytes > lineStartBytes && scan.firstBad !== undefined && (overlong || !allNul(Buffer.concat(pieces)))) {
    throw new DurableFileError(file, scan.firstBad.line, `${scan.firstBad.problem}, and more data follows it`);
  }
  scan.endBytes = positionBytes;
  return scan;
}

// ---- writing ----

/** Writes the whole buffer at positionBytes or throws; a write that makes no progress is a failure. */
function writeFully(fs: DurableFs, fd: number, buffer: Uint8Array, positionBytes: number): void {
  let doneBytes = 0;
  while (doneBytes < buffer.length) {
    const wroteBytes = fs.writeSync(fd, buffer, doneBytes, buffer.length - doneBytes, positionBytes + doneBytes);
    if (!(wroteBytes > 0)) throw new Error(`short write: ${doneBytes} of ${buffer.length} bytes written, then no progress`);
    doneBytes += wroteBytes;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function openForUpdate(fs: DurableFs, file: string): { fd: number; created: boolean } {
  try {
    return { fd: fs.openSync(file, 'r+'), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return { fd: fs.openSync(file, 'wx+'), created: true };
  }
}

function fsyncDirectory(fs: DurableFs, file: string): void {
  const fd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Opens a record file, creating it if missing. Valid records stream to options.onRecord; a torn
 * tail is dropped and cut off; damage throws DurableFileError and leaves the file as it was.
 */
export function openRecordFile(file: string, options: RecordFileOptions = {}): RecordFile {
  // Under --sim, the simulated disk (host.ts installedFs) unless the caller chose an fs.
  const fs = options.fs ?? (installedFs() as DurableFs | undefined) ?? (nodeFs as DurableFs);
  const maxRecordBytes = options.maxRecordBytes ?? defaultMaxRecordBytes;
  const { fd, created } = openForUpdate(fs, file);
  try {
    const scan = scanFile(fs, fd, file, { maxRecordBytes, readChunkBytes: options.readChunkBytes ?? defaultReadChunkBytes }, options.onRecord ?? (() => {}));
    const droppedTailBytes = scan.endBytes - scan.goodEndBytes;
    // Only a torn tail is ever cut off: the scan has proved everything after goodEndBytes is one.
    if (droppedTailBytes > 0) fs.ftruncateSync(fd, scan.goodEndBytes);
    let sizeBytes = scan.goodEndBytes;
    if (!scan.sawHeader) {
      writeFully(fs, fd, encodeRecord(headerPayload), 0);
      sizeBytes = recordBytes(headerPayload);
      if (created) fsyncDirectory(fs, file);
    }
    return recordFileHandle(fs, file, fd, { sizeBytes, recordCount: scan.records, droppedTailBytes, maxRecordBytes });
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

interface OpenedState {
  sizeBytes: number;
  recordCount: number;
  droppedTailBytes: number;
  maxRecordBytes: number;
}

/** The lines for `payloads`, as one buffer; throws if a payload cannot be a record. */
function encodeAll(file: string, payloads: readonly string[], maxRecordBytes: number): Buffer {
  const lines = payloads.map((payload) => {
    if (payload.includes('\n')) throw new DurableWriteError(file, 'a record payload may not contain a newline');
    if (Buffer.byteLength(payload, 'utf8') > maxRecordBytes) throw new DurableWriteError(file, `a record payload is longer than ${maxRecordBytes} bytes`);
    return encodeRecord(payload);
  });
  return lines.length === 1 ? lines[0]! : Buffer.concat(lines);
}

function recordFileHandle(fs: DurableFs, file: string, openedFd: number, opened: OpenedState): RecordFile {
  const { droppedTailBytes, maxRecordBytes } = opened;
  let { sizeBytes, recordCount } = opened;
  let fd = openedFd;
  let failure: string | undefined;
  // Whether anything was written since the last fsync; a sync with nothing to cover costs nothing.
  let unsynced = true;
  const refuseIfFailed = (): void => {
    if (failure !== undefined) throw new DurableWriteError(file, `refused: an earlier write failed (${failure})`);
  };
  const fail = (reason: string): never => {
    failure = reason;
    throw new DurableWriteError(file, reason);
  };

  return {
    path: file,
    get recordCount() {
      return recordCount;
    },
    get sizeBytes() {
      return sizeBytes;
    },
    droppedTailBytes,
    append(payloads) {
      refuseIfFailed();
      if (payloads.length === 0) return;
      const buffer = encodeAll(file, payloads, maxRecordBytes);
      try {
        writeFully(fs, fd, buffer, sizeBytes);
      } catch (error) {
        // Cut off whatever part landed, so the next append does not follow half a record.
        try {
          fs.ftruncateSync(fd, sizeBytes);
        } catch (truncateError) {
          fail(`write failed (${errorText(error)}) and cutting it off failed too (${errorText(truncateError)})`);
        }
        throw new DurableWriteError(file, `write failed: ${errorText(error)}`);
      }
      sizeBytes += buffer.length;
      recordCount += payloads.length;
      unsynced = true;
    },
    sync() {
      refuseIfFailed();
      if (!unsynced) return;
      try {
        fs.fsyncSync(fd);
        unsynced = false;
      } catch (error) {
        // After a failed fsync the kernel may have dropped the dirty pages: nothing since the last
        // good fsync can be trusted, so the file takes no more writes.
        fail(`fsync failed: ${errorText(error)}`);
      }
    },
    rewrite(payloads) {
      refuseIfFailed();
      const replacement = writeReplacement(fs, file, payloads, maxRecordBytes);
      try {
        fsyncDirectory(fs, file);
      } catch (error) {
        fs.closeSync(replacement.fd);
        // The rename may or may not survive a crash; appending to either file could lose records.
        fail(`directory fsync after compaction failed: ${errorText(error)}`);
      }
      fs.closeSync(fd);
      fd = replacement.fd;
      sizeBytes = replacement.sizeBytes;
      recordCount = replacement.records;
      // The replacement was fsynced before the rename.
      unsynced = false;
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

/** Writes header + payloads to a temporary file, fsyncs it and renames it over `file`; returns it open. */
function writeReplacement(fs: DurableFs, file: string, payloads: Iterable<string>, maxRecordBytes: number): { fd: number; sizeBytes: number; records: number } {
  const temporary = `${file}.compacting`;
  const fd = fs.openSync(temporary, 'w+');
  let sizeBytes = 0;
  let records = 0;
  try {
    let pending: Buffer[] = [encodeRecord(headerPayload)];
    let pendingBytes = pending[0]!.length;
    const flush = (): void => {
      const buffer = Buffer.concat(pending, pendingBytes);
      writeFully(fs, fd, buffer, sizeBytes);
      sizeBytes += buffer.length;
      pending = [];
      pendingBytes = 0;
    };
    for (const payload of payloads) {
      if (payload.includes('\n') || Buffer.byteLength(payload, 'utf8') > maxRecordBytes) throw new Error('a record payload has a newline or is too long');
      const line = encodeRecord(payload);
      pending.push(line);
      pendingBytes += line.length;
      records += 1;
      if (pendingBytes >= rewriteChunkBytes) flush();
    }
    flush();
    fs.fsyncSync(fd);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.closeSync(fd);
    try {
      fs.unlinkSync(temporary);
    } catch {
      // Nothing to clean up, or it cannot be: the next compaction overwrites it.
    }
    throw new DurableWriteError(file, `compaction failed, old file kept: ${errorText(error)}`);
  }
  return { fd, sizeBytes, records };
}

/**
 * Group commit: every caller waits for one fsync that started after its call, and callers that
 * come in the same turn of the event loop share it. `defer` schedules the fsync (setImmediate by
 * default, so the requests already read are batched into it). Waiters are bounded by the
 * requests in flight.
 */
export function groupCommit(syncNow: () => void, defer: (run: () => void) => void = setImmediate): () => Promise<void> {
  let waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  const run = (): void => {
    const batch = waiting;
    waiting = [];
    try {
      syncNow();
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    for (const waiter of batch) waiter.resolve();
  };
  return () =>
    new Promise<void>((resolve, reject) => {
      if (waiting.length === 0) defer(run);
      waiting.push({ resolve, reject });
    });
}
