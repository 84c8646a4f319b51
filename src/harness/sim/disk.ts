// The simulation's disk (docs/simulation.md, "Storage faults"): the file operations of
// src/lib/durable.ts (a DurableFs) on the run's real folder, with what a real disk would have kept
// tracked per file. A file's bytes up to its size at its last fsync are on the disk; later
// writes are only in the page cache. So a power cut can drop what was not fsynced, a kill can tear
// the last write a node did not fsync, and a full disk can refuse writes (ENOSPC). Files belong
// to the node that opened them (its id, across restarts).
import * as nodeFs from 'node:fs';
import path from 'node:path';
import type { DurableFs } from '../../lib/durable.js';
import type { Rng } from '../types.js';

/** Writes below a file's synced size kept for undoing at a power cut (rare: durable.ts appends). */
const MAX_UNDO_ENTRIES_PER_FILE = 10_000;

interface FileState {
  owner: string;
  /** bytes on the disk: the file's size at its last fsync (or when it was first opened) */
  syncedBytes: number;
  /** what writes and truncations below syncedBytes replaced, oldest first */
  undo: Array<{ positionBytes: number; bytes: Buffer }>;
  /** the last write since the last fsync, if it ends the file */
  lastWrite: { positionBytes: number; lengthBytes: number } | null;
}

export interface SimDisk {
  /** The DurableFs the run installs for its nodes (src/lib/host.ts, INSTALLED_FS_KEY). */
  readonly fs: DurableFs;
  /** A power cut of this node: each of its files loses what was written since its last fsync. */
  powerCut(nodeId: string): number;
  /** A kill mid-write: each of its files whose last write is not fsynced keeps a random prefix of it. */
  tearLastWrites(nodeId: string): number;
  /** While full, writes to this node's files fail with ENOSPC. */
  setFull(nodeId: string, full: boolean): void;
}

/** As Node words a write(2) that fails for space (no path: the run's folder differs between replays). */
function enospc(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('ENOSPC: no space left on device, write');
  error.code = 'ENOSPC';
  error.errno = -28;
  error.syscall = 'write';
  return error;
}

/** Bytes [from, to) of an open file, as they are now. */
function readRange(fd: number, fromBytes: number, toBytes: number): Buffer {
  const bytes = Buffer.alloc(Math.max(0, toBytes - fromBytes));
  let done = 0;
  while (done < bytes.length) {
    const read = nodeFs.readSync(fd, bytes, done, bytes.length - done, fromBytes + done);
    if (read === 0) break;
    done += read;
  }
  return bytes.subarray(0, done);
}

/**
 * owner(): the id of the node whose code runs now (the file's owner when it opens one); rng
 * chooses where a torn write is cut.
 */
export function createSimDisk(owner: () => string, rng: Rng): SimDisk {
  const files = new Map<string, FileState>();
  const openFiles = new Map<number, string>();
  const full = new Set<string>();
  const stateOf = (fd: number): FileState | undefined => files.get(openFiles.get(fd) ?? '');

  const remember = (state: FileState, fd: number, fromBytes: number, toBytes: number): void => {
    const end = Math.min(toBytes, state.syncedBytes);
    if (fromBytes >= end) return;
    if (state.undo.length >= MAX_UNDO_ENTRIES_PER_FILE) throw new Error(`the simulated disk keeps at most ${MAX_UNDO_ENTRIES_PER_FILE} overwrites of synced bytes per file between fsyncs`);
    state.undo.push({ positionBytes: fromBytes, bytes: readRange(fd, fromBytes, end) });
  };

  const fs: DurableFs = {
    openSync(file, flags) {
      const absolute = path.resolve(file);
      const existed = nodeFs.existsSync(absolute);
      const fd = nodeFs.openSync(file, flags);
      openFiles.set(fd, absolute);
      if (!files.has(absolute) && !nodeFs.fstatSync(fd).isDirectory()) {
        files.set(absolute, { owner: owner(), syncedBytes: existed ? nodeFs.fstatSync(fd).size : 0, undo: [], lastWrite: null });
      }
      return fd;
    },
    readSync: (fd, buffer, offset, length, position) => nodeFs.readSync(fd, buffer, offset, length, position),
    writeSync(fd, buffer, offset, length, position) {
      const state = stateOf(fd);
      if (state === undefined) return nodeFs.writeSync(fd, buffer, offset, length, position);
      if (full.has(state.owner)) throw enospc();
      remember(state, fd, position, position + length);
      const wrote = nodeFs.writeSync(fd, buffer, offset, length, position);
      state.lastWrite = position + wrote >= nodeFs.fstatSync(fd).size ? { positionBytes: position, lengthBytes: wrote } : null;
      return wrote;
    },
    fsyncSync(fd) {
      const state = stateOf(fd);
      // No real fsync: the simulated disk decides what survives, and a real one costs milliseconds.
      if (state === undefined) return;
      state.syncedBytes = nodeFs.fstatSync(fd).size;
      state.undo = [];
      state.lastWrite = null;
    },
    ftruncateSync(fd, lengthBytes) {
      const state = stateOf(fd);
      if (state !== undefined) {
        remember(state, fd, lengthBytes, state.syncedBytes);
        state.lastWrite = null;
      }
      nodeFs.ftruncateSync(fd, lengthBytes);
    },
    closeSync(fd) {
      openFiles.delete(fd);
      nodeFs.closeSync(fd);
    },
    // A rename counts as done at once (durable.ts fsyncs the directory right after it anyway).
    renameSync(from, to) {
      nodeFs.renameSync(from, to);
      const state = files.get(path.resolve(from));
      files.delete(path.resolve(from));
      if (state !== undefined) files.set(path.resolve(to), state);
    },
    unlinkSync(file) {
      nodeFs.unlinkSync(file);
      files.delete(path.resolve(file));
    },
  };

  return {
    fs,
    powerCut: (nodeId) => eachFileOf(files, nodeId, dropUnsynced),
    tearLastWrites: (nodeId) => eachFileOf(files, nodeId, (fd, state) => tearLastWrite(fd, state, rng)),
    setFull(nodeId, isFull) {
      if (isFull) full.add(nodeId);
      else full.delete(nodeId);
    },
  };
}

/** Applies change to each file of the node that still exists; counts the files it changed. */
function eachFileOf(files: Map<string, FileState>, nodeId: string, change: (fd: number, state: FileState) => boolean): number {
  let changed = 0;
  for (const [file, state] of files) {
    if (state.owner !== nodeId || !nodeFs.existsSync(file)) continue;
    const fd = nodeFs.openSync(file, 'r+');
    try {
      if (change(fd, state)) changed++;
    } finally {
      nodeFs.closeSync(fd);
    }
  }
  return changed;
}

/** A power cut: the file as the disk holds it, its synced bytes (overwritten ones put back). */
function dropUnsynced(fd: number, state: FileState): boolean {
  const dirty = state.undo.length > 0 || nodeFs.fstatSync(fd).size !== state.syncedBytes;
  for (const { positionBytes, bytes } of state.undo.reverse()) nodeFs.writeSync(fd, bytes, 0, bytes.length, positionBytes);
  nodeFs.ftruncateSync(fd, state.syncedBytes);
  state.undo = [];
  state.lastWrite = null;
  return dirty;
}

/** A kill mid-append: the last unsynced write, if it still ends the file, cut to a random prefix. */
function tearLastWrite(fd: number, state: FileState, rng: Rng): boolean {
  const last = state.lastWrite;
  if (last === null || last.lengthBytes === 0 || last.positionBytes + last.lengthBytes !== nodeFs.fstatSync(fd).size) return false;
  nodeFs.ftruncateSync(fd, last.positionBytes + rng.int(last.lengthBytes));
  state.lastWrite = null;
  return true;
}
