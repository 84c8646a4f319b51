#!/usr/bin/env node
// What the harness itself costs on the challenge lines: CPU seconds of the harness process alone
// (not its nodes), the whole command's wall time, and for the flooding node (bench/flood-node.mjs)
// how many messages it delivered. With MAELSTROM=path/to/maelstrom the real Maelstrom runs the same
// lines with the same node binaries, and both are printed side by side (docs/network.md).
//
// Usage: node bench/harness-cost.mjs [--runs N] [--time-limit S] [--only name,name]
// GLOMERS=path measures another build of bin/glomers (say, last week's) on the same lines.
//
// Our CPU: the harness runs under `node --import` of a small preload that writes
// process.cpuUsage() (every thread of the process, checker workers included) when it exits.
// Maelstrom's: the JVM is sampled from /proc every 100 ms, and its last sample is kept (so up to
// 100 ms of its CPU may be missed). Both leave out the nodes, which are separate processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const runs = Number(flag('--runs', '1'));
const timeLimit = flag('--time-limit', '20');
const only = flag('--only', '')?.split(',').filter(Boolean) ?? [];
const maelstrom = process.env.MAELSTROM;
/** ticks per second of /proc/<pid>/stat times; 100 on every Linux we run on */
const CLOCK_TICKS = 100;
/** a run taking longer than this is stopped: the line is reported as failed */
const RUN_TIMEOUT_MS = 10 * 60_000;

const bin = (name) => path.join(root, 'bin', name);
const lines = [
  { name: '3d broadcast', args: ['-w', 'broadcast', '--bin', bin('broadcast'), '--node-count', '25', '--rate', '100', '--latency', '100'] },
  { name: 'unique-ids', args: ['-w', 'unique-ids', '--bin', bin('idgen'), '--rate', '1000', '--node-count', '3'] },
  { name: 'kafka 5c', args: ['-w', 'kafka', '--bin', bin('kafka'), '--node-count', '2', '--concurrency', '2n', '--rate', '1000'] },
  { name: 'flood', args: ['-w', 'broadcast', '--bin', path.join(root, 'bench/flood-node.mjs'), '--node-count', '5', '--rate', '10'], flood: true },
].filter((line) => only.length === 0 || only.some((name) => line.name.includes(name)));

const work = mkdtempSync(path.join(os.tmpdir(), 'harness-cost-'));
const preload = path.join(work, 'cpu-at-exit.mjs');
writeFileSync(
  preload,
  [
    "import { writeFileSync } from 'node:fs';",
    "import { isMainThread } from 'node:worker_threads';",
    'const out = process.env.HARNESS_COST_CPU_FILE;',
    'if (isMainThread && out) process.on("exit", () => { const u = process.cpuUsage(); writeFileSync(out, JSON.stringify(u)); });',
  ].join('\n'),
);

/** Runs a command to its end; resolves with its wall time and exit status. */
function runCommand(command, commandArgs, env, onSpawn) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, commandArgs, { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const stop = onSpawn?.(child.pid) ?? (() => {});
    const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      stop();
      resolve({ wallS: (performance.now() - started) / 1000, status, stderr });
    });
  });
}

async function runOurs(line, store) {
  const cpuFile = path.join(work, 'cpu.json');
  rmSync(cpuFile, { force: true });
  const { wallS, status, stderr } = await runCommand(
    process.execPath,
    ['--import', preload, process.env.GLOMERS ?? bin('glomers'), 'test', ...line.args, '--time-limit', timeLimit, '--store', store],
    { HARNESS_COST_CPU_FILE: cpuFile },
  );
  let cpuS = NaN;
  try {
    const usage = JSON.parse(readFileSync(cpuFile, 'utf8'));
    cpuS = (usage.user + usage.system) / 1e6;
  } catch {
    process.stderr.write(`harness-cost: no CPU figure for ${line.name} (status ${status}): ${stderr.slice(-500)}\n`);
  }
  return { wallS, cpuS, recv: recvCount(store, 'results.json') };
}

/** utime + stime (s) of the pid's descendants called java, from /proc. */
function javaCpuS(rootPid) {
  const children = new Map();
  const stats = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(fields[1]);
      stats.set(Number(entry), { comm, cpuS: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const visit = (pid) => {
    const stat = stats.get(pid);
    if (stat?.comm === 'java') total += stat.cpuS;
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(rootPid);
  return total;
}

async function runMaelstrom(line, store) {
  let lastCpuS = NaN;
  const { wallS } = await runCommand(path.resolve(maelstrom), ['test', ...line.args, '--time-limit', timeLimit], {}, (pid) => {
    const sampler = setInterval(() => {
      const cpuS = javaCpuS(pid);
      if (cpuS > 0) lastCpuS = cpuS;
    }, 100);
    return () => clearInterval(sampler);
  });
  // Maelstrom writes store/ in its working directory.
  return { wallS, cpuS: lastCpuS, recv: recvCount(path.join(work, 'store'), 'results.edn') };
}

function recvCount(store, file) {
  try {
    const text = readFileSync(path.join(store, 'latest', file), 'utf8');
    if (file.endsWith('.json')) return JSON.parse(text).net.all['recv-count'];
    const all = text.slice(text.indexOf(':net'));
    return Number(/:recv-count (\d+)/.exec(all)?.[1]);
  } catch {
    // a test directory per workload below the store
  }
  let entries = [];
  try {
    entries = readdirSync(store, { withFileTypes: true });
  } catch {
    return NaN; // the run made no store: its stderr was printed above
  }
  for (const dir of entries) {
    if (!dir.isDirectory() || dir.name === 'latest') continue;
    const nested = recvCount(path.join(store, dir.name), file);
    if (Number.isFinite(nested)) return nested;
  }
  return NaN;
}

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
};

async function measure(line, runner, tag) {
  const samples = [];
  for (let k = 0; k < runs; k++) {
    const store = path.join(work, `${tag}-${k}`);
    samples.push(await runner(line, store));
    rmSync(store, { recursive: true, force: true });
    rmSync(path.join(work, 'store'), { recursive: true, force: true });
  }
  return {
    cpuS: median(samples.map((s) => s.cpuS)),
    wallS: median(samples.map((s) => s.wallS)),
    recv: median(samples.map((s) => s.recv)),
    cpuAll: samples.map((s) => s.cpuS.toFixed(1)).join('/'),
    recvAll: samples.map((s) => String(s.recv)).join('/'),
  };
}

const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
console.log(`time limit ${timeLimit} s, ${runs} run(s) per line (median; every run's CPU in brackets), ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
if (maelstrom === undefined) console.log('MAELSTROM not set: ours only');
try {
  for (const line of lines) {
    const ours = await measure(line, runOurs, 'ours');
    let row = `${line.name.padEnd(13)} glomers: CPU ${fmt(ours.cpuS)} s [${ours.cpuAll}], wall ${fmt(ours.wallS)} s`;
    if (line.flood) row += `, delivered ${ours.recv} [${ours.recvAll}] (${fmt(ours.recv / ours.wallS, 0)}/s of wall time)`;
    if (maelstrom !== undefined) {
      const theirs = await measure(line, runMaelstrom, 'maelstrom');
      row += `\n${''.padEnd(13)} maelstrom: CPU ${fmt(theirs.cpuS)} s [${theirs.cpuAll}], wall ${fmt(theirs.wallS)} s`;
      if (line.flood) row += `, delivered ${theirs.recv} (${fmt(theirs.recv / theirs.wallS, 0)}/s of wall time)`;
      row += `\n${''.padEnd(13)} ours/theirs CPU ${fmt(ours.cpuS / theirs.cpuS, 2)}`;
      if (line.flood) row += `, delivered ${fmt(ours.recv / theirs.recv, 2)}×`;
    }
    console.log(row);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
