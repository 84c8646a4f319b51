// The harness's folders read as its pipeline: a module imports only from its own stage or an
// earlier one, and no import circle exists anywhere in src/. See docs/architecture.md.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve('src');
/** Harness stages in pipeline order; a folder may import its own stage and earlier ones. */
const STAGES = ['util', 'cli', 'net', 'nodes', 'run', 'check', 'report'] as const;
/** Shared types and contracts at the harness root, importable from every stage. */
const SHARED = new Set(['harness/types.ts', 'harness/clock.ts', 'harness/workload.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mjs)$/.test(name) && !name.endsWith('.test.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((spec) => path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
}

const files = sourceFiles(root);
const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => files.includes(target))]));
const rel = (file: string) => path.relative(root, file);

/** The runtime (src/lib) and the workload registry's entry are read by every stage. */
function isRegistryOrRuntime(target: string): boolean {
  return target.startsWith(`lib${path.sep}`) || target === path.join('harness', 'workloads', 'index.ts');
}

function stageOf(file: string): number | undefined {
  const parts = rel(file).split(path.sep);
  if (parts[0] !== 'harness' || parts.length < 3) return undefined;
  const index = STAGES.indexOf(parts[1] as (typeof STAGES)[number]);
  return index < 0 ? undefined : index;
}

function findCycle(): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of files) {
    const cycle = visit(file);
    if (cycle !== undefined) return cycle.map(rel);
  }
  return undefined;
}

describe('source layout', () => {
  it('has no import circle', () => {
    expect(findCycle()).toBeUndefined();
  });

  it('harness stages import only their own stage, earlier ones and the shared root', () => {
    const backwards: string[] = [];
    for (const [file, targets] of graph) {
      const from = stageOf(file);
      if (from === undefined) continue;
      for (const target of targets) {
        const to = stageOf(target);
        if (SHARED.has(rel(target)) || isRegistryOrRuntime(rel(target))) continue;
        if (to === undefined || to > from) backwards.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(backwards).toEqual([]);
  });

  it('the runtime knows nothing of the harness or of node programs', () => {
    const outside = [...graph].flatMap(([file, targets]) =>
      rel(file).startsWith(`lib${path.sep}`) ? targets.filter((t) => !rel(t).startsWith(`lib${path.sep}`)).map((t) => `${rel(file)} -> ${rel(t)}`) : [],
    );
    expect(outside).toEqual([]);
  });
});
