// Bundles every program under src/<name>/main.ts into one executable file bin/<name>, and every
// example node examples/<name>.ts into bin/<name> (bin/<name>-example if src/<name> exists). The harness (src/harness) is bin/glomers.
// The runtime (src/lib) is the package's import: dist/index.js and dist/testing.js (`glomers`,
// `glomers/testing`), one shared chunk so both see the same classes (RPCError, ...).
// `node build.mjs --package` (npm's prepack) also writes the runtime's type declarations into dist/
// and fails on any error; a plain build skips them (they cost a type-check).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const programNames = { harness: 'glomers' };
const srcDir = 'src';
const outDir = 'bin';
const libOutDir = 'dist';
const packageMode = process.argv.includes('--package');

const entries = [];
for (const dir of await readdir(srcDir)) {
  const entry = path.join(srcDir, dir, 'main.ts');
  try {
    await stat(entry);
  } catch {
    continue;
  }
  entries.push({ entry, out: path.join(outDir, programNames[dir] ?? dir) });
}

// A product node under src/ owns its name: an example of the same name becomes bin/<name>-example.
const taken = new Set(entries.map((e) => e.out));
for (const file of await readdir('examples')) {
  if (!file.endsWith('.ts')) continue;
  const out = path.join(outDir, file.slice(0, -3));
  entries.push({ entry: path.join('examples', file), out: taken.has(out) ? `${out}-example` : out });
}

const shared = { bundle: true, platform: 'node', target: 'node20', format: 'esm', minify: false, sourcemap: false, legalComments: 'none', logLevel: 'warning' };

await mkdir(outDir, { recursive: true });
// Each bundle is written beside its place and renamed into it: a program started while another
// build runs (tests run side by side) sees the old file or the new one, never half of one.
await Promise.all(
  entries.map(async ({ entry, out }) => {
    const partial = `${out}.${process.pid}.partial`;
    await build({ ...shared, entryPoints: [entry], outfile: partial, banner: { js: '#!/usr/bin/env node' } });
    await chmod(partial, 0o755);
    await rename(partial, out);
  }),
);
// Bundles are ESM without a .mjs extension: this marker makes Node load them as modules
// even when the project's own package.json is not above them. Renamed in like the bundles: a node
// started while it was rewritten in place read it empty and failed to load.
const marker = path.join(outDir, `package.json.${process.pid}.partial`);
await writeFile(marker, '{ "type": "module" }\n');
await rename(marker, path.join(outDir, 'package.json'));

// A package starts clean (no chunk of an earlier build); a development build only overwrites.
if (packageMode) await rm(libOutDir, { recursive: true, force: true });
await build({
  ...shared,
  entryPoints: { index: 'src/lib/index.ts', testing: 'src/lib/testing.ts' },
  outdir: libOutDir,
  splitting: true,
  chunkNames: 'chunk-[hash]',
});
if (packageMode) writeDeclarations();
console.log(`built ${entries.map((e) => e.out).join(' ')} ${libOutDir}/index.js ${libOutDir}/testing.js${packageMode ? ' and declarations' : ''}`);

/** dist/*.d.ts from src/lib's sources (TypeScript's own declaration emit). */
function writeDeclarations() {
  const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const args = [
    ...['--ignoreConfig', '--declaration', '--emitDeclarationOnly', '--outDir', libOutDir, '--rootDir', 'src/lib'],
    ...['--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node'],
    'src/lib/index.ts',
    'src/lib/testing.ts',
  ];
  const result = spawnSync(process.execPath, [tsc, ...args], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`declarations: tsc exited with ${result.status ?? result.signal}`);
}
