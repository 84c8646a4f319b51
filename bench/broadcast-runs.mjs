// Shared by the bench scripts: runs bin/glomers on a workload and reduces its results.json to the
// figures the challenges are judged on.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The 3d/3e command line (they share it). */
export const challengeArgs = ['--node-count', '25', '--time-limit', '20', '--rate', '100', '--latency', '100'];

/** Delivery lateness (ms, p99) above which a run's latencies are not trusted. */
export const latenessLimitMs = 20;

/**
 * Runs one test. harnessArgs go to glomers, nodeArgs to the node (after `--`).
 * Resolves with the summary; never rejects for an invalid verdict (that is data).
 */
export function runBroadcast({ harnessArgs, nodeArgs = [], storeDir, timeoutMs = 180_000 }) {
  return runGlomers({ workload: 'broadcast', bin: 'broadcast', harnessArgs, nodeArgs, storeDir, timeoutMs });
}

/**
 * Runs one test of any workload with bin/<bin> (or `bin` itself when it is an absolute path, such
 * as another project's node); resolves with the summary and the whole results (undefined when the
 * run wrote none).
 */
export function runGlomers({ workload, bin, harnessArgs, nodeArgs = [], storeDir, timeoutMs = 300_000 }) {
  mkdirSync(storeDir, { recursive: true });
  const args = [
    'test', '-w', workload, '--bin', path.isAbsolute(bin) ? bin : path.join(repoRoot, 'bin', bin),
    '--store', storeDir, ...harnessArgs, '--', ...nodeArgs,
  ];
  return new Promise((resolve) => {
    const child = spawn(path.join(repoRoot, 'bin', 'glomers'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('exit', (status) => {
      clearTimeout(timer);
      try {
        const results = JSON.parse(readFileSync(path.join(storeDir, 'latest', 'results.json'), 'utf8'));
        resolve({ status, command: commandLine(args), results, ...summarize(results) });
      } catch (error) {
        resolve({ status, command: commandLine(args), error: `${error.message}; stderr: ${stderr.slice(-500)}` });
      }
    });
  });
}

function commandLine(args) {
  return ['bin/glomers', ...args.map((a) => (a.startsWith(repoRoot) ? path.relative(repoRoot, a) : a))]
    .filter((a, i, all) => !(a === '--store' || all[i - 1] === '--store'))
    .join(' ');
}

export function summarize(results) {
  const latencies = results.workload?.['stable-latencies'] ?? {};
  const lateness = results.glomers?.lateness ?? {};
  return {
    valid: results['valid?'],
    msgsPerOpServers: results.net?.servers?.['msgs-per-op'] ?? NaN,
    msgsPerOpAll: results.net?.all?.['msgs-per-op'] ?? NaN,
    p50: latencies['0.5'] ?? NaN,
    p95: latencies['0.95'] ?? NaN,
    p99: latencies['0.99'] ?? NaN,
    max: latencies['1'] ?? NaN,
    lostCount: results.workload?.['lost-count'] ?? NaN,
    availability: results.availability?.['ok-fraction'] ?? NaN,
    checkerMs: results.glomers?.['checker-ms']?.workload ?? NaN,
    latenessP99Ms: lateness['p99-ms'] ?? NaN,
    latenessMaxMs: lateness['max-ms'] ?? NaN,
    harnessBehind: lateness['behind?'] === true || (lateness['p99-ms'] ?? 0) > latenessLimitMs,
  };
}

/** Runs tasks with at most `jobs` at a time, in order of submission. */
export async function pool(tasks, jobs) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return results;
}
