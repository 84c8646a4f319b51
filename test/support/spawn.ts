// Spawns a built node binary and talks JSON lines to it over real pipes.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function binPath(name: string): string {
  const file = path.join(repoRoot, 'bin', name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`make build\` first`);
  return file;
}

export interface Wire {
  src: string;
  dest: string;
  body: { type: string; [key: string]: unknown };
}

export interface SpawnedNode {
  child: ChildProcessWithoutNullStreams;
  send(message: Wire | string): void;
  next(timeoutMs?: number): Promise<Wire>;
  stderr(): string;
  close(): Promise<number | null>;
}

export function spawnNode(name: string, args: string[] = []): SpawnedNode {
  const child = spawn(binPath(name), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const queue: Wire[] = [];
  const waiters: Array<(message: Wire) => void> = [];
  let carry = '';
  let stderrText = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (carry + chunk).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.length > 0)) {
      const message = JSON.parse(line) as Wire;
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderrText += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    send(message) {
      child.stdin.write((typeof message === 'string' ? message : JSON.stringify(message)) + '\n');
    },
    next(timeoutMs = 5_000) {
      const ready = queue.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} wrote nothing within ${timeoutMs} ms; stderr: ${stderrText}`)), timeoutMs);
        waiters.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
    stderr: () => stderrText,
    close() {
      child.stdin.end();
      return exited;
    },
  };
}

export interface GlomersRun<R> {
  status: number | null;
  results: R;
  history: string;
  /** what the harness printed, for assertion messages */
  output: string;
}

/**
 * One `bin/glomers test` of a workload against bin/<node>, with results in `store`; the results
 * and history of that run (the workload's latest folder).
 */
export function runGlomersTest<R = Record<string, unknown>>(
  store: string,
  workload: string,
  node: string,
  args: string[],
  nodeArgs: string[] = [],
  timeoutMs = 90_000,
): GlomersRun<R> {
  const run = spawnSync(
    binPath('glomers'),
    ['test', '-w', workload, '--bin', binPath(node), '--store', store, ...args, '--', ...nodeArgs],
    { encoding: 'utf8', timeout: timeoutMs },
  );
  const latest = path.join(store, workload, 'latest');
  const output = `${run.stdout}${run.stderr}`;
  const results = JSON.parse(readFileSync(path.join(latest, 'results.json'), 'utf8')) as R;
  return { status: run.status, results, history: readFileSync(path.join(latest, 'history.jsonl'), 'utf8'), output };
}
