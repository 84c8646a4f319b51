import { mkdtemp, readlink, rm, stat, symlink, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStoreDir, formatStoreTimestamp } from './store.js';
import { testOptions } from '../../../test/support/report-fixtures.js';

describe('formatStoreTimestamp', () => {
  const originalTz = process.env['TZ'];
  afterEach(() => {
    if (originalTz === undefined) delete process.env['TZ'];
    else process.env['TZ'] = originalTz;
  });

  it('writes Z for UTC, as Jepsen does', () => {
    process.env['TZ'] = 'UTC';
    expect(formatStoreTimestamp(new Date(Date.UTC(2026, 2, 16, 6, 51, 45, 52)))).toBe('20260316T065145.052Z');
  });

  it('writes a signed hours-minutes offset elsewhere', () => {
    process.env['TZ'] = 'Asia/Kolkata';
    expect(formatStoreTimestamp(new Date(Date.UTC(2024, 0, 6, 9, 37, 51, 664)))).toBe('20240106T150751.664+0530');
    process.env['TZ'] = 'America/Los_Angeles';
    expect(formatStoreTimestamp(new Date(Date.UTC(2023, 2, 2, 21, 49, 15, 7)))).toBe('20230302T134915.007-0800');
  });
});

describe('createStoreDir', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'glomers-store-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates the run folder with node-logs and relative links to it', async () => {
    const opts = testOptions({ storeDir: root, workload: 'echo' });
    const startedAt = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 10));
    const runDir = await createStoreDir(opts, startedAt);

    expect(runDir).toBe(path.join(root, 'echo', formatStoreTimestamp(startedAt)));
    expect((await stat(path.join(runDir, 'node-logs'))).isDirectory()).toBe(true);
    const stamp = formatStoreTimestamp(startedAt);
    expect(await readlink(path.join(root, 'latest'))).toBe(path.join('echo', stamp));
    expect(await readlink(path.join(root, 'current'))).toBe(path.join('echo', stamp));
    expect(await readlink(path.join(root, 'echo', 'latest'))).toBe(stamp);
    expect(await realpath(path.join(root, 'latest'))).toBe(await realpath(runDir));
  });

  it('moves existing links to the newest run', async () => {
    const first = await createStoreDir(testOptions({ storeDir: root, workload: 'echo' }), new Date(Date.UTC(2024, 0, 1)));
    const second = await createStoreDir(testOptions({ storeDir: root, workload: 'broadcast' }), new Date(Date.UTC(2024, 0, 2)));
    expect(await realpath(path.join(root, 'latest'))).toBe(await realpath(second));
    expect(await realpath(path.join(root, 'current'))).toBe(await realpath(second));
    // each workload keeps its own latest
    expect(await realpath(path.join(root, 'echo', 'latest'))).toBe(await realpath(first));
    expect(await realpath(path.join(root, 'broadcast', 'latest'))).toBe(await realpath(second));
  });

  it('replaces a dangling link left by a deleted run', async () => {
    await symlink('gone/nowhere', path.join(root, 'latest'));
    const runDir = await createStoreDir(testOptions({ storeDir: root, workload: 'echo' }), new Date(Date.UTC(2024, 0, 3)));
    expect(await realpath(path.join(root, 'latest'))).toBe(await realpath(runDir));
  });
});
