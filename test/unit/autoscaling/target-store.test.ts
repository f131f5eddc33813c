import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AUTOSCALING_DB, ScalingDatabaseError, SqliteTargetStore } from '../../../src/autoscaling/sqlite-target-store.js';
import { MemoryTargetStore } from '../../../src/autoscaling/target-store.js';
import { DataDirError } from '../../../src/registry/data-dir.js';
import { target, targetStoreConformance, type HarnessOptions, type TargetStoreHarness } from './target-store-conformance.js';

targetStoreConformance('memory', (o?: HarnessOptions) => ({ store: new MemoryTargetStore(o?.activityRetention), cleanup: () => undefined }), { durable: false });

function sqliteHarness(o: HarnessOptions = {}): TargetStoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'laminar-targets-'));
  let open = SqliteTargetStore.inDataDir(dir, o);
  return {
    store: open,
    reopen: () => {
      open.close();
      open = SqliteTargetStore.inDataDir(dir, o);
      return open;
    },
    cleanup: () => {
      open.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

targetStoreConformance('SQLite', sqliteHarness, { durable: true });

describe('SqliteTargetStore', () => {
  function withDir(fn: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'laminar-targets-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('lives in autoscaling.db in the data dir, in WAL mode, owner-only', () =>
    withDir((dir) => {
      const s = SqliteTargetStore.inDataDir(dir);
      s.putTarget(target('a'));
      expect(s.file).toBe(join(dir, AUTOSCALING_DB));
      s.close();
      const db = new Database(s.file, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
      expect((statSync(s.file).mode & 0o777).toString(8)).toBe('600');
    }));

  it('refuses a 0-byte file, naming it, rather than starting with no targets', () =>
    withDir((dir) => {
      const file = join(dir, AUTOSCALING_DB);
      writeFileSync(file, '');
      const open = () => SqliteTargetStore.inDataDir(dir);
      expect(open).toThrow(ScalingDatabaseError);
      expect(open).toThrow(`Autoscaling database ${file} is empty (0 bytes)`);
      expect(statSync(file).size).toBe(0);
    }));

  it('refuses a file that is not a database, naming it; the server reports it as a data dir problem', () =>
    withDir((dir) => {
      const file = join(dir, AUTOSCALING_DB);
      writeFileSync(file, 'not a database, but long enough to have a header of sorts'.repeat(100));
      let error: unknown;
      try {
        SqliteTargetStore.inDataDir(dir);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(DataDirError);
      expect((error as Error).message).toContain(`Autoscaling database ${file} cannot be read: file is not a database`);
      expect((error as Error).message).toContain('out of the data dir to start with no scalable targets');
    }));

  it('refuses a schema newer than it knows', () =>
    withDir((dir) => {
      SqliteTargetStore.inDataDir(dir).close();
      const db = new Database(join(dir, AUTOSCALING_DB));
      db.pragma('user_version = 99');
      db.close();
      expect(() => SqliteTargetStore.inDataDir(dir)).toThrow(/schema version 99 is newer than this Laminar knows \(1\)/);
    }));

  it('close() is safe to call twice', () =>
    withDir((dir) => {
      const s = SqliteTargetStore.inDataDir(dir);
      s.close();
      expect(() => s.close()).not.toThrow();
    }));
});
