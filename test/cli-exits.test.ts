// The built CLI where a newcomer meets it: help and version, a reader that goes away (`| head -2`),
// and a SIGTERM (`timeout 60 glomers test ...`): the run's results are written either way.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/spawn.js';

const glomers = path.join(repoRoot, 'bin', 'glomers');
const echoNode = path.join(repoRoot, 'bin', 'echo');
const built = existsSync(glomers) && existsSync(echoNode);
const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-cli-exits-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every bound here is generous: the machine may be fully loaded. */
const RUN_TIMEOUT_MS = 90_000;

const results = (store: string): { 'valid?': unknown; glomers: { 'stopped-early'?: string } } =>
  JSON.parse(readFileSync(path.join(store, 'echo', 'latest', 'results.json'), 'utf8')) as { 'valid?': unknown; glomers: { 'stopped-early'?: string } };

function runUntilExit(args: string[], act: (child: ReturnType<typeof spawn>, stderrSoFar: () => string) => void): Promise<number | null> {
  const child = spawn(glomers, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  act(child, () => stderr);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

describe.skipIf(!built)('glomers, the built CLI', () => {
  it('prints help with no arguments (exit 0), and its version', () => {
    const help = spawnSync(glomers, [], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    expect([help.status, help.stdout]).toEqual([0, expect.stringContaining('Usage: glomers <command>')]);
    const version = spawnSync(glomers, ['--version'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    expect(version.stdout).toMatch(/^glomers \d+\.\d+\.\d+\n$/);
  }, RUN_TIMEOUT_MS);

  it('a reader that closes the pipe early costs nothing: the run finishes and writes its results', async () => {
    const store = path.join(root, 'piped');
    const code = await runUntilExit(['test', '-w', 'echo', '--bin', echoNode, '--node-count', '1', '--time-limit', '2', '--store', store], (child) => {
      // as `| head -2`: the reader goes away after the first output
      child.stdout?.once('data', () => child.stdout?.destroy());
    });
    expect(code).toBe(0);
    expect(results(store)['valid?']).toBe(true);
  }, RUN_TIMEOUT_MS);

  it('SIGTERM stops a run as Ctrl-C does: results written, marked interrupted, exit 143', async () => {
    const store = path.join(root, 'terminated');
    const code = await runUntilExit(['test', '-w', 'echo', '--bin', echoNode, '--node-count', '1', '--time-limit', '60', '--store', store], (child, stderr) => {
      const started = Date.now();
      const poll = setInterval(() => {
        // once the run is under way (its start line printed), or at the latest after the bound
        if (stderr().includes('results in') || Date.now() - started > RUN_TIMEOUT_MS / 2) {
          clearInterval(poll);
          setTimeout(() => child.kill('SIGTERM'), 1000);
        }
      }, 50);
      child.on('close', () => clearInterval(poll));
    });
    expect(code).toBe(143);
    expect(results(store).glomers['stopped-early']).toBe('interrupted');
  }, RUN_TIMEOUT_MS);
});
