/**
 * EventBridge rules and their targets in the data dir, `schedules.db`, so that they survive a
 * restart, and with them the last instant each rule fired for (a restart never fires it again).
 *
 * A file of its own, as autoscaling.db and events.db are: the registry's schema is versioned by
 * its own migration chain in `PRAGMA user_version`, and a target names its function by ARN and
 * outlives it (EventBridge never checks a target exists), so there is no foreign key to keep.
 *
 * Each record is one JSON column beside the columns it is looked up by: records are read and
 * written whole, and every read is a fresh copy. Rules are listed by name (ListRules' order);
 * targets in the order they were first put (an upsert keeps its rowid). Durability is the
 * registry's: WAL with `synchronous = NORMAL`.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DataDirError, openDatabase } from '../registry/data-dir.js';
import { SqliteTables } from '../registry/table-rows.js';
import type { RuleRecord, TargetRecord } from './types.js';

export const SCHEDULES_DB = 'schedules.db';

/** Each entry upgrades the schema by one step; `PRAGMA user_version` records how far we got. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE rules (
     name TEXT PRIMARY KEY,
     record TEXT NOT NULL
   );
   CREATE TABLE targets (
     rule TEXT NOT NULL,
     id TEXT NOT NULL,
     record TEXT NOT NULL,
     PRIMARY KEY (rule, id)
   );`,
];

/** schedules.db exists but cannot be used; the message names the file and what to do. */
export class SchedulesDatabaseError extends DataDirError {
  constructor(
    readonly file: string,
    problem: string,
    cause?: unknown,
  ) {
    super(
      `Schedules database ${file} ${problem}. Laminar does not start on it, so that no rule or target is silently lost. ` +
        `Restore it from a backup, or move it (with any -wal and -shm files beside it) out of the data dir to start with no rules.`,
      cause === undefined ? undefined : { cause },
    );
  }
}

function prepare(db: Database.Database) {
  const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    getRule: p<{ record: string }>('SELECT record FROM rules WHERE name = ?'),
    allRules: p<{ record: string }>('SELECT record FROM rules ORDER BY name'),
    putRule: p(`INSERT INTO rules (name, record) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET record = excluded.record`),
    delRule: p('DELETE FROM rules WHERE name = ?'),
    targetsOf: p<{ record: string }>('SELECT record FROM targets WHERE rule = ? ORDER BY rowid'),
    putTarget: p(`INSERT INTO targets (rule, id, record) VALUES (?, ?, ?) ON CONFLICT(rule, id) DO UPDATE SET record = excluded.record`),
    delTarget: p('DELETE FROM targets WHERE rule = ? AND id = ?'),
    delTargetsOf: p('DELETE FROM targets WHERE rule = ?'),
  };
}

const parse = <T>(row: { record: string }): T => JSON.parse(row.record) as T;

/** The tables of the store's content. */
const TABLES = ['rules', 'targets'] as const;

export class RuleStore extends SqliteTables {
  /** What changes the content: a cluster node shares these calls through the registry's log (cluster/side-store.ts). */
  readonly mutations = ['putRule', 'deleteRule', 'putTargets', 'removeTargets'] as const;
  private readonly q: ReturnType<typeof prepare>;
  private readonly putTargetsTx: (targets: readonly TargetRecord[]) => void;
  private readonly removeTargetsTx: (rule: string, ids: readonly string[]) => string[];
  private readonly deleteRuleTx: (name: string) => void;

  /** Opens (creating if missing) `<dataDir>/schedules.db`. The data dir must exist. */
  static inDataDir(dataDir: string): RuleStore {
    return new RuleStore(join(dataDir, SCHEDULES_DB));
  }

  constructor(readonly file: string) {
    // A damaged file fails here, at start and naming itself, rather than on some later run.
    super(
      openDatabase(file, MIGRATIONS, (problem, cause) => new SchedulesDatabaseError(file, problem, cause)),
      TABLES,
    );
    try {
      this.q = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw new SchedulesDatabaseError(file, `cannot be read: ${(err as Error).message}`, err);
    }
    this.putTargetsTx = this.db.transaction((targets: readonly TargetRecord[]) => {
      for (const t of targets) this.q.putTarget.run(t.rule, t.id, JSON.stringify(t));
    });
    this.removeTargetsTx = this.db.transaction((rule: string, ids: readonly string[]) =>
      ids.filter((id) => this.q.delTarget.run(rule, id).changes > 0),
    );
    this.deleteRuleTx = this.db.transaction((name: string) => {
      this.q.delRule.run(name);
      this.q.delTargetsOf.run(name);
    });
  }

  getRule(name: string): RuleRecord | undefined {
    const r = this.q.getRule.get(name);
    return r && parse<RuleRecord>(r);
  }

  /** Every rule, by name. */
  listRules(): RuleRecord[] {
    return this.q.allRules.all().map((r) => parse<RuleRecord>(r));
  }

  putRule(rule: RuleRecord): void {
    this.q.putRule.run(rule.name, JSON.stringify(rule));
  }

  /** Deletes the rule and whatever targets it still has. */
  deleteRule(name: string): void {
    this.deleteRuleTx(name);
  }

  /** The rule's targets, in the order they were first put. */
  listTargets(rule: string): TargetRecord[] {
    return this.q.targetsOf.all(rule).map((r) => parse<TargetRecord>(r));
  }

  /** Adds or replaces targets (by rule and Id), all or none. */
  putTargets(targets: readonly TargetRecord[]): void {
    this.putTargetsTx(targets);
  }

  /** Removes the targets of `rule` with these Ids; returns the Ids that were there. */
  removeTargets(rule: string, ids: readonly string[]): string[] {
    return this.removeTargetsTx(rule, ids);
  }
}

