// The storage-fault nemesis under --sim (docs/simulation.md): the simulated disk on its own (power
// cut, torn last write, full disk under src/lib/durable.ts), then end to end: kafka's --storage
// file is caught losing acknowledged sends to power cuts and --storage fsync is not; raft and
// counter --durability disk pass power cuts, full disks and torn writes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRecordFile } from '../src/lib/durable.js';
import { createSimDisk } from '../src/harness/sim/disk.js';
import { createRng } from '../src/harness/util/rng.js';
import { repoRoot } from './support/spawn.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-sim-storage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A generous bound: the machine may be shared with much other work. */
const SPAWN_TIMEOUT_MS = 180_000;

describe('the simulated disk', () => {
  const payloads = (from: number, count: number): string[] => Array.from({ length: count }, (_, k) => `record ${from + k}`);
  const reopen = (file: string, fs: ReturnType<typeof createSimDisk>['fs']): { records: string[]; droppedTailBytes: number } => {
    const records: string[] = [];
    const reopened = openRecordFile(file, { fs, onRecord: (payload) => records.push(payload) });
    const { droppedTailBytes } = reopened;
    reopened.close();
    return { records, droppedTailBytes };
  };

  it('a power cut keeps what was fsynced and drops what was only written; another node keeps its files', () => {
    const disk = createSimDisk(() => 'n1', createRng(1));
    const file = path.join(root, 'power.log');
    const records = openRecordFile(file, { fs: disk.fs });
    records.append(payloads(0, 5));
    records.sync();
    records.append(payloads(5, 5));
    records.close();
    expect(disk.powerCut('n2')).toBe(0);
    expect(disk.powerCut('n1')).toBe(1);
    expect(reopen(file, disk.fs).records).toEqual(payloads(0, 5));
  });

  it('a kill tears the last unsynced write to a prefix, which durable.ts drops as a torn tail; a synced one stays', () => {
    const disk = createSimDisk(() => 'n1', createRng(2));
    const file = path.join(root, 'torn.log');
    const records = openRecordFile(file, { fs: disk.fs });
    records.append(payloads(0, 3));
    records.sync();
    expect(disk.tearLastWrites('n1')).toBe(0);
    records.append(['a record long enough that a random cut lands inside it']);
    const sizeBytes = statSync(file).size;
    records.close();
    expect(disk.tearLastWrites('n1')).toBe(1);
    expect(statSync(file).size).toBeLessThan(sizeBytes);
    const reopened = reopen(file, disk.fs);
    expect(reopened.records).toEqual(payloads(0, 3));
  });

  it('a full disk refuses writes with ENOSPC until it has room again', () => {
    const disk = createSimDisk(() => 'n1', createRng(3));
    const file = path.join(root, 'full.log');
    const records = openRecordFile(file, { fs: disk.fs });
    disk.setFull('n1', true);
    expect(() => records.append(payloads(0, 1))).toThrow(/ENOSPC/);
    records.close();
    disk.setFull('n1', false);
    const again = openRecordFile(file, { fs: disk.fs });
    again.append(payloads(1, 1));
    again.close();
    expect(reopen(file, disk.fs).records).toEqual(payloads(1, 1));
  });
});

const glomers = path.join(repoRoot, 'bin', 'glomers');
const built = ['glomers', 'kafka', 'raft', 'counter'].every((name) => existsSync(path.join(repoRoot, 'bin', name)));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function glomersTest(args: string[]): Ran {
  const result = spawnSync(glomers, ['test', '--sim', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS, killSignal: 'SIGKILL' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!built)('--nemesis power and disk under --sim', () => {
  const kafka = (storage: string): string[] => ['--seeds', '3', '--seed', '1', '--store', path.join(root, `kafka-${storage}`), '-w', 'kafka', '--bin', 'bin/kafka', '--node-count', '2', '--concurrency', '2n', '--time-limit', '10', '--rate', '500', '--nemesis', 'power', '--nemesis-interval', '2', '--', '--storage', storage];

  it('kafka --storage file loses acknowledged sends to power cuts; --storage fsync does not (3 seeds each)', () => {
    const file = glomersTest(kafka('file'));
    expect(file.status, file.stdout + file.stderr).toBe(1);
    expect(file.stdout).toMatch(/^seed \d+: invalid/m);
    const fsync = glomersTest(kafka('fsync'));
    expect(fsync.status, fsync.stdout + fsync.stderr).toBe(0);
    expect(fsync.stdout).toMatch(/^valid\s+3$/m);
  }, SPAWN_TIMEOUT_MS * 2);

  it('the history says which kills were power cuts', () => {
    const store = path.join(root, 'power-history');
    const ran = glomersTest(['--seed', '1', '--store', store, '-w', 'kafka', '--bin', 'bin/kafka', '--node-count', '2', '--concurrency', '2n', '--time-limit', '5', '--rate', '100', '--nemesis', 'power', '--nemesis-interval', '1', '--', '--storage', 'fsync']);
    expect(ran.status, ran.stdout + ran.stderr).toBe(0);
    const kills = readFileSync(path.join(store, 'kafka', 'latest', 'history.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { f: string; power?: boolean }).filter((op) => op.f === 'kill');
    expect(kills.length).toBeGreaterThan(0);
    expect(kills.every((op) => op.power === true)).toBe(true);
  }, SPAWN_TIMEOUT_MS);

  for (const nemesis of ['power', 'disk', 'kill,disk']) {
    it(`raft (fsync) and counter --durability disk pass --nemesis ${nemesis}`, () => {
      const raft = glomersTest(['--seed', '3', '--store', path.join(root, `raft-${nemesis}`), '-w', 'lin-kv', '--bin', 'bin/raft', '--node-count', '3', '--concurrency', '4n', '--rate', '30', '--time-limit', '20', '--nemesis', nemesis, '--nemesis-interval', '3']);
      expect(raft.status, raft.stdout + raft.stderr).toBe(0);
      const counter = glomersTest(['--seed', '3', '--store', path.join(root, `counter-${nemesis}`), '-w', 'g-counter', '--bin', 'bin/counter', '--node-count', '3', '--rate', '100', '--time-limit', '20', '--nemesis', nemesis, '--nemesis-interval', '2', '--final-wait', '5', '--', '--durability', 'disk']);
      expect(counter.status, counter.stdout + counter.stderr).toBe(0);
      if (nemesis.includes('disk')) {
        // The full disk reached the counter: its nodes logged refused writes.
        const logs = path.join(root, `counter-${nemesis}`, 'g-counter', 'latest', 'node-logs');
        const text = ['n0', 'n1', 'n2'].map((node) => readFileSync(path.join(logs, `${node}.log`), 'utf8')).join('');
        expect(text).toContain('ENOSPC');
      }
    }, SPAWN_TIMEOUT_MS * 2);
  }
});
