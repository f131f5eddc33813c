import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { showLogs } from '../../../src/cli/logs.js';
import { LogStore } from '../../../src/logs/log-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const d = mkdtempSync(join(tmpdir(), 'laminar-logstore-'));
  dirs.push(d);
  return d;
}

/** One turn of the event loop: the store writes what was appended in the previous one. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function files(folder: string): { name: string; bytes: number }[] {
  return readdirSync(folder)
    .sort()
    .map((name) => ({ name, bytes: statSync(join(folder, name)).size }));
}

const total = (folder: string): number => files(folder).reduce((n, f) => n + f.bytes, 0);

async function printed(logsRoot: string, fn: string): Promise<string> {
  let out = '';
  await showLogs(logsRoot, fn, { write: (s) => (out += s) });
  return out;
}

describe('LogStore retention', () => {
  it("keeps one stream's newest bytes within the budget, rotating to one .1.log file", async () => {
    const logs = root();
    const store = new LogStore(logs, { retentionBytes: 1000 });
    let written = '';
    for (let i = 0; i < 200; i++) {
      const line = `line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}\n`;
      written += line;
      store.append('fn', '2026/01/01/[$LATEST]abc', line);
      await turn();
    }
    await store.close();
    const folder = join(logs, 'fn');
    expect(files(folder).map((f) => f.name)).toEqual(['2026-01-01-[$LATEST]abc.1.log', '2026-01-01-[$LATEST]abc.log']);
    expect(total(folder)).toBeLessThanOrEqual(1000);
    // What remains is the end of what was written, in order, and `laminar logs` reads all of it.
    const kept = await printed(logs, 'fn');
    expect(kept.length).toBeGreaterThanOrEqual(500);
    expect(written.endsWith(kept)).toBe(true);
  });

  it('drops the least recently written streams first, whether their environment is gone or idle', async () => {
    const logs = root();
    const store = new LogStore(logs, { retentionBytes: 1000 });
    const chunk = (tag: string) => `${tag} ${'y'.repeat(95)}\n`; // 100 bytes
    for (const s of ['s01', 's02', 's03']) {
      for (let i = 0; i < 3; i++) {
        store.append('fn', s, chunk(s));
        await turn();
      }
    }
    store.closeStream('fn', 's01'); // its environment is gone; s02 stays open (idle)
    for (let i = 0; i < 5; i++) {
      store.append('fn', 's04', chunk('s04'));
      await turn();
    }
    // 14 chunks of 100 bytes into a budget of 1000: s01's file went first, then the idle s02's.
    store.append('fn', 's02', chunk('s02')); // the idle environment writes again: a new file
    await turn();
    await store.close();
    const folder = join(logs, 'fn');
    expect(files(folder)).toEqual([
      { name: 's02.log', bytes: 100 },
      { name: 's03.log', bytes: 300 },
      // Half the budget: rotated, its next write would start s04.log afresh.
      { name: 's04.1.log', bytes: 500 },
    ]);
    // All of it is read (files written within one clock tick share an mtime, so order is by name).
    const out = (await printed(logs, 'fn')).split('\n').filter((l) => l !== '');
    expect(out.sort()).toEqual([chunk('s02'), ...Array(3).fill(chunk('s03')), ...Array(5).fill(chunk('s04'))].map((c) => c.trim()));
  });

  it('trims what an earlier run left over the budget, oldest first', async () => {
    const logs = root();
    const folder = join(logs, 'fn');
    mkdirSync(folder, { recursive: true });
    for (const [i, name] of ['old.log', 'mid.log', 'new.log'].entries()) {
      writeFileSync(join(folder, name), 'z'.repeat(400));
      utimesSync(join(folder, name), 1_000_000 + i, 1_000_000 + i);
    }
    const store = new LogStore(logs, { retentionBytes: 1000 });
    store.append('fn', 'now', 'fresh\n');
    await turn();
    await store.close();
    expect(files(folder).map((f) => f.name)).toEqual(['mid.log', 'new.log', 'now.log']);
  });

  it("a turn's appends to a stream are in its file, in order, as soon as the turn ends", async () => {
    const logs = root();
    const store = new LogStore(logs);
    store.append('fn', 's', 'START\n');
    store.append('fn', 's', 'line\n');
    store.append('fn', 'other', 'elsewhere\n');
    expect(readdirSync(logs)).toEqual([]);
    await turn();
    // Written, not only queued: nothing needs closing for `laminar logs` to read it.
    expect(readFileSync(join(logs, 'fn', 's.log'), 'utf8')).toBe('START\nline\n');
    expect(readFileSync(join(logs, 'fn', 'other.log'), 'utf8')).toBe('elsewhere\n');
    store.append('fn', 's', 'END\n');
    await turn();
    expect(readFileSync(join(logs, 'fn', 's.log'), 'utf8')).toBe('START\nline\nEND\n');
    await store.close();
  });

  it('a write that fails (a full disk) loses its text and nothing else', async () => {
    const logs = root();
    mkdirSync(join(logs, 'fn'), { recursive: true });
    // Every write to this stream's file fails with ENOSPC.
    symlinkSync('/dev/full', join(logs, 'fn', 'full.log'));
    const store = new LogStore(logs);
    store.append('fn', 'full', 'lost\n');
    store.append('fn', 'fine', 'kept\n');
    await turn();
    store.append('fn', 'full', 'lost too\n');
    store.append('fn', 'fine', 'kept too\n');
    await turn();
    await store.close();
    expect(readFileSync(join(logs, 'fn', 'fine.log'), 'utf8')).toBe('kept\nkept too\n');
  });

  it('writes folders 0700 and files 0600', async () => {
    const logs = root();
    const store = new LogStore(join(logs, 'logs'));
    store.append('fn', 's', 'hello\n');
    await turn();
    await store.close();
    expect((statSync(join(logs, 'logs')).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(join(logs, 'logs', 'fn')).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(join(logs, 'logs', 'fn', 's.log')).mode & 0o777).toString(8)).toBe('600');
  });
});
