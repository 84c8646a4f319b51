// Bundles every program under src/<name>/main.ts into one executable file bin/<name>, and every
// example node examples/<name>.ts into bin/<name> (bin/<name>-example if src/<name> exists). The harness (src/harness) is bin/glomers.
import { build } from 'esbuild';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const programNames = { harness: 'glomers' };
const srcDir = 'src';
const outDir = 'bin';

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

await mkdir(outDir, { recursive: true });
await Promise.all(
  entries.map(async ({ entry, out }) => {
    await build({
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: false,
      sourcemap: false,
      legalComments: 'none',
      banner: { js: '#!/usr/bin/env node' },
      logLevel: 'warning',
    });
    await chmod(out, 0o755);
  }),
);
// Bundles are ESM without a .mjs extension: this marker makes Node load them as modules
// even when the project's own package.json is not above them.
await writeFile(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
console.log(`built ${entries.map((e) => e.out).join(' ')}`);
