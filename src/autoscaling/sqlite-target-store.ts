/**
 * Scalable targets, policies, scheduled actions and activities in the data dir, so that they
 * survive a restart as functions and provisioned concurrency configs do.
 *
 * A file of its own, `autoscaling.db`, rather than tables in registry.db: the registry's schema
 * is versioned by its own migration chain in `PRAGMA user_version`, which a second owner on the
 * same file would corrupt, and nothing here needs a transaction with the registry. A target
 * names its function by name and outlives it (Application Auto Scaling never deregisters a
 * target whose resource is deleted), so there is no foreign key to keep either. events.db is
 * split off the same way.
 *
 * Each record is one JSON column beside the columns it is looked up by: records are always read
 * and written whole, and JSON gives every read a fresh copy, so a caller can never change stored
 * state by mutating what it got (the copy-in/copy-out the TargetStore port promises). Lists
 * follow rowid order: an upsert keeps a row's rowid, a new row gets a larger one, so "creation
 * order" survives updates exactly as the memory store's Map order does.
 *
 * Durability is registry.db's: WAL with `synchronous = NORMAL`, so a killed process loses
 * nothing and a power loss at most the last commits.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DataDirError, openDatabase } from '../registry/data-dir.js';
import { SqliteTables } from '../registry/table-rows.js';
import { DEFAULT_ACTIVITY_RETENTION, type TargetStore } from './target-store.js';
import type { ScalableTargetRecord, ScalingActivityRecord, ScalingPolicyRecord, ScheduledActionRecord } from './types.js';

export const AUTOSCALING_DB = 'autoscaling.db';

/** Each entry upgrades the schema by one step; `PRAGMA user_version` records how far we got. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE targets (
     resource_id TEXT PRIMARY KEY,
     record TEXT NOT NULL
   );
   CREATE TABLE policies (
     resource_id TEXT NOT NULL,
     name TEXT NOT NULL,
     record TEXT NOT NULL,
     PRIMARY KEY (resource_id, name)
   );
   CREATE TABLE scheduled_actions (
     resource_id TEXT NOT NULL,
     name TEXT NOT NULL,
     record TEXT NOT NULL,
     PRIMARY KEY (resource_id, name)
   );
   -- seq orders activities newest first; AUTOINCREMENT so that a pruned number is never reused.
   CREATE TABLE activities (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     resource_id TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX activities_by_target ON activities(resource_id, seq);`,
];

/** autoscaling.db exists but cannot be used; the message names the file and what to do. */
export class ScalingDatabaseError extends DataDirError {
  constructor(
    readonly file: string,
    problem: string,
    cause?: unknown,
  ) {
    super(
      `Autoscaling database ${file} ${problem}. Laminar does not start on it, so that no scalable target, policy or ` +
        `scheduled action is silently lost. Restore it from a backup, or move it (with any -wal and -shm files beside it) ` +
        `out of the data dir to start with no scalable targets.`,
      cause === undefined ? undefined : { cause },
    );
  }
}

function prepare(db: Database.Database) {
  const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    getTarget: p<{ record: string }>('SELECT record FROM targets WHERE resource_id = ?'),
    allTargets: p<{ record: string }>('SELECT record FROM targets ORDER BY rowid'),
    countTargets: p<{ n: number }>('SELECT COUNT(*) AS n FROM targets'),
    putTarget: p(
      `INSERT INTO targets (resource_id, record) VALUES (?, ?)
       ON CONFLICT(resource_id) DO UPDATE SET record = excluded.record`,
    ),
    delTarget: p('DELETE FROM targets WHERE resource_id = ?'),
    getPolicy: p<{ record: string }>('SELECT record FROM policies WHERE resource_id = ? AND name = ?'),
    allPolicies: p<{ record: string }>('SELECT record FROM policies ORDER BY rowid'),
    policiesOf: p<{ record: string }>('SELECT record FROM policies WHERE resource_id = ? ORDER BY rowid'),
    putPolicy: p(
      `INSERT INTO policies (resource_id, name, record) VALUES (?, ?, ?)
       ON CONFLICT(resource_id, name) DO UPDATE SET record = excluded.record`,
    ),
    delPolicy: p('DELETE FROM policies WHERE resource_id = ? AND name = ?'),
    delPoliciesOf: p('DELETE FROM policies WHERE resource_id = ?'),
    getAction: p<{ record: string }>('SELECT record FROM scheduled_actions WHERE resource_id = ? AND name = ?'),
    allActions: p<{ record: string }>('SELECT record FROM scheduled_actions ORDER BY rowid'),
    actionsOf: p<{ record: string }>('SELECT record FROM scheduled_actions WHERE resource_id = ? ORDER BY rowid'),
    putAction: p(
      `INSERT INTO scheduled_actions (resource_id, name, record) VALUES (?, ?, ?)
       ON CONFLICT(resource_id, name) DO UPDATE SET record = excluded.record`,
    ),
    delAction: p('DELETE FROM scheduled_actions WHERE resource_id = ? AND name = ?'),
    delActionsOf: p('DELETE FROM scheduled_actions WHERE resource_id = ?'),
    addActivity: p('INSERT INTO activities (resource_id, record) VALUES (?, ?)'),
    // Everything of the target older than its `keep` newest, found through the index.
    pruneActivities: p(
      `DELETE FROM activities WHERE resource_id = @r AND seq <= (
         SELECT seq FROM activities WHERE resource_id = @r ORDER BY seq DESC LIMIT 1 OFFSET @keep)`,
    ),
    allActivities: p<{ record: string }>('SELECT record FROM activities ORDER BY seq DESC'),
    activitiesOf: p<{ record: string }>('SELECT record FROM activities WHERE resource_id = ? ORDER BY seq DESC'),
  };
}

const parse = <T>(row: { record: string }): T => JSON.parse(row.record) as T;

export interface SqliteTargetStoreOptions {
  /**
   * Activities kept per target; adding one drops the oldest beyond it. A count, not AWS's six
   * weeks, because a count bounds the file whatever the loop's pace: a Knative-style policy may
   * act every sample tick (seconds), and six weeks of that would be hundreds of thousands of rows
   * per target. DescribeScalingActivities pages through them 50 at a time.
   * @defaultValue 500
   */
  activityRetention?: number;
}

/** The tables of the store's content, parents first. */
const TABLES = ['targets', 'policies', 'scheduled_actions', 'activities'] as const;

export class SqliteTargetStore extends SqliteTables implements TargetStore {
  /**
   * What changes the content: a cluster node shares these calls through the registry's log
   * (cluster/side-store.ts); every one but addActivity can be repeated without changing anything.
   */
  readonly mutations = ['putTarget', 'deleteTarget', 'putPolicy', 'deletePolicy', 'putScheduledAction', 'deleteScheduledAction', 'addActivity'] as const;
  private readonly q: ReturnType<typeof prepare>;
  private readonly activityRetention: number;
  private readonly deleteTargetTx: (resourceId: string) => void;
  private readonly addActivityTx: (activity: ScalingActivityRecord) => void;

  /** Opens (creating if missing) `<dataDir>/autoscaling.db`. The data dir must exist. */
  static inDataDir(dataDir: string, opts?: SqliteTargetStoreOptions): SqliteTargetStore {
    return new SqliteTargetStore(join(dataDir, AUTOSCALING_DB), opts);
  }

  constructor(
    readonly file: string,
    opts: SqliteTargetStoreOptions = {},
  ) {
    // A damaged file fails here, at start and naming itself, rather than on some later request.
    super(
      openDatabase(file, MIGRATIONS, (problem, cause) => new ScalingDatabaseError(file, problem, cause)),
      TABLES,
    );
    this.activityRetention = opts.activityRetention ?? DEFAULT_ACTIVITY_RETENTION;
    try {
      this.q = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw new ScalingDatabaseError(file, `cannot be read: ${(err as Error).message}`, err);
    }
    this.deleteTargetTx = this.db.transaction((resourceId: string) => {
      this.q.delTarget.run(resourceId);
      this.q.delPoliciesOf.run(resourceId);
      this.q.delActionsOf.run(resourceId);
    });
    this.addActivityTx = this.db.transaction((a: ScalingActivityRecord) => {
      this.q.addActivity.run(a.resourceId, JSON.stringify(a));
      this.q.pruneActivities.run({ r: a.resourceId, keep: this.activityRetention });
    });
  }

  getTarget(resourceId: string): ScalableTargetRecord | undefined {
    const r = this.q.getTarget.get(resourceId);
    return r && parse<ScalableTargetRecord>(r);
  }

  listTargets(): ScalableTargetRecord[] {
    return this.q.allTargets.all().map((r) => parse<ScalableTargetRecord>(r));
  }

  countTargets(): number {
    return this.q.countTargets.get()?.n ?? 0;
  }

  putTarget(target: ScalableTargetRecord): void {
    this.q.putTarget.run(target.resourceId, JSON.stringify(target));
  }

  deleteTarget(resourceId: string): void {
    this.deleteTargetTx(resourceId);
  }

  getPolicy(resourceId: string, name: string): ScalingPolicyRecord | undefined {
    const r = this.q.getPolicy.get(resourceId, name);
    return r && parse<ScalingPolicyRecord>(r);
  }

  listPolicies(resourceId?: string): ScalingPolicyRecord[] {
    const rows = resourceId === undefined ? this.q.allPolicies.all() : this.q.policiesOf.all(resourceId);
    return rows.map((r) => parse<ScalingPolicyRecord>(r));
  }

  putPolicy(policy: ScalingPolicyRecord): void {
    this.q.putPolicy.run(policy.resourceId, policy.name, JSON.stringify(policy));
  }

  deletePolicy(resourceId: string, name: string): void {
    this.q.delPolicy.run(resourceId, name);
  }

  getScheduledAction(resourceId: string, name: string): ScheduledActionRecord | undefined {
    const r = this.q.getAction.get(resourceId, name);
    return r && parse<ScheduledActionRecord>(r);
  }

  listScheduledActions(resourceId?: string): ScheduledActionRecord[] {
    const rows = resourceId === undefined ? this.q.allActions.all() : this.q.actionsOf.all(resourceId);
    return rows.map((r) => parse<ScheduledActionRecord>(r));
  }

  putScheduledAction(action: ScheduledActionRecord): void {
    this.q.putAction.run(action.resourceId, action.name, JSON.stringify(action));
  }

  deleteScheduledAction(resourceId: string, name: string): void {
    this.q.delAction.run(resourceId, name);
  }

  addActivity(activity: ScalingActivityRecord): void {
    this.addActivityTx(activity);
  }

  listActivities(resourceId?: string): ScalingActivityRecord[] {
    const rows = resourceId === undefined ? this.q.allActivities.all() : this.q.activitiesOf.all(resourceId);
    return rows.map((r) => parse<ScalingActivityRecord>(r));
  }
}

