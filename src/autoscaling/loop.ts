/**
 * The control loop (Knative's split: sampler → pure policy → actuator). On clock ticks, a tenth
 * of the evaluation period apart by default, it reads each registered target's usage through the
 * port, feeds the sampler, and asks the policies for a decision: Knative-style policies on every
 * tick, target tracking policies when a period closes. A decision is applied through the
 * actuator, i.e. through PutProvisionedConcurrencyConfig's code path. Scheduled actions run on
 * their own clock timers, re-armed from the store at `start()`. Time comes only from the
 * injected Clock; `stop()` cancels every timer.
 *
 * After a restart (a new loop over a persistent store) the records are all there but the
 * samples, cooldown times and Knative-style panic state are not: they live in memory, as the
 * utilization they describe does. Policies start again as on a newly registered target: target
 * tracking waits for fresh datapoints (3 periods to scale out, 15 to scale in), a Knative-style
 * policy averages the samples it has so far, and a cooldown (Lambda's default is 0 s) still
 * running at the restart is not carried over.
 *
 * Combining policies (as AWS does): any policy that wants to scale out wins, the largest desired
 * capacity first; scale in happens only when every policy of the target was evaluated and wants
 * it, to the largest of their desired capacities. No policy acts while the config is IN_PROGRESS
 * (the previous change is still being allocated) or when the qualifier has no config.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { SharedWrite } from '../core/shared-write.js';
import type { Actuator } from './actuator.js';
import { knativeScale, type KnativeState } from './knative-policy.js';
import { targetTracking, type Cooldowns } from './policy.js';
import type { ProvisionedConcurrencyPort, ProvisionedUsage } from './port.js';
import { TargetSampler } from './sampler.js';
import { lastFireTime, nextFireTime, parseSchedule, type ScheduleWindow } from './schedule.js';
import type { TargetStore } from './target-store.js';
import type { Direction, NotScaledReason, ScalableTargetRecord, ScalingPolicyRecord, ScheduledActionRecord } from './types.js';

export interface LoopOptions {
  clock: Clock;
  port: ProvisionedConcurrencyPort;
  store: TargetStore;
  actuator: Actuator;
  /** Length of one target tracking datapoint. */
  periodMs: number;
  /** Sample ticks per period. @defaultValue 10 */
  samplesPerPeriod?: number;
  /**
   * How a pass that changes the store runs (what a tick decided to do, a scheduled action,
   * re-arming). Absent, it runs at once. On a cluster node it is one write of the registry's log:
   * it runs once the write holds the lock, and a pass that could not be written (Redis away) is
   * reported and, for a scheduled action or re-arming, tried again a second later. Ticks that
   * decide nothing write nothing and take no lock.
   */
  write?: SharedWrite;
  /** Passes that could not be written. */
  onError?: (err: unknown) => void;
}

/** How long a scheduled action or re-arming whose write failed waits before it is tried again. */
const RETRY_MS = 1000;
/** The timer key of re-arming every scheduled action (keys of actions hold a newline). */
const RESUME_KEY = '\nresume';

/** Node's timers fire at once beyond 2^31 − 1 ms, so far-off schedules are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The longest stable window a Knative-style policy may ask for. */
export const MAX_STABLE_WINDOW_MS = 3_600_000;

interface TargetState {
  sampler: TargetSampler;
  cooldowns: Cooldowns;
  knative: Map<string, KnativeState>;
  lastNotScaled?: string | undefined;
}

type Vote =
  | { kind: 'scale'; direction: Direction; desired: number; cause: string }
  | { kind: 'not-scaled'; reason: NotScaledReason; cause: string; key: string }
  | { kind: 'hold' };

export class ScalingLoop {
  private running = false;
  private tickTimer: TimerHandle | undefined;
  private lastTickAt: number | undefined;
  private readonly scheduleTimers = new Map<string, TimerHandle>();
  private readonly states = new Map<string, TargetState>();
  /** Targets whose decided action is being written (cluster): ticks decide nothing more for them until it is. */
  private readonly acting = new Set<string>();
  /** What each armed scheduled action was armed from, to tell a changed action (`sync`). */
  private readonly armedFrom = new Map<string, string>();
  private readonly sampleMs: number;

  constructor(private readonly o: LoopOptions) {
    if (!(o.periodMs > 0)) throw new TypeError('periodMs must be a positive number of milliseconds');
    this.sampleMs = o.periodMs / (o.samplesPerPeriod ?? 10);
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.armTick();
    this.resume();
  }

  stop(): void {
    this.running = false;
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
    for (const t of this.scheduleTimers.values()) t.cancel();
    this.scheduleTimers.clear();
    this.armedFrom.clear();
  }

  /**
   * Catches up with scheduled actions and targets changed elsewhere (another node of the
   * cluster wrote them): arms what is new or changed, disarms what is gone, forgets targets
   * deregistered. Writes only when something is to be armed.
   */
  sync(): void {
    if (!this.running) return;
    const actions = this.o.store.listScheduledActions();
    const present = new Set(actions.map((a) => actionKey(a.resourceId, a.name)));
    for (const key of [...this.armedFrom.keys()]) {
      if (present.has(key)) continue;
      const [resourceId, name] = key.split('\n') as [string, string];
      this.disarmScheduledAction(resourceId, name);
    }
    const targets = new Set(this.o.store.listTargets().map((t) => t.resourceId));
    for (const resourceId of [...this.states.keys()]) if (!targets.has(resourceId)) this.states.delete(resourceId);
    const stale = actions.filter((a) => this.armedFrom.get(actionKey(a.resourceId, a.name)) !== armedSignature(a));
    if (stale.length > 0) void this.pass(() => stale.forEach((a) => this.armScheduledAction(a)));
  }

  /** A target was registered anew or deregistered: its history and timers no longer apply. */
  forgetTarget(resourceId: string): void {
    this.states.delete(resourceId);
    for (const [key, timer] of this.scheduleTimers) {
      if (key.startsWith(resourceId + '\n')) {
        timer.cancel();
        this.scheduleTimers.delete(key);
      }
    }
  }

  /** A policy was put or deleted: a Knative-style panic in progress belongs to the old settings. */
  forgetPolicy(resourceId: string, name: string): void {
    this.states.get(resourceId)?.knative.delete(name);
  }

  /**
   * Arms the action's next run and stores when that is (`nextRunAt`), so that a server that is
   * down at that time knows at its next start that the run was missed.
   */
  armScheduledAction(action: ScheduledActionRecord): void {
    this.disarmScheduledAction(action.resourceId, action.name);
    if (!this.running) return;
    let at: number | undefined;
    try {
      const parsed = parseSchedule(action.schedule, action.timezone);
      at = nextFireTime(parsed, this.o.clock.now(), windowOf(action));
    } catch {
      at = undefined; // validated when put; an expression that stopped parsing simply never runs
    }
    const stored = this.o.store.getScheduledAction(action.resourceId, action.name);
    if (stored && stored.nextRunAt !== at) this.o.store.putScheduledAction({ ...stored, nextRunAt: at });
    const key = actionKey(action.resourceId, action.name);
    this.armedFrom.set(key, armedSignature(stored ?? action));
    if (at !== undefined) this.armAt(key, at, () => this.firePass(action.resourceId, action.name));
  }

  disarmScheduledAction(resourceId: string, name: string): void {
    const key = actionKey(resourceId, name);
    this.scheduleTimers.get(key)?.cancel();
    this.scheduleTimers.delete(key);
    this.armedFrom.delete(key);
  }

  /** One sampling tick; the timer calls it, and tests may too. */
  tick(now: number = this.o.clock.now()): void {
    const closesPeriod = this.lastTickAt !== undefined && Math.floor(now / this.o.periodMs) > Math.floor(this.lastTickAt / this.o.periodMs);
    this.lastTickAt = now;
    for (const target of this.o.store.listTargets()) {
      const state = this.stateOf(target.resourceId);
      state.sampler.record(now, this.usage(target));
      if (this.acting.has(target.resourceId)) continue;
      const policies = this.o.store.listPolicies(target.resourceId);
      if (policies.length === 0) continue;
      const config = this.config(target);
      if (!config || config.status === 'IN_PROGRESS') continue;
      const capacity = { current: config.requested, min: target.minCapacity, max: target.maxCapacity };
      const votes: Vote[] = [];
      for (const p of policies) {
        if (p.type === 'LaminarKnativeScaling') votes.push(this.knativeVote(p, state, capacity, now));
        else if (closesPeriod) votes.push(this.trackingVote(p, state, capacity, now));
      }
      this.act(target, state, votes, policies.length, now);
    }
  }

  private trackingVote(p: ScalingPolicyRecord, state: TargetState, capacity: { current: number; min: number; max: number }, now: number): Vote {
    const d = targetTracking({
      spec: {
        targetValue: p.targetValue,
        statistic: p.metric?.kind === 'customized' ? p.metric.Statistic : 'Average',
        scaleOutCooldownMs: (p.scaleOutCooldownSeconds ?? 0) * 1000,
        scaleInCooldownMs: (p.scaleInCooldownSeconds ?? 0) * 1000,
        disableScaleIn: p.disableScaleIn ?? false,
      },
      history: state.sampler.datapoints,
      periodMs: this.o.periodMs,
      now,
      capacity,
      cooldowns: state.cooldowns,
    });
    if (d.kind === 'hold') return { kind: 'hold' };
    const alarm = d.alarm === 'high' ? p.alarms?.high.AlarmName : p.alarms?.low.AlarmName;
    const cause = `monitor alarm ${alarm} in state ALARM triggered policy ${p.name}`;
    if (d.kind === 'scale') return { kind: 'scale', direction: d.direction, desired: d.desired, cause };
    return { kind: 'not-scaled', reason: d.reason, cause, key: `${p.name}:${d.reason.Code}` };
  }

  private knativeVote(p: ScalingPolicyRecord, state: TargetState, capacity: { current: number; min: number; max: number }, now: number): Vote {
    const k = p.knative;
    if (!k) return { kind: 'hold' };
    const stableWindowMs = k.StableWindowSeconds * 1000;
    const r = knativeScale({
      spec: {
        targetValue: p.targetValue,
        stableWindowMs,
        panicWindowMs: (stableWindowMs * k.PanicWindowPercentage) / 100,
        panicThresholdPercentage: k.PanicThresholdPercentage,
        maxScaleUpRate: k.MaxScaleUpRate,
        maxScaleDownRate: k.MaxScaleDownRate,
        scaleOutCooldownMs: (p.scaleOutCooldownSeconds ?? 0) * 1000,
        scaleInCooldownMs: (p.scaleInCooldownSeconds ?? 0) * 1000,
        disableScaleIn: p.disableScaleIn ?? false,
      },
      samples: state.sampler.samples,
      now,
      capacity,
      cooldowns: state.cooldowns,
      state: state.knative.get(p.name) ?? {},
    });
    state.knative.set(p.name, r.state);
    if (!r.decision) return { kind: 'hold' };
    const cause =
      `Laminar Knative-style policy ${p.name}: stable average ${r.stableAverage?.toFixed(2)} and panic average ` +
      `${r.panicAverage?.toFixed(2)} concurrent executions${r.panicking ? ' in panic mode' : ''}`;
    if (r.decision.kind === 'scale') return { kind: 'scale', direction: r.decision.direction, desired: r.decision.desired, cause };
    return { kind: 'not-scaled', reason: r.decision.reason, cause, key: `${p.name}:${r.decision.reason.Code}` };
  }

  private act(target: ScalableTargetRecord, state: TargetState, votes: Vote[], policyCount: number, now: number): void {
    if (votes.length === 0) return;
    const allowed = votes.filter(
      (v) =>
        v.kind !== 'scale' ||
        (v.direction === 'out' ? !target.suspended.DynamicScalingOutSuspended : !target.suspended.DynamicScalingInSuspended),
    );
    const scales = allowed.filter((v): v is Extract<Vote, { kind: 'scale' }> => v.kind === 'scale');
    const best = (dir: Direction) =>
      scales.filter((v) => v.direction === dir).sort((a, b) => b.desired - a.desired)[0];
    const out = best('out');
    const inn = scales.length === policyCount && scales.every((v) => v.direction === 'in') ? best('in') : undefined;
    const chosen = out ?? inn;
    if (chosen) {
      state.lastNotScaled = undefined;
      this.effect(target.resourceId, () => {
        const { ok } = this.o.actuator.apply(target, chosen.desired, chosen.cause);
        if (ok && chosen.direction === 'out') state.cooldowns.lastScaleOutAt = now;
        if (ok && chosen.direction === 'in') state.cooldowns.lastScaleInAt = now;
      });
      return;
    }
    const blocked = allowed.find((v): v is Extract<Vote, { kind: 'not-scaled' }> => v.kind === 'not-scaled');
    // One not-scaled activity per episode, not one per tick.
    if (blocked && blocked.key !== state.lastNotScaled) this.effect(target.resourceId, () => this.o.actuator.notScaled(target, blocked.reason, blocked.cause));
    state.lastNotScaled = blocked?.key;
  }

  /**
   * Carries out what a tick decided for a target (a scaling action, a not-scaled activity). On
   * one node at once; on a cluster node as one logged write, so a tick that decides nothing takes
   * no lock, and while a target's write is on its way the ticks sample it but decide nothing more.
   */
  private effect(resourceId: string, fn: () => void): void {
    const written = this.pass(fn);
    if (!written) return;
    this.acting.add(resourceId);
    void written.finally(() => this.acting.delete(resourceId));
  }

  /**
   * Arms every stored action. One whose stored run passed while the loop was stopped (the server
   * was down then) runs once now, for its latest missed occurrence: an action sets bounds, so an
   * earlier missed run of it would be overwritten at once. Missed actions run in the order of
   * those occurrences, so the bounds end as the last of them would have left them had the server
   * never stopped. Running one arms its next run as usual.
   */
  private resumeScheduledActions(): void {
    const now = this.o.clock.now();
    const missed: { action: ScheduledActionRecord; at: number }[] = [];
    for (const action of this.o.store.listScheduledActions()) {
      if (action.nextRunAt !== undefined && action.nextRunAt <= now) missed.push({ action, at: latestMissedRun(action, action.nextRunAt, now) });
      else this.armScheduledAction(action);
    }
    missed.sort((a, b) => a.at - b.at);
    for (const { action } of missed) this.fire(action.resourceId, action.name);
  }

  /** Re-arms every scheduled action from the store, running the missed ones (at start). */
  private resume(): void {
    void this.pass(
      () => this.resumeScheduledActions(),
      () => this.armAt(RESUME_KEY, this.o.clock.now() + RETRY_MS, () => this.resume()),
    );
  }

  private firePass(resourceId: string, name: string): void {
    void this.pass(
      () => this.fire(resourceId, name),
      () => this.armAt(actionKey(resourceId, name), this.o.clock.now() + RETRY_MS, () => this.firePass(resourceId, name)),
    );
  }

  /**
   * Runs `fn` as one pass (see `LoopOptions.write`); `retry` runs if it could not be written.
   * Returns the write's settling on a cluster node (it never rejects), nothing when `fn` ran at once.
   */
  private pass(fn: () => void, retry?: () => void): Promise<void> | undefined {
    const write = this.o.write;
    if (!write) {
      fn();
      return undefined;
    }
    return write(() => {
      if (this.running) fn();
    }).catch((err: unknown) => {
      this.o.onError?.(err);
      if (retry && this.running) retry();
    });
  }

  private fire(resourceId: string, name: string): void {
    this.scheduleTimers.delete(actionKey(resourceId, name));
    const action = this.o.store.getScheduledAction(resourceId, name);
    const target = this.o.store.getTarget(resourceId);
    if (!action || !target) return;
    if (!target.suspended.ScheduledScalingSuspended) this.runScheduledAction(target, action);
    this.armScheduledAction(action);
  }

  private runScheduledAction(target: ScalableTargetRecord, action: ScheduledActionRecord): void {
    const min = action.minCapacity ?? target.minCapacity;
    const max = action.maxCapacity ?? target.maxCapacity;
    const now = this.o.clock.now();
    const description = `Setting min capacity to ${min} and max capacity to ${max}`;
    const cause = `scheduled action name ${action.name} was triggered`;
    if (min > max) {
      const statusMessage = `Failed to set min capacity to ${min} and max capacity to ${max}: the minimum would exceed the maximum.`;
      this.o.actuator.record(target, { description, cause, startTime: now, status: 'Failed', statusMessage });
      return;
    }
    const updated: ScalableTargetRecord = { ...target, minCapacity: min, maxCapacity: max };
    this.o.store.putTarget(updated);
    const statusMessage = `Successfully set min capacity to ${min} and max capacity to ${max}`;
    this.o.actuator.record(updated, { description, cause, startTime: now, status: 'Successful', statusMessage });
    this.o.actuator.clamp(updated);
  }

  private armTick(): void {
    if (!this.running) return;
    const now = this.o.clock.now();
    const next = (Math.floor(now / this.sampleMs) + 1) * this.sampleMs;
    this.tickTimer = this.o.clock.setTimeout(() => {
      this.tickTimer = undefined;
      this.tick();
      this.armTick();
    }, next - now);
  }

  private armAt(key: string, at: number, fn: () => void): void {
    const delay = at - this.o.clock.now();
    const timer =
      delay > MAX_TIMER_MS
        ? this.o.clock.setTimeout(() => this.armAt(key, at, fn), MAX_TIMER_MS)
        : this.o.clock.setTimeout(fn, Math.max(0, delay));
    this.scheduleTimers.set(key, timer);
  }

  private usage(target: ScalableTargetRecord): ProvisionedUsage | undefined {
    try {
      return this.o.port.usage(target.functionName, target.qualifier);
    } catch {
      return undefined; // a function deleted under the target reads as no data, never as a reason to scale
    }
  }

  private config(target: ScalableTargetRecord): ReturnType<ProvisionedConcurrencyPort['get']> {
    try {
      return this.o.port.get(target.functionName, target.qualifier);
    } catch {
      return undefined;
    }
  }

  private stateOf(resourceId: string): TargetState {
    let s = this.states.get(resourceId);
    if (!s) {
      s = { sampler: new TargetSampler(this.o.periodMs, 20, MAX_STABLE_WINDOW_MS), cooldowns: {}, knative: new Map() };
      this.states.set(resourceId, s);
    }
    return s;
  }
}

function windowOf(action: ScheduledActionRecord): ScheduleWindow {
  return { startMs: action.startTime, endMs: action.endTime, anchorMs: action.createdAt };
}

/** The action's last occurrence in [armedAt, now]; armedAt itself was one, so there is at least that. */
function latestMissedRun(action: ScheduledActionRecord, armedAt: number, now: number): number {
  try {
    return Math.max(armedAt, lastFireTime(parseSchedule(action.schedule, action.timezone), now, windowOf(action)) ?? armedAt);
  } catch {
    return armedAt;
  }
}

function actionKey(resourceId: string, name: string): string {
  return `${resourceId}\n${name}`;
}

/** What arming an action depends on: a put that changes any of it re-arms the action. */
function armedSignature(a: ScheduledActionRecord): string {
  return JSON.stringify([a.schedule, a.timezone, a.startTime, a.endTime]);
}
