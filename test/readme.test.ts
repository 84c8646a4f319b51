// The README's example node must be the real, type-checked file, not a copy that drifts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/spawn.js';

describe('README', () => {
  it('shows examples/g-set.ts verbatim', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const example = readFileSync(path.join(repoRoot, 'examples/g-set.ts'), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```');
  });

  it('shows the echo workload verbatim as the example of the workload contract', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const source = readFileSync(path.join(repoRoot, 'src/harness/workloads/echo.ts'), 'utf8');
    const start = source.indexOf('export const echoWorkload');
    const workload = source.slice(start, source.indexOf('\n};', start) + 3);
    expect(start).toBeGreaterThan(0);
    expect(readme).toContain('```ts\n' + workload + '```');
  });
});
