// The counter's local file in disk mode: one checksummed record, replaced atomically (write a
// temporary file to its last byte, flush it, then rename), so a kill mid-write leaves either the
// old or the new count. Loading tells three cases apart (docs/counters.md): no file (a fresh start),
// a good record, and anything else, which is refused loudly and left in place: an unreadable
// durable count is never taken for zero.

import { closeSync, fdatasyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Versioned } from './counter.js';

/** Longest file the loader reads: a record is well under 100 bytes, anything bigger is damage. */
const maxFileBytes = 4096;

/**
 * One file per node and per test run: Maelstrom runs every node in the same shared directory
 * (the system temp dir), which outlives runs, so the run token keeps an old run's file out.
 */
export function localFilePath(dir: string, runToken: string, node: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, '_');
  return path.join(dir, `glomers-counter-${safe(runToken)}-${safe(node)}.json`);
}

function checksum(local: Versioned): number {
  return crc32(`${local.count} ${local.version}`);
}

export function encodeRecord(local: Versioned): string {
  return `${JSON.stringify({ count: local.count, version: local.version, crc32: checksum(local) })}\n`;
}

/** The record in `text`, or a description of what is wrong with it. */
export function decodeRecord(text: string): Versioned | string {
  if (!text.endsWith('\n')) return 'no end of line (torn write)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const record = parsed as { count?: unknown; version?: unknown; crc32?: unknown } | null;
  if (record === null || typeof record !== 'object') return 'not a record';
  const { count, version, crc32: sum } = record;
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(version)) return 'count or version is not a safe integer';
  const local = { count: count as number, version: version as number };
  if (sum !== checksum(local)) return 'checksum mismatch';
  return local;
}

/** The count in `file`; undefined only when there is no file. Throws, naming the file, on anything else. */
export function loadLocal(file: string): Versioned | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`counter file ${file} cannot be read (${(error as Error).message}); it is kept as it is`);
  }
  const decoded = bytes.length > maxFileBytes ? `${bytes.length} bytes, larger than any record` : decodeRecord(bytes.toString('utf8'));
  if (typeof decoded === 'string') throw new Error(`counter file ${file} is damaged: ${decoded}; it is kept as it is`);
  return decoded;
}

/** Writes every byte of `data` to `fd` (writeSync may write fewer than asked). */
function writeFully(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) {
    const written = writeSync(fd, data, offset, data.length - offset);
    if (written <= 0) throw new Error(`write returned ${written}`);
    offset += written;
  }
}

/** Replaces the file's record; throws (and leaves the old record) if any step fails. */
export function saveLocal(file: string, local: Versioned): void {
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeFully(fd, Buffer.from(encodeRecord(local), 'utf8'));
    // Flushed before the rename, so the name never points at bytes still only in the page cache.
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
