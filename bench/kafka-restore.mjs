// How long bin/kafka takes to restore a record file of a given size at init, and its peak memory.
//
//   node build.mjs && node bench/kafka-restore.mjs [MB=300] [runs=1] [bin=bin/kafka] [--old-format]
//
// Writes <tmp>/kafka-n0.<session>.log with MB of send records (key "k<i mod 1000>", integer
// messages) in the record format of docs/storage.md, named for this process's session so the node
// (our child) takes it for its own, then times init -> init_ok and reads the node's peak RSS
// (VmHWM) from /proc. --old-format writes the JSON-lines file of kafka before lib/durable, to
// compare with a binary built from that commit.

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { crc32 } from 'node:zlib';

const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const oldFormat = process.argv.includes('--old-format');
const sizeMb = Number(args[0] ?? 300);
const runs = Number(args[1] ?? 1);
const bin = path.resolve(args[2] ?? 'bin/kafka');
const keyCount = 1000;

function processStartTime(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

function recordLine(payload) {
  const body = Buffer.from(payload);
  return `${(crc32(body) >>> 0).toString(16).padStart(8, '0')} ${payload}\n`;
}

function writeFile(file, session) {
  const fd = openSync(file, 'w');
  const header = oldFormat ? `${JSON.stringify({ kafka: 1, session })}\n` : recordLine(JSON.stringify({ format: 'glomers-records', version: 1 }));
  writeSync(fd, header);
  const targetBytes = sizeMb * 1024 * 1024;
  const next = new Map();
  let written = 0;
  let records = 0;
  while (written < targetBytes) {
    const lines = [];
    for (let i = 0; i < 10_000; i += 1, records += 1) {
      const key = `k${records % keyCount}`;
      const offset = next.get(key) ?? 0;
      next.set(key, offset + 1);
      const payload = JSON.stringify(['e', key, offset, records]);
      lines.push(oldFormat ? `${payload}\n` : recordLine(payload));
    }
    const chunk = lines.join('');
    writeSync(fd, chunk);
    written += Buffer.byteLength(chunk);
  }
  closeSync(fd);
  return records;
}

function vmHwmKb(pid) {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? NaN : Number(match[1]);
}

function restoreOnce(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr = [];
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    const startedMs = performance.now();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('no init_ok within 600 s'));
    }, 600_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const body = JSON.parse(line).body;
      const elapsedMs = performance.now() - startedMs;
      const peakKb = vmHwmKb(child.pid);
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (body.type !== 'init_ok') reject(new Error(`init answered ${line.slice(0, 300)}`));
      else resolve({ elapsedMs, peakKb, log: Buffer.concat(stderr).toString().trim() });
    });
    child.stdin.write(`${JSON.stringify({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 1, node_id: 'n0', node_ids: ['n0'] } })}\n`);
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'kafka-restore-'));
try {
  const session = `${process.pid}-${processStartTime(process.pid)}`;
  const file = path.join(dir, `kafka-n0.${session}.${oldFormat ? 'jsonl' : 'log'}`);
  const records = writeFile(file, session);
  console.log(`${bin}: file ${(statSync(file).size / 1024 / 1024).toFixed(0)} MB, ${records} records, ${keyCount} keys`);
  for (let run = 1; run <= runs; run += 1) {
    const { elapsedMs, peakKb, log } = await restoreOnce(dir);
    console.log(`run ${run}: init_ok after ${(elapsedMs / 1000).toFixed(2)} s, peak RSS ${(peakKb / 1024).toFixed(0)} MB${log ? ` (${log.split('\n').at(-1)})` : ''}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
