// The package as a user gets it: `npm pack` (its prepack builds bin/ and dist/ with declarations),
// installed offline into a new project, then `npx glomers test` on a node written in that project
// against the package's import (real processes and --sim), on a Python node, and the import from
// TypeScript type-checked against the shipped declarations.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/spawn.js';

/** Packed size the package must stay under. */
const MAX_PACKED_BYTES = 2 * 1024 * 1024;
/** Every bound here is generous: the machine may be fully loaded. */
const STEP_TIMEOUT_MS = 180_000;

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = python.status === 0;
if (!hasPython) console.warn('test/package.test.ts: the Python node is skipped, python3 is not on PATH');

const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-package-test-'));
const project = path.join(root, 'project');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** npm with its cache in the test's folder and no network. */
const npmEnv = { ...process.env, npm_config_cache: path.join(root, 'npm-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false' };

function inProject(command: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: project, env: npmEnv, encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
}

const ECHO_NODE = `#!/usr/bin/env node
import { createNode } from 'glomers';
const node = createNode();
node.handle('echo', {}, (message) => ({ ...message.body, type: 'echo_ok' }));
await node.run();
`;

const PYTHON_ECHO = `#!/usr/bin/env python3
import json, sys
node_id, next_id = None, 0
for line in sys.stdin:
    msg = json.loads(line)
    body = msg['body']
    reply = None
    if body['type'] == 'init':
        node_id = body['node_id']
        reply = {'type': 'init_ok'}
    elif body['type'] == 'echo':
        reply = dict(body, type='echo_ok')
    if reply is not None:
        next_id += 1
        reply['msg_id'] = next_id
        reply['in_reply_to'] = body['msg_id']
        print(json.dumps({'src': node_id, 'dest': msg['src'], 'body': reply}), flush=True)
`;

const TYPED_USE = `import { createKV, createNode, RPCError, type Node } from 'glomers';
import { startTestNode } from 'glomers/testing';
const node: Node = createNode();
const kv = createKV(node, 'seq-kv');
node.handle('add', { delta: 'integer' }, async (message) => {
  const delta: number = message.body.delta;
  await kv.write('x', delta);
  return { type: 'add_ok' };
});
const failure: RPCError = new RPCError(20, 'no such key');
void failure;
void startTestNode;
`;

interface Packed {
  filename: string;
  size: number;
  files: Array<{ path: string }>;
}

let packed: Packed;

function validity(store: string): unknown {
  return (JSON.parse(readFileSync(path.join(store, 'echo', 'latest', 'results.json'), 'utf8')) as { 'valid?': unknown })['valid?'];
}

describe('the npm package', () => {
  beforeAll(() => {
    mkdirSync(project, { recursive: true });
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', root], { cwd: repoRoot, env: npmEnv, encoding: 'utf8', timeout: STEP_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    // prepack's build prints a line before npm's JSON
    packed = (JSON.parse(out.slice(out.indexOf('['))) as Packed[])[0] as Packed;
    writeFileSync(path.join(project, 'package.json'), '{ "name": "user-project", "version": "1.0.0", "private": true, "type": "module" }\n');
    const installed = inProject('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(root, packed.filename)]);
    if (installed.status !== 0) throw new Error(`npm install of the tarball failed: ${installed.stderr}`);
    writeFileSync(path.join(project, 'echo-node.mjs'), ECHO_NODE);
    chmodSync(path.join(project, 'echo-node.mjs'), 0o755);
  }, 2 * STEP_TIMEOUT_MS);

  it('ships the bundles, declarations, README and LICENSE; no sources, tests or reference runs; under 2 MB', () => {
    const files = packed.files.map((f) => f.path);
    for (const needed of ['bin/glomers', 'bin/broadcast', 'bin/package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/testing.js', 'dist/testing.d.ts', 'README.md', 'LICENSE', 'package.json']) {
      expect(files).toContain(needed);
    }
    expect(files.filter((file) => /^(src|test|store|bench|node_modules)\//.test(file) || file.endsWith('.test.ts'))).toEqual([]);
    expect(packed.size).toBeLessThan(MAX_PACKED_BYTES);
    const manifest = JSON.parse(readFileSync(path.join(project, 'node_modules', 'glomers', 'package.json'), 'utf8')) as { dependencies?: object; bin: { [name: string]: string } };
    expect(manifest.dependencies).toBeUndefined();
    // every node program build.mjs makes (src/<name>/main.ts) is shipped, as glomers-<name>
    const programs = readdirSync(path.join(repoRoot, 'src')).filter((dir) => dir !== 'harness' && existsSync(path.join(repoRoot, 'src', dir, 'main.ts')));
    for (const name of programs) {
      expect(files).toContain(`bin/${name}`);
      expect(manifest.bin[`glomers-${name}`]).toBe(`bin/${name}`);
    }
  });

  it('npx glomers: help with no arguments, --version, and our node programs as bins', () => {
    const help = inProject('npx', ['glomers']);
    expect([help.status, help.stdout]).toEqual([0, expect.stringContaining('Usage: glomers <command>')]);
    expect(inProject('npx', ['glomers', '--version']).stdout.trim()).toMatch(/^glomers \d+\.\d+\.\d+/);
    expect(existsSync(path.join(project, 'node_modules', '.bin', 'glomers-broadcast'))).toBe(true);
  }, STEP_TIMEOUT_MS);

  it("tests a node written in the project against the package's import, in processes and with --sim", () => {
    const store = path.join(project, 'store');
    const real = inProject('npx', ['glomers', 'test', '-w', 'echo', '--bin', './echo-node.mjs', '--node-count', '1', '--time-limit', '2', '--store', store]);
    expect(real.status, real.stdout + real.stderr).toBe(0);
    expect(validity(store)).toBe(true);
    const sim = inProject('npx', ['glomers', 'test', '--sim', '-w', 'echo', '--bin', './echo-node.mjs', '--node-count', '1', '--time-limit', '2', '--store', store]);
    expect(sim.status, sim.stdout + sim.stderr).toBe(0);
    expect(validity(store)).toBe(true);
  }, 2 * STEP_TIMEOUT_MS);

  it('type-checks a TypeScript use of glomers and glomers/testing against the shipped declarations', () => {
    writeFileSync(path.join(project, 'use.ts'), TYPED_USE);
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const typeRoots = path.join(repoRoot, 'node_modules', '@types');
    const checked = inProject(process.execPath, [tsc, '--ignoreConfig', '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--typeRoots', typeRoots, '--types', 'node', 'use.ts']);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
  }, STEP_TIMEOUT_MS);

  it.skipIf(!hasPython)('tests a Python node, and refuses it under --sim in one line', () => {
    const node = path.join(project, 'echo.py');
    writeFileSync(node, PYTHON_ECHO);
    chmodSync(node, 0o755);
    const store = path.join(project, 'store-py');
    const ran = inProject('npx', ['glomers', 'test', '-w', 'echo', '--bin', './echo.py', '--node-count', '1', '--time-limit', '2', '--store', store]);
    expect(ran.status, ran.stdout + ran.stderr).toBe(0);
    expect(validity(store)).toBe(true);
    const sim = inProject('npx', ['glomers', 'test', '--sim', '-w', 'echo', '--bin', './echo.py', '--node-count', '1', '--store', store]);
    expect(sim.status).toBe(254);
    expect(sim.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^glomers: --sim runs nodes built on the glomers runtime .* is a script for .*python3: run it without --sim$/)]);
  }, 2 * STEP_TIMEOUT_MS);
});
