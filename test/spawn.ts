// Spawns a built node binary and talks JSON lines to it over real pipes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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
