import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests spawn up to 25 node processes; running files in parallel on a
    // 2-core machine would make latency-sensitive assertions flaky.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the short list of failures comes last, where a log cut to its tail still shows it
    reporters: ['default', './test/support/failure-summary.ts'],
  },
});
