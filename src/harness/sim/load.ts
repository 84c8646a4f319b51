// Loading a node bundle for the simulation. A module instance per node start is what the design
// needs (each node its own module state), and `import(url + '?node=…')` gives one, but V8 then
// compiles the whole bundle again and every function starts cold: about 3.5 ms per broadcast node
// before it handles anything, and handlers that stay interpreted. So an esbuild ESM bundle is
// compiled once into an async function whose body is the bundle (its `import` lines become
// bindings passed in); each call is a fresh instance of every module-level variable, sharing
// compiled code and JIT feedback with the others (0.16 ms per start). A bundle this rewrite does
// not understand is imported per start instead.
import { readFile, stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** Runs the bundle's top level once more: a new instance. Settles when the top level finishes. */
export type NodeFactory = () => Promise<unknown>;

const factories = new Map<string, { mtimeMs: number; factory: NodeFactory | null }>();

// import X from "m"; import { a, b as c } from "m"; import * as X from "m"; import X, { a } from "m"; import "m";
const IMPORT_LINE = /^import\s+(?:([\s\S]*?)\s+from\s+)?"([^"\n]+)";?[ \t]*$/gm;
const EXPORT_LINE = /^export\s*\{[^}]*\};?[ \t]*$/gm;

interface Rewritten {
  body: string;
  modules: string[];
}

/** The bundle as a function body, or null when it holds a statement this does not rewrite. */
export function rewriteBundle(source: string, fileUrl: string): Rewritten | null {
  let body = source.replace(/^#!.*\n/, '');
  const modules: string[] = [];
  const bindings: string[] = [];
  let understood = true;
  body = body.replace(IMPORT_LINE, (_line, clause: string | undefined, specifier: string) => {
    let index = modules.indexOf(specifier);
    if (index === -1) index = modules.push(specifier) - 1;
    const ns = `__simImports[${index}]`;
    if (clause === undefined) return '';
    for (const part of splitClause(clause.trim())) {
      if (part.startsWith('* as ')) bindings.push(`const ${part.slice(5).trim()} = ${ns};`);
      else if (part.startsWith('{')) bindings.push(`const ${part.replace(/\s+as\s+/g, ': ')} = ${ns};`);
      else if (/^[\w$]+$/.test(part)) bindings.push(`const ${part} = ${ns}.default;`);
      else understood = false;
    }
    return '';
  });
  body = body.replace(EXPORT_LINE, '');
  // Only Node's own modules can be bound here; a bundle importing files is imported per start.
  if (modules.some((specifier) => specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:'))) return null;
  if (!understood || /^\s*(?:import\s|export\s)/m.test(body)) return null;
  body = body.replace(/\bimport\.meta\.url\b/g, JSON.stringify(fileUrl)).replace(/\bimport\.meta\b/g, `({ url: ${JSON.stringify(fileUrl)} })`);
  // Imports are hoisted in a module; the bindings go first so that no code meets them uninitialized.
  return { body: `"use strict";\n${bindings.join('\n')}\n${body}`, modules };
}

/** `X, { a, b }` → [`X`, `{ a, b }`]. */
function splitClause(clause: string): string[] {
  const brace = clause.indexOf('{');
  if (brace <= 0) return [clause];
  return [clause.slice(0, brace).replace(/,\s*$/, '').trim(), clause.slice(brace).trim()];
}

/** The compiled factory for a bundle (cached while the file is unchanged), or null: import it per start. */
export async function nodeFactory(binPath: string): Promise<NodeFactory | null> {
  const { mtimeMs } = await stat(binPath);
  const cached = factories.get(binPath);
  if (cached !== undefined && cached.mtimeMs === mtimeMs) return cached.factory;
  let factory: NodeFactory | null = null;
  try {
    const rewritten = rewriteBundle(await readFile(binPath, 'utf8'), pathToFileURL(binPath).href);
    if (rewritten !== null) {
      const imported = await Promise.all(rewritten.modules.map((specifier) => import(specifier) as Promise<unknown>));
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (imports: unknown[]) => Promise<unknown>;
      const compiled = new AsyncFunction('__simImports', rewritten.body);
      factory = () => compiled(imported);
    }
  } catch {
    factory = null;
  }
  factories.set(binPath, { mtimeMs, factory });
  return factory;
}
