#!/usr/bin/env node
// Throughput of the shared line splitter (src/lib/protocol.ts createLineSplitter), fed the way a
// pipe feeds it: 64 KB string chunks. Two shapes: many 1 KB lines, and a few 40 MB lines.
// Usage: node bench/splitter.mjs [shortMB=64] [longLines=2] [protocol.ts to measure, default src/lib/protocol.ts]
// (e.g. `git show <commit>:src/lib/protocol.ts > /tmp/old.ts` to compare with an older splitter)
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shortMB = Number(process.argv[2] ?? 64);
const longLines = Number(process.argv[3] ?? 2);
const sourceFile = path.resolve(process.argv[4] ?? path.join(root, 'src/lib/protocol.ts'));
const chunkChars = 64 * 1024;

// Bundle the TypeScript source in memory so the bench measures the code as it is in src/.
const bundled = await build({
  entryPoints: [sourceFile],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const source = bundled.outputFiles[0].text;
const { createLineSplitter } = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);

function chunksOf(text) {
  const chunks = [];
  for (let at = 0; at < text.length; at += chunkChars) chunks.push(text.slice(at, at + chunkChars));
  return chunks;
}

function measure(label, lineChars, lineCount) {
  const line = `{"x":"${'a'.repeat(lineChars - 8)}"}\n`;
  const text = line.repeat(lineCount);
  const chunks = chunksOf(text);
  let lines = 0;
  let chars = 0;
  const splitter = createLineSplitter(
    (l) => {
      lines++;
      chars += l.length;
    },
    () => {
      throw new Error('unexpected overflow');
    },
    64 * 1024 * 1024,
  );
  const started = performance.now();
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  const seconds = (performance.now() - started) / 1000;
  if (lines !== lineCount || chars !== lineCount * (line.length - 1)) throw new Error(`${label}: got ${lines} lines`);
  const mb = text.length / 1e6;
  console.log(`${label}: ${mb.toFixed(0)} MB in ${seconds.toFixed(3)} s = ${(mb / seconds).toFixed(0)} MB/s`);
}

measure('1 KB lines', 1024, Math.round((shortMB * 1e6) / 1024));
if (longLines > 0) measure('40 MB lines', 40 * 1024 * 1024, longLines);
