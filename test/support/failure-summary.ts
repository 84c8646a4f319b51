// A reporter that ends the run with one short paragraph per failed test: its file, its full name
// and the first lines of its error. The default reporter prints each failure in full further up,
// where a log cut to its tail (as CI logs often are) loses it.
import type { Reporter, TestModule } from 'vitest/node';

/** lines of each error kept: enough for the assertion and its message, short enough to scan */
const ERROR_LINES = 12;
/** characters of each kept line */
const LINE_CHARS = 300;

const plain = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '');

function firstLines(text: string): string {
  return plain(text)
    .split('\n')
    .slice(0, ERROR_LINES)
    .map((line) => `    ${line.slice(0, LINE_CHARS)}`)
    .join('\n');
}

export default class FailureSummary implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const failures: string[] = [];
    for (const module of testModules) {
      const file = module.relativeModuleId;
      // errors outside any test: the file did not load, or a hook failed
      for (const error of module.errors()) failures.push(`  ${file}\n${firstLines(error.message)}`);
      for (const test of module.children.allTests('failed')) {
        const error = test.result().errors?.[0];
        const text = error === undefined ? '(no error recorded)' : [error.message, error.diff ?? ''].join('\n');
        failures.push(`  ${file} > ${test.fullName}\n${firstLines(text)}`);
      }
    }
    if (failures.length === 0) return;
    process.stdout.write(`\nFailed (${failures.length}), in short:\n${failures.join('\n')}\n`);
  }
}
