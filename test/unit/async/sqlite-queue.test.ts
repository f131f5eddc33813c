import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENTS_DB, EventDatabaseError, SqliteEventQueue } from '../../../src/async/sqlite-queue.js';
import { queueConformance, type QueueHarness } from './queue-conformance.js';

async function harness(): Promise<QueueHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'laminar-events-'));
  let open = SqliteEventQueue.inDataDir(dir);
  return {
    queue: open,
    reopen: async () => {
      await open.close();
      open = SqliteEventQueue.inDataDir(dir);
      return open;
    },
    cleanup: async () => {
      await open.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

queueConformance('SQLite', harness, { durable: true });

describe('SqliteEventQueue', () => {
  function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'laminar-events-'));
    return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
  }

  it('lives in events.db in the data dir, in WAL mode', () =>
    withDir(async (dir) => {
      const q = SqliteEventQueue.inDataDir(dir);
      expect(q.file).toBe(join(dir, EVENTS_DB));
      await q.close();
    }));

  it('two connections on one file never lease the same event', () =>
    withDir(async (dir) => {
      const a = SqliteEventQueue.inDataDir(dir);
      const b = SqliteEventQueue.inDataDir(dir);
      try {
        for (let i = 0; i < 50; i++) await a.enqueue({ functionName: `f${i % 3}`, payload: Buffer.from([i]), requestId: `r${i}`, acceptedAt: 0 });
        const seen = new Set<string>();
        for (let i = 0; i < 50; i++) {
          const l = await (i % 2 ? a : b).lease(0, 1000);
          expect(l).toBeDefined();
          expect(seen.has(l!.event.id)).toBe(false);
          seen.add(l!.event.id);
        }
        expect(await a.lease(0, 1000)).toBeUndefined();
        expect(await b.lease(0, 1000)).toBeUndefined();
      } finally {
        await a.close();
        await b.close();
      }
    }));

  it('concurrent enqueues share a commit, get distinct ids in arrival order, and close commits those still pending', () =>
    withDir(async (dir) => {
      let q = SqliteEventQueue.inDataDir(dir);
      const all = await Promise.all(Array.from({ length: 200 }, (_, i) => q.enqueue({ functionName: 'f', payload: Buffer.from([i]), requestId: `r${i}`, acceptedAt: 0 })));
      expect(all.map((e) => Number(e.id))).toEqual(all.map((_, i) => Number(all[0]!.id) + i));
      const last = q.enqueue({ functionName: 'f', payload: Buffer.from('late'), requestId: 'late', acceptedAt: 0 });
      await q.close();
      expect((await last).requestId).toBe('late');
      q = SqliteEventQueue.inDataDir(dir);
      expect(await q.depth('f')).toBe(201);
      await q.close();
    }));

  it('releaseAllLeases makes a killed server’s leases due at once on the next start', () =>
    withDir(async (dir) => {
      let q = SqliteEventQueue.inDataDir(dir);
      const e = await q.enqueue({ functionName: 'f', payload: Buffer.from('x'), requestId: 'r', acceptedAt: 0 });
      const later = await q.enqueue({ functionName: 'f', payload: Buffer.from('y'), requestId: 'r2', acceptedAt: 0, runAt: 500 });
      const l = (await q.lease(0, 60_000))!;
      await q.close();
      q = SqliteEventQueue.inDataDir(dir);
      expect(await q.lease(10, 60_000)).toBeUndefined();
      expect(q.releaseAllLeases(10)).toBe(1);
      const again = (await q.lease(10, 60_000))!;
      expect(again.event.id).toBe(e.id);
      expect(await q.complete(e.id, l.token)).toBe(false);
      // A waiting event keeps its own run time.
      expect(await q.lease(499, 60_000)).toBeUndefined();
      expect((await q.lease(500, 60_000))?.event.id).toBe(later.id);
      await q.close();
    }));

  it('a process killed (SIGKILL) while enqueueing loses no event it acknowledged', () =>
    withDir(async (dir) => {
      // The child enqueues in concurrent groups (as concurrent Event invokes do) and prints each
      // request id once its enqueue has resolved, i.e. when a 202 would be answered.
      const lib = fileURLToPath(new URL('../../../dist/async/sqlite-queue.js', import.meta.url));
      const script = `
        const { SqliteEventQueue } = await import(${JSON.stringify(lib)});
        const q = SqliteEventQueue.inDataDir(${JSON.stringify(dir)});
        for (let i = 0; ; i += 20) {
          await Promise.all(Array.from({ length: 20 }, (_, j) =>
            q.enqueue({ functionName: 'f' + (j % 3), payload: Buffer.alloc(512, j), requestId: 'r' + (i + j), acceptedAt: 0 })
              .then(() => process.stdout.write('r' + (i + j) + '\\n'))));
        }`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const acked = new Set<string>();
      let buffered = '';
      await new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', () => resolve());
        child.stdout.on('data', (chunk: Buffer) => {
          const lines = (buffered + chunk.toString()).split('\n');
          buffered = lines.pop()!;
          for (const l of lines) acked.add(l);
          if (acked.size >= 2000 && !child.killed) child.kill('SIGKILL');
        });
      });
      expect(acked.size).toBeGreaterThanOrEqual(2000);
      const q = SqliteEventQueue.inDataDir(dir);
      try {
        const stored = new Set<string>();
        for (let l = await q.lease(1, 1000); l; l = await q.lease(1, 1000)) stored.add(l.event.requestId);
        const missing = [...acked].filter((r) => !stored.has(r));
        expect(missing).toEqual([]);
      } finally {
        await q.close();
      }
    }), 60_000);

  it('refuses a 0-byte events.db rather than starting with an empty queue', () =>
    withDir(async (dir) => {
      writeFileSync(join(dir, EVENTS_DB), '');
      expect(() => SqliteEventQueue.inDataDir(dir)).toThrow(EventDatabaseError);
      expect(() => SqliteEventQueue.inDataDir(dir)).toThrow(/is empty/);
    }));

  it('refuses a file that is not a database, naming it', () =>
    withDir(async (dir) => {
      writeFileSync(join(dir, EVENTS_DB), 'this is not SQLite, just some text that is long enough '.repeat(20));
      expect(() => SqliteEventQueue.inDataDir(dir)).toThrow(EventDatabaseError);
      expect(() => SqliteEventQueue.inDataDir(dir)).toThrow(join(dir, EVENTS_DB));
    }));
});
