/**
 * Where scalable targets, policies, scheduled actions and activities live. Synchronous on
 * purpose: better-sqlite3 is synchronous too, so `SqliteTargetStore` (the server's, in the data
 * dir) and `MemoryTargetStore` (an embedder's or a test's) are interchangeable without changing a
 * caller; one conformance suite holds both to the same behaviour. Records are copied in and out
 * so a caller can never mutate stored state by accident (a database behaves the same way).
 */
import type { ScalableTargetRecord, ScalingActivityRecord, ScalingPolicyRecord, ScheduledActionRecord } from './types.js';

export interface TargetStore {
  getTarget(resourceId: string): ScalableTargetRecord | undefined;
  listTargets(): ScalableTargetRecord[];
  countTargets(): number;
  putTarget(target: ScalableTargetRecord): void;
  /** Also deletes the target's policies and scheduled actions (activities stay, as in AWS). */
  deleteTarget(resourceId: string): void;

  getPolicy(resourceId: string, name: string): ScalingPolicyRecord | undefined;
  /** Policies in creation order, of one target or of all. */
  listPolicies(resourceId?: string): ScalingPolicyRecord[];
  putPolicy(policy: ScalingPolicyRecord): void;
  deletePolicy(resourceId: string, name: string): void;

  getScheduledAction(resourceId: string, name: string): ScheduledActionRecord | undefined;
  listScheduledActions(resourceId?: string): ScheduledActionRecord[];
  putScheduledAction(action: ScheduledActionRecord): void;
  deleteScheduledAction(resourceId: string, name: string): void;

  /** Keeps a bounded number per target: adding one may drop that target's oldest. */
  addActivity(activity: ScalingActivityRecord): void;
  /** Newest first. */
  listActivities(resourceId?: string): ScalingActivityRecord[];
}

/** Activities kept per target by default; see `SqliteTargetStoreOptions.activityRetention` for why a count. */
export const DEFAULT_ACTIVITY_RETENTION = 500;

const copy = <T>(value: T): T => structuredClone(value);

/** The in-memory store: state lasts as long as the process. */
export class MemoryTargetStore implements TargetStore {
  private readonly targets = new Map<string, ScalableTargetRecord>();
  private readonly policies = new Map<string, ScalingPolicyRecord>();
  private readonly actions = new Map<string, ScheduledActionRecord>();
  private readonly activities: ScalingActivityRecord[] = [];

  /** @param activityRetention activities kept per target; older ones are dropped. */
  constructor(private readonly activityRetention = DEFAULT_ACTIVITY_RETENTION) {}

  getTarget(resourceId: string): ScalableTargetRecord | undefined {
    const t = this.targets.get(resourceId);
    return t && copy(t);
  }

  listTargets(): ScalableTargetRecord[] {
    return [...this.targets.values()].map(copy);
  }

  countTargets(): number {
    return this.targets.size;
  }

  putTarget(target: ScalableTargetRecord): void {
    this.targets.set(target.resourceId, copy(target));
  }

  deleteTarget(resourceId: string): void {
    this.targets.delete(resourceId);
    for (const p of this.listPolicies(resourceId)) this.deletePolicy(resourceId, p.name);
    for (const a of this.listScheduledActions(resourceId)) this.deleteScheduledAction(resourceId, a.name);
  }

  getPolicy(resourceId: string, name: string): ScalingPolicyRecord | undefined {
    const p = this.policies.get(key(resourceId, name));
    return p && copy(p);
  }

  listPolicies(resourceId?: string): ScalingPolicyRecord[] {
    return [...this.policies.values()].filter((p) => resourceId === undefined || p.resourceId === resourceId).map(copy);
  }

  putPolicy(policy: ScalingPolicyRecord): void {
    this.policies.set(key(policy.resourceId, policy.name), copy(policy));
  }

  deletePolicy(resourceId: string, name: string): void {
    this.policies.delete(key(resourceId, name));
  }

  getScheduledAction(resourceId: string, name: string): ScheduledActionRecord | undefined {
    const a = this.actions.get(key(resourceId, name));
    return a && copy(a);
  }

  listScheduledActions(resourceId?: string): ScheduledActionRecord[] {
    return [...this.actions.values()].filter((a) => resourceId === undefined || a.resourceId === resourceId).map(copy);
  }

  putScheduledAction(action: ScheduledActionRecord): void {
    this.actions.set(key(action.resourceId, action.name), copy(action));
  }

  deleteScheduledAction(resourceId: string, name: string): void {
    this.actions.delete(key(resourceId, name));
  }

  addActivity(activity: ScalingActivityRecord): void {
    this.activities.unshift(copy(activity));
    const mine = this.activities.filter((a) => a.resourceId === activity.resourceId);
    if (mine.length > this.activityRetention) {
      const drop = new Set(mine.slice(this.activityRetention));
      for (let i = this.activities.length - 1; i >= 0; i--) {
        if (drop.has(this.activities[i] as ScalingActivityRecord)) this.activities.splice(i, 1);
      }
    }
  }

  listActivities(resourceId?: string): ScalingActivityRecord[] {
    return this.activities.filter((a) => resourceId === undefined || a.resourceId === resourceId).map(copy);
  }
}

/** Resource ids contain colons but never a newline, so a newline keeps the compound key unambiguous. */
function key(resourceId: string, name: string): string {
  return `${resourceId}\n${name}`;
}
