/**
 * SQLite persistence for the registry: one WAL connection, prepared statements, configurations
 * kept as JSON columns (they are always read and written whole). `$LATEST` is stored as version
 * number 0 so that ordering by number lists it first.
 */
import Database from 'better-sqlite3';
import { migrateDatabase } from './data-dir.js';
import { exportTables, importTables, type TableRows } from './table-rows.js';
import type { AliasConfiguration, FunctionConfiguration, StoredEventInvokeConfig, StoredFunctionUrlConfig } from './types.js';

export const LATEST_NUM = 0;

export interface FunctionRow {
  name: string;
  /** The number the next published version gets; never decreases, so numbers are never reused. */
  nextVersion: number;
  tags?: Record<string, string>;
  /** What $LATEST served before the update that is still InProgress. */
  previous?: { config: FunctionConfiguration; codeHash: string; layerHashes?: string[] };
}

export interface VersionRow {
  functionName: string;
  num: number;
  config: FunctionConfiguration;
  /** Hex SHA-256 of the zip: the name of the code folder. */
  codeHash: string;
  /** For published versions: the fingerprint of the $LATEST they were made from (see config.ts). */
  sourceRev?: string;
  /**
   * Hex SHA-256 of each layer's zip, in the order of `config.Layers`. The snapshot holds the
   * layers' content itself, so it outlives the deletion of the layer versions.
   */
  layerHashes?: string[];
}

/** One published layer version; `info` is everything GetLayerVersion reports besides ARNs and Location. */
export interface LayerVersionRow {
  layerName: string;
  version: number;
  codeHash: string;
  info: {
    Description: string;
    CreatedDate: string;
    CompatibleRuntimes?: string[];
    CompatibleArchitectures?: string[];
    LicenseInfo?: string;
    CodeSha256: string;
    CodeSize: number;
  };
}

interface RawLayerVersion {
  layer_name: string;
  version: number;
  info: string;
  code_hash: string;
}

interface RawFunction {
  name: string;
  next_version: number;
  tags: string | null;
  prev_config: string | null;
  prev_hash: string | null;
  prev_layer_hashes: string | null;
}
interface RawVersion {
  function_name: string;
  num: number;
  config: string;
  code_hash: string;
  source_rev: string | null;
  layer_hashes: string | null;
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
  // Layers. A name keeps its counter after its last version is deleted, so numbers are never
  // reused. Function snapshots list the archives of their layers, which keeps that content alive
  // after the layer version itself is deleted.
  `CREATE TABLE layers (
     name TEXT PRIMARY KEY,
     next_version INTEGER NOT NULL
   );
   CREATE TABLE layer_versions (
     layer_name TEXT NOT NULL REFERENCES layers(name),
     version INTEGER NOT NULL,
     info TEXT NOT NULL,
     code_hash TEXT NOT NULL,
     PRIMARY KEY (layer_name, version)
   );
   CREATE INDEX layer_versions_by_hash ON layer_versions(code_hash);
   ALTER TABLE versions ADD COLUMN layer_hashes TEXT;
   ALTER TABLE functions ADD COLUMN prev_layer_hashes TEXT;`,
  // Event invoke configs (asynchronous invocation settings) on $LATEST, a version or an alias;
  // deleted with the function by the cascade, with a version or alias by the registry.
  `CREATE TABLE event_invoke_configs (
     function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     qualifier TEXT NOT NULL,
     config TEXT NOT NULL,
     last_modified INTEGER NOT NULL,
     PRIMARY KEY (function_name, qualifier)
   );`,
  // Function URL configs: one on the function itself (qualifier '') and one per alias. The URL id
  // is kept, so a URL stays the same across restarts; it goes with its function (cascade) or alias.
  `CREATE TABLE function_urls (
     function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     qualifier TEXT NOT NULL,
     url_id TEXT NOT NULL UNIQUE,
     config TEXT NOT NULL,
     PRIMARY KEY (function_name, qualifier)
   );`,
  // A cluster replica's own bookkeeping (the cluster it belongs to, how far it applied the
  // cluster's log). Never replicated; a single node leaves it empty.
  `CREATE TABLE replica_meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );`,
];

/**
 * The tables that hold the registry's content, parents before children: what a cluster snapshot
 * carries and a rebuild replaces (replica_meta is the replica's own and stays out).
 */
const CONTENT_TABLES = ['functions', 'layers', 'versions', 'aliases', 'provisioned', 'layer_versions', 'event_invoke_configs', 'function_urls'] as const;

export type { TableRows } from './table-rows.js';

/** A stored Function URL config; `qualifier` is '' for the function's own URL ($LATEST). */
export interface FunctionUrlRow {
  functionName: string;
  qualifier: string;
  urlId: string;
  config: StoredFunctionUrlConfig;
}

interface RawFunctionUrl {
  function_name: string;
  qualifier: string;
  url_id: string;
  config: string;
}

function toFunctionUrl(r: RawFunctionUrl): FunctionUrlRow {
  return { functionName: r.function_name, qualifier: r.qualifier, urlId: r.url_id, config: JSON.parse(r.config) as StoredFunctionUrlConfig };
}

/** A stored provisioned concurrency config. */
export interface ProvisionedRow {
  functionName: string;
  qualifier: string;
  requested: number;
  lastModified: string;
}

/** A stored event invoke config: the settings as given (absent ones are Lambda's defaults). */
export interface EventInvokeConfigRow {
  functionName: string;
  /** `$LATEST`, a version number or an alias name. */
  qualifier: string;
  config: StoredEventInvokeConfig;
  /** Epoch milliseconds. */
  lastModified: number;
}

function toEventInvokeConfig(r: { function_name: string; qualifier: string; config: string; last_modified: number }): EventInvokeConfigRow {
  return {
    functionName: r.function_name,
    qualifier: r.qualifier,
    config: JSON.parse(r.config) as StoredEventInvokeConfig,
    lastModified: r.last_modified,
  };
}

function toFunction(r: RawFunction): FunctionRow {
  const row: FunctionRow = { name: r.name, nextVersion: r.next_version };
  if (r.tags !== null) row.tags = JSON.parse(r.tags) as Record<string, string>;
  if (r.prev_config !== null && r.prev_hash !== null) {
    row.previous = { config: JSON.parse(r.prev_config) as FunctionConfiguration, codeHash: r.prev_hash };
    if (r.prev_layer_hashes !== null) row.previous.layerHashes = JSON.parse(r.prev_layer_hashes) as string[];
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
  if (r.layer_hashes !== null) row.layerHashes = JSON.parse(r.layer_hashes) as string[];
  return row;
}

function toLayerVersion(r: RawLayerVersion): LayerVersionRow {
  return { layerName: r.layer_name, version: r.version, codeHash: r.code_hash, info: JSON.parse(r.info) as LayerVersionRow['info'] };
}

/** Empty lists are stored as NULL: "no layers". */
function hashList(hashes: readonly string[] | undefined): string | null {
  return hashes && hashes.length > 0 ? JSON.stringify(hashes) : null;
}

/** A layer version matches ListLayers' filters when it declares the runtime and architecture asked for. */
const LAYER_MATCH = (t: string): string =>
  `(@runtime IS NULL OR EXISTS (SELECT 1 FROM json_each(${t}.info, '$.CompatibleRuntimes') WHERE value = @runtime))
   AND (@arch IS NULL OR EXISTS (SELECT 1 FROM json_each(${t}.info, '$.CompatibleArchitectures') WHERE value = @arch))`;


function prepare(db: Database.Database) {
  const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    getFn: p<RawFunction>('SELECT * FROM functions WHERE name = ?'),
    putFn: p(
      `INSERT INTO functions (name, next_version, tags, prev_config, prev_hash, prev_layer_hashes) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET next_version = excluded.next_version, tags = excluded.tags,
         prev_config = excluded.prev_config, prev_hash = excluded.prev_hash, prev_layer_hashes = excluded.prev_layer_hashes`,
    ),
    delFn: p('DELETE FROM functions WHERE name = ?'),
    allFnNames: p<{ name: string }>('SELECT name FROM functions ORDER BY name'),
    getVer: p<RawVersion>('SELECT * FROM versions WHERE function_name = ? AND num = ?'),
    putVer: p(
      `INSERT INTO versions (function_name, num, config, code_hash, source_rev, layer_hashes) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(function_name, num) DO UPDATE SET config = excluded.config, code_hash = excluded.code_hash,
         source_rev = excluded.source_rev, layer_hashes = excluded.layer_hashes`,
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
      `SELECT EXISTS (SELECT 1 FROM versions WHERE code_hash = @h)
         OR EXISTS (SELECT 1 FROM functions WHERE prev_hash = @h)
         OR EXISTS (SELECT 1 FROM layer_versions WHERE code_hash = @h)
         OR EXISTS (SELECT 1 FROM versions, json_each(versions.layer_hashes) j WHERE j.value = @h)
         OR EXISTS (SELECT 1 FROM functions, json_each(functions.prev_layer_hashes) j WHERE j.value = @h) AS n`,
    ),
    // Lambda counts layers against the code storage quota too.
    usage: p<{ size: number | null; layers: number | null; fns: number }>(
      `SELECT (SELECT SUM(json_extract(config, '$.CodeSize')) FROM versions) AS size,
         (SELECT SUM(json_extract(info, '$.CodeSize')) FROM layer_versions) AS layers,
         (SELECT COUNT(*) FROM functions) AS fns`,
    ),
    bumpLayer: p<{ v: number }>(
      `INSERT INTO layers (name, next_version) VALUES (?, 2)
       ON CONFLICT(name) DO UPDATE SET next_version = next_version + 1
       RETURNING next_version - 1 AS v`,
    ),
    putLayerVer: p('INSERT INTO layer_versions (layer_name, version, info, code_hash) VALUES (?, ?, ?, ?)'),
    getLayerVer: p<RawLayerVersion>('SELECT * FROM layer_versions WHERE layer_name = ? AND version = ?'),
    delLayerVer: p('DELETE FROM layer_versions WHERE layer_name = ? AND version = ?'),
    layerVersionsPage: p<RawLayerVersion>(
      `SELECT * FROM layer_versions lv WHERE layer_name = @name AND version < @before AND ${LAYER_MATCH('lv')}
       ORDER BY version DESC LIMIT @limit`,
    ),
    layersPage: p<RawLayerVersion>(
      `SELECT * FROM layer_versions lv WHERE layer_name > @after AND ${LAYER_MATCH('lv')}
         AND version = (SELECT MAX(version) FROM layer_versions l2 WHERE l2.layer_name = lv.layer_name AND ${LAYER_MATCH('l2')})
       ORDER BY layer_name LIMIT @limit`,
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
    putEic: p(
      `INSERT INTO event_invoke_configs (function_name, qualifier, config, last_modified) VALUES (?, ?, ?, ?)
       ON CONFLICT(function_name, qualifier) DO UPDATE SET config = excluded.config, last_modified = excluded.last_modified`,
    ),
    getEic: p<{ function_name: string; qualifier: string; config: string; last_modified: number }>(
      'SELECT * FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?',
    ),
    delEic: p('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?'),
    eicOf: p<{ function_name: string; qualifier: string; config: string; last_modified: number }>(
      'SELECT * FROM event_invoke_configs WHERE function_name = ?',
    ),
    getReserved: p<{ r: number | null }>('SELECT reserved_concurrency AS r FROM functions WHERE name = ?'),
    setReserved: p('UPDATE functions SET reserved_concurrency = ? WHERE name = ?'),
    allReserved: p<{ name: string; r: number }>('SELECT name, reserved_concurrency AS r FROM functions WHERE reserved_concurrency IS NOT NULL'),
    aliasesOf: p<{ config: string }>('SELECT config FROM aliases WHERE function_name = ? ORDER BY name'),
    getUrl: p<RawFunctionUrl>('SELECT * FROM function_urls WHERE function_name = ? AND qualifier = ?'),
    getUrlById: p<RawFunctionUrl>('SELECT * FROM function_urls WHERE url_id = ?'),
    putUrl: p(
      `INSERT INTO function_urls (function_name, qualifier, url_id, config) VALUES (?, ?, ?, ?)
       ON CONFLICT(function_name, qualifier) DO UPDATE SET config = excluded.config`,
    ),
    delUrl: p('DELETE FROM function_urls WHERE function_name = ? AND qualifier = ?'),
    urlsPage: p<RawFunctionUrl>(
      'SELECT * FROM function_urls WHERE function_name = @fn AND (@after IS NULL OR qualifier > @after) ORDER BY qualifier LIMIT @limit',
    ),
    aliasesPage: p<{ config: string }>(
      `SELECT config FROM aliases WHERE function_name = ? AND name > ?
         AND (? IS NULL OR json_extract(config, '$.FunctionVersion') = ?)
       ORDER BY name LIMIT ?`,
    ),
  };
}
type Statements = ReturnType<typeof prepare>;

export interface LayerMatch {
  runtime?: string;
  architecture?: string;
}

function matchParams(f: LayerMatch): { runtime: string | null; arch: string | null } {
  return { runtime: f.runtime ?? null, arch: f.architecture ?? null };
}

export class Store {
  /** Bumped by every write of functions, versions, aliases or event invoke configs; read caches compare it. */
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
      migrateDatabase(this.db, MIGRATIONS);
      this.stmt = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
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
      hashList(f.previous?.layerHashes),
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
    this.stmt.putVer.run(v.functionName, v.num, JSON.stringify(v.config), v.codeHash, v.sourceRev ?? null, hashList(v.layerHashes));
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

  /** Whether a function snapshot (as its code or one of its layers) or a layer version uses the archive. */
  hashInUse(hash: string): boolean {
    return (this.stmt.hashUsed.get({ h: hash })?.n ?? 0) > 0;
  }

  usage(): { totalCodeSize: number; functionCount: number } {
    const r = this.stmt.usage.get();
    return { totalCodeSize: (r?.size ?? 0) + (r?.layers ?? 0), functionCount: r?.fns ?? 0 };
  }

  /** The next version number of a layer (1 for a new name), reserved by this call. */
  nextLayerVersion(name: string): number {
    const r = this.stmt.bumpLayer.get(name);
    if (!r) throw new Error(`no version number for layer ${name}`);
    return r.v;
  }

  putLayerVersion(row: LayerVersionRow): void {
    this.stmt.putLayerVer.run(row.layerName, row.version, JSON.stringify(row.info), row.codeHash);
  }

  getLayerVersion(name: string, version: number): LayerVersionRow | undefined {
    const r = this.stmt.getLayerVer.get(name, version);
    return r && toLayerVersion(r);
  }

  deleteLayerVersion(name: string, version: number): void {
    this.stmt.delLayerVer.run(name, version);
  }

  /** Versions of one layer, newest first, below `before`, matching the filters. */
  layerVersionsPage(name: string, before: number, filter: LayerMatch, limit: number): LayerVersionRow[] {
    return this.stmt.layerVersionsPage.all({ name, before, limit, ...matchParams(filter) }).map(toLayerVersion);
  }

  /** The newest matching version of each layer named after `after`, by name. */
  layersPage(after: string, filter: LayerMatch, limit: number): LayerVersionRow[] {
    return this.stmt.layersPage.all({ after, limit, ...matchParams(filter) }).map(toLayerVersion);
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

  putEventInvokeConfig(row: EventInvokeConfigRow): void {
    this.generation++;
    this.stmt.putEic.run(row.functionName, row.qualifier, JSON.stringify(row.config), row.lastModified);
  }

  getEventInvokeConfig(fn: string, qualifier: string): EventInvokeConfigRow | undefined {
    const r = this.stmt.getEic.get(fn, qualifier);
    return r && toEventInvokeConfig(r);
  }

  /** True when there was a config to delete. */
  deleteEventInvokeConfig(fn: string, qualifier: string): boolean {
    this.generation++;
    return this.stmt.delEic.run(fn, qualifier).changes > 0;
  }

  eventInvokeConfigsOf(fn: string): EventInvokeConfigRow[] {
    return this.stmt.eicOf.all(fn).map(toEventInvokeConfig);
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

  getFunctionUrl(fn: string, qualifier: string): FunctionUrlRow | undefined {
    const r = this.stmt.getUrl.get(fn, qualifier);
    return r && toFunctionUrl(r);
  }

  /** The config a URL id belongs to: the one lookup of every request to a function URL. */
  functionUrlById(urlId: string): FunctionUrlRow | undefined {
    const r = this.stmt.getUrlById.get(urlId);
    return r && toFunctionUrl(r);
  }

  /** Creates the config or replaces its settings; an existing config keeps its URL id. */
  putFunctionUrl(row: FunctionUrlRow): void {
    this.stmt.putUrl.run(row.functionName, row.qualifier, row.urlId, JSON.stringify(row.config));
  }

  deleteFunctionUrl(fn: string, qualifier: string): void {
    this.stmt.delUrl.run(fn, qualifier);
  }

  /** The function's URL configs after `afterQualifier`, by qualifier ('' first). */
  functionUrlsPage(fn: string, afterQualifier: string | undefined, limit: number): FunctionUrlRow[] {
    return this.stmt.urlsPage.all({ fn, after: afterQualifier ?? null, limit }).map(toFunctionUrl);
  }

  // ---- for a cluster replica (src/cluster); a single node never calls these ----------------

  /** A value of the replica's own bookkeeping; never part of the replicated content. */
  getMeta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM replica_meta WHERE key = ?').get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO replica_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /**
   * Opens a transaction that may span asynchronous work, ended only by `rollback`: a replica runs
   * a write against it to learn what the write does, then undoes it until the cluster has
   * accepted it. `tx` calls inside nest as savepoints.
   */
  begin(): void {
    this.db.exec('BEGIN');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    // Caches filled from the undone rows must not survive them.
    this.generation++;
  }

  /** Every row of the content tables: a cluster snapshot of this registry. */
  exportRows(): TableRows {
    return exportTables(this.db, CONTENT_TABLES);
  }

  /**
   * Replaces the content tables with `rows` (missing tables end up empty), in the caller's
   * transaction. Only columns the table has are written, so a snapshot cannot reach other SQL.
   */
  importRows(rows: TableRows): void {
    this.generation++;
    importTables(this.db, CONTENT_TABLES, rows);
  }
}
