/**
 * SQLite persistence for the registry: one WAL connection, prepared statements, configurations
 * kept as JSON columns (they are always read and written whole). `$LATEST` is stored as version
 * number 0 so that ordering by number lists it first.
 */
import Database from 'better-sqlite3';
import type { AliasConfiguration, FunctionConfiguration } from './types.js';

export const LATEST_NUM = 0;

export interface FunctionRow {
  name: string;
  /** The number the next published version gets; never decreases, so numbers are never reused. */
  nextVersion: number;
  tags?: Record<string, string>;
  /** What $LATEST served before the update that is still InProgress. */
  previous?: { config: FunctionConfiguration; codeHash: string };
}

export interface VersionRow {
  functionName: string;
  num: number;
  config: FunctionConfiguration;
  /** Hex SHA-256 of the zip: the name of the code folder. */
  codeHash: string;
  /** For published versions: the fingerprint of the $LATEST they were made from (see config.ts). */
  sourceRev?: string;
}

interface RawFunction {
  name: string;
  next_version: number;
  tags: string | null;
  prev_config: string | null;
  prev_hash: string | null;
}
interface RawVersion {
  function_name: string;
  num: number;
  config: string;
  code_hash: string;
  source_rev: string | null;
}

/** Each entry upgrades the schema by one step; `PRAGMA user_version` records how far we got. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE functions (
     name TEXT PRIMARY KEY,
     next_version INTEGER NOT NULL,
     tags TEXT,
     prev_config TEXT,
     prev_hash TEXT
   );
   CREATE TABLE versions (
     function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     num INTEGER NOT NULL,
     config TEXT NOT NULL,
     code_hash TEXT NOT NULL,
     source_rev TEXT,
     PRIMARY KEY (function_name, num)
   );
   CREATE INDEX versions_by_hash ON versions(code_hash);
   CREATE TABLE aliases (
     function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     name TEXT NOT NULL,
     config TEXT NOT NULL,
     PRIMARY KEY (function_name, name)
   );`,
  // Reserved concurrency is a property of the whole function (all versions and aliases).
  `ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER;`,
  // Provisioned concurrency configs on a version or alias; allocation state lives in the scheduler.
  `CREATE TABLE provisioned (
     function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     qualifier TEXT NOT NULL,
     requested INTEGER NOT NULL,
     last_modified TEXT NOT NULL,
     PRIMARY KEY (function_name, qualifier)
   );`,
];

/** A stored provisioned concurrency config. */
export interface ProvisionedRow {
  functionName: string;
  qualifier: string;
  requested: number;
  lastModified: string;
}

function toFunction(r: RawFunction): FunctionRow {
  const row: FunctionRow = { name: r.name, nextVersion: r.next_version };
  if (r.tags !== null) row.tags = JSON.parse(r.tags) as Record<string, string>;
  if (r.prev_config !== null && r.prev_hash !== null) {
    row.previous = { config: JSON.parse(r.prev_config) as FunctionConfiguration, codeHash: r.prev_hash };
  }
  return row;
}

function toVersion(r: RawVersion): VersionRow {
  const row: VersionRow = {
    functionName: r.function_name,
    num: r.num,
    config: JSON.parse(r.config) as FunctionConfiguration,
    codeHash: r.code_hash,
  };
  if (r.source_rev !== null) row.sourceRev = r.source_rev;
  return row;
}


function prepare(db: Database.Database) {
  const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    getFn: p<RawFunction>('SELECT * FROM functions WHERE name = ?'),
    putFn: p(
      `INSERT INTO functions (name, next_version, tags, prev_config, prev_hash) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET next_version = excluded.next_version, tags = excluded.tags,
         prev_config = excluded.prev_config, prev_hash = excluded.prev_hash`,
    ),
    delFn: p('DELETE FROM functions WHERE name = ?'),
    allFnNames: p<{ name: string }>('SELECT name FROM functions ORDER BY name'),
    getVer: p<RawVersion>('SELECT * FROM versions WHERE function_name = ? AND num = ?'),
    putVer: p(
      `INSERT INTO versions (function_name, num, config, code_hash, source_rev) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(function_name, num) DO UPDATE SET config = excluded.config, code_hash = excluded.code_hash,
         source_rev = excluded.source_rev`,
    ),
    delVer: p('DELETE FROM versions WHERE function_name = ? AND num = ?'),
    versionsOf: p<RawVersion>('SELECT * FROM versions WHERE function_name = ? ORDER BY num'),
    versionsPage: p<RawVersion>('SELECT * FROM versions WHERE function_name = ? AND num > ? ORDER BY num LIMIT ?'),
    latestPage: p<RawVersion>('SELECT * FROM versions WHERE num = 0 AND function_name > ? ORDER BY function_name LIMIT ?'),
    allPage: p<RawVersion>(
      `SELECT * FROM versions WHERE function_name > ? OR (function_name = ? AND num > ?)
       ORDER BY function_name, num LIMIT ?`,
    ),
    hashUsed: p<{ n: number }>(
      `SELECT (SELECT COUNT(*) FROM versions WHERE code_hash = ?) + (SELECT COUNT(*) FROM functions WHERE prev_hash = ?) AS n`,
    ),
    usage: p<{ size: number | null; fns: number }>(
      `SELECT (SELECT SUM(json_extract(config, '$.CodeSize')) FROM versions) AS size, (SELECT COUNT(*) FROM functions) AS fns`,
    ),
    getAlias: p<{ config: string }>('SELECT config FROM aliases WHERE function_name = ? AND name = ?'),
    putAlias: p(
      `INSERT INTO aliases (function_name, name, config) VALUES (?, ?, ?)
       ON CONFLICT(function_name, name) DO UPDATE SET config = excluded.config`,
    ),
    delAlias: p('DELETE FROM aliases WHERE function_name = ? AND name = ?'),
    putProv: p(
      `INSERT INTO provisioned (function_name, qualifier, requested, last_modified) VALUES (?, ?, ?, ?)
       ON CONFLICT(function_name, qualifier) DO UPDATE SET requested = excluded.requested, last_modified = excluded.last_modified`,
    ),
    delProv: p('DELETE FROM provisioned WHERE function_name = ? AND qualifier = ?'),
    allProv: p<{ function_name: string; qualifier: string; requested: number; last_modified: string }>(
      'SELECT * FROM provisioned ORDER BY function_name, qualifier',
    ),
    getReserved: p<{ r: number | null }>('SELECT reserved_concurrency AS r FROM functions WHERE name = ?'),
    setReserved: p('UPDATE functions SET reserved_concurrency = ? WHERE name = ?'),
    allReserved: p<{ name: string; r: number }>('SELECT name, reserved_concurrency AS r FROM functions WHERE reserved_concurrency IS NOT NULL'),
    aliasesOf: p<{ config: string }>('SELECT config FROM aliases WHERE function_name = ? ORDER BY name'),
    aliasesPage: p<{ config: string }>(
      `SELECT config FROM aliases WHERE function_name = ? AND name > ?
         AND (? IS NULL OR json_extract(config, '$.FunctionVersion') = ?)
       ORDER BY name LIMIT ?`,
    ),
  };
}
type Statements = ReturnType<typeof prepare>;

export class Store {
  /** Bumped by every write of functions, versions or aliases; read caches compare it. */
  generation = 0;
  private readonly db: Database.Database;
  private readonly stmt: Statements;

  constructor(file: string) {
    this.db = new Database(file);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('synchronous = NORMAL');
      // A damaged file fails here, at start and naming itself, rather than on some later request.
      // The registry is small, so checking every page costs milliseconds.
      const check = this.db.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') throw new Error(`integrity check failed: ${check}`);
      this.migrate();
      this.stmt = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] as string);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getFunction(name: string): FunctionRow | undefined {
    const r = this.stmt.getFn.get(name);
    return r && toFunction(r);
  }

  putFunction(f: FunctionRow): void {
    this.generation++;
    this.stmt.putFn.run(
      f.name,
      f.nextVersion,
      f.tags ? JSON.stringify(f.tags) : null,
      f.previous ? JSON.stringify(f.previous.config) : null,
      f.previous ? f.previous.codeHash : null,
    );
  }

  deleteFunction(name: string): void {
    this.generation++;
    this.stmt.delFn.run(name);
  }

  functionNames(): string[] {
    return this.stmt.allFnNames.all().map((r) => r.name);
  }

  getVersion(name: string, num: number): VersionRow | undefined {
    const r = this.stmt.getVer.get(name, num);
    return r && toVersion(r);
  }

  putVersion(v: VersionRow): void {
    this.generation++;
    this.stmt.putVer.run(v.functionName, v.num, JSON.stringify(v.config), v.codeHash, v.sourceRev ?? null);
  }

  deleteVersion(name: string, num: number): void {
    this.generation++;
    this.stmt.delVer.run(name, num);
  }

  versionsOf(name: string): VersionRow[] {
    return this.stmt.versionsOf.all(name).map(toVersion);
  }

  versionsPage(name: string, afterNum: number, limit: number): VersionRow[] {
    return this.stmt.versionsPage.all(name, afterNum, limit).map(toVersion);
  }

  /** $LATEST of each function, by name, after `afterName`. */
  latestPage(afterName: string, limit: number): VersionRow[] {
    return this.stmt.latestPage.all(afterName, limit).map(toVersion);
  }

  /** Every version of every function, by (name, number), after the given position. */
  allVersionsPage(afterName: string, afterNum: number, limit: number): VersionRow[] {
    return this.stmt.allPage.all(afterName, afterName, afterNum, limit).map(toVersion);
  }

  hashInUse(hash: string): boolean {
    return (this.stmt.hashUsed.get(hash, hash)?.n ?? 0) > 0;
  }

  usage(): { totalCodeSize: number; functionCount: number } {
    const r = this.stmt.usage.get();
    return { totalCodeSize: r?.size ?? 0, functionCount: r?.fns ?? 0 };
  }

  putProvisioned(row: ProvisionedRow): void {
    this.stmt.putProv.run(row.functionName, row.qualifier, row.requested, row.lastModified);
  }

  deleteProvisioned(fn: string, qualifier: string): void {
    this.stmt.delProv.run(fn, qualifier);
  }

  allProvisioned(): ProvisionedRow[] {
    return this.stmt.allProv
      .all()
      .map((r) => ({ functionName: r.function_name, qualifier: r.qualifier, requested: r.requested, lastModified: r.last_modified }));
  }

  getReservedConcurrency(fn: string): number | undefined {
    return this.stmt.getReserved.get(fn)?.r ?? undefined;
  }

  setReservedConcurrency(fn: string, value: number | undefined): void {
    this.stmt.setReserved.run(value ?? null, fn);
  }

  allReservedConcurrency(): Map<string, number> {
    return new Map(this.stmt.allReserved.all().map((r) => [r.name, r.r]));
  }

  getAlias(fn: string, name: string): AliasConfiguration | undefined {
    const r = this.stmt.getAlias.get(fn, name);
    return r && (JSON.parse(r.config) as AliasConfiguration);
  }

  putAlias(fn: string, alias: AliasConfiguration): void {
    this.generation++;
    this.stmt.putAlias.run(fn, alias.Name, JSON.stringify(alias));
  }

  deleteAlias(fn: string, name: string): void {
    this.generation++;
    this.stmt.delAlias.run(fn, name);
  }

  aliasesOf(fn: string): AliasConfiguration[] {
    return this.stmt.aliasesOf.all(fn).map((r) => JSON.parse(r.config) as AliasConfiguration);
  }

  aliasesPage(fn: string, version: string | undefined, afterName: string, limit: number): AliasConfiguration[] {
    const v = version ?? null;
    return this.stmt.aliasesPage.all(fn, afterName, v, v, limit).map((r) => JSON.parse(r.config) as AliasConfiguration);
  }
}
