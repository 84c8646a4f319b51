// A test's own node program (a fixture, a deliberately wrong node) bundled into an executable the
// way build.mjs bundles ours: one ESM file with a shebang, beside a package.json that makes Node
// read it as ESM, runnable by path as `--bin`.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

export async function buildTestNode(entry: string, outfile: string): Promise<void> {
  mkdirSync(path.dirname(outfile), { recursive: true });
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', banner: { js: '#!/usr/bin/env node' }, logLevel: 'warning' });
  writeFileSync(path.join(path.dirname(outfile), 'package.json'), '{ "type": "module" }\n');
  chmodSync(outfile, 0o755);
}
