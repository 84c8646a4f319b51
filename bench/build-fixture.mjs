// A node of test/fixtures/workload bundled into an executable for a bench, the way build.mjs bundles
// ours: one ESM file with a shebang beside a package.json that makes Node read it as ESM. (Tests
// use test/support/build-node.ts; a bench run by plain `node` cannot import TypeScript.)
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from './broadcast-runs.mjs';

/** Bundles test/fixtures/workload/<name>.ts to <dir>/<name>; returns that path. */
export async function buildFixture(name, dir) {
  const out = path.join(dir, name);
  await build({ entryPoints: [path.join(repoRoot, 'test/fixtures/workload', `${name}.ts`)], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', banner: { js: '#!/usr/bin/env node' }, logLevel: 'warning' });
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  chmodSync(out, 0o755);
  return out;
}
