/**
 * Fires scheduled rules: one Clock timer for the earliest instant any enabled rule is due, and
 * at each wake-up the decisions of `firing.ts` applied. A thin driver: when to fire is pure, this
 * file stores the instant, hands one event per target to the target port (the asynchronous
 * invoke path) and re-arms.
 *
 * The fired instant is stored before any target is invoked, so an instant fires at most once
 * even if the server stops in between; a restart arms every rule from its stored last instant,
 * and instants missed while it was down are not replayed (as in EventBridge).
 */
import { randomUUID } from 'node:crypto';
import type { Partition } from '../core/arn.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { SharedWrite } from '../core/shared-write.js';
import { ResourceNotFoundException } from '../core/errors.js';
import { parseScheduleExpression } from '../core/schedule-expression.js';
import { cursorAt, decideRun, scheduledEvent, type ArmedSchedule } from './firing.js';
import type { RuleStore } from './rule-store.js';
import type { RuleRecord, TargetRecord } from './types.js';

/** Node's timers fire at once beyond 2^31 − 1 ms, so far-off instants are waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where a due rule's targets go: the function's asynchronous invoke (resolves once the event is queued). */
export interface ScheduleTargetPort {
  invoke(target: { functionName: string; qualifier?: string }, payload: Buffer, requestId: string): Promise<void>;
}

/** Why a target could not be invoked (`laminar_schedule_failed_invocations_total`'s reason). */
export type FailedInvocationReason = 'FunctionNotFound' | 'InternalError';

export interface ScheduleMetricsSink {
  /** A rule fired for one scheduled instant. */
  triggered(rule: string): void;
  /** An event was handed to a target's asynchronous invoke. */
  invoked(rule: string): void;
  failed(rule: string, reason: FailedInvocationReason): void;
}

export interface RunnerOptions {
  clock: Clock;
  store: RuleStore;
  partition: Partition;
  port: ScheduleTargetPort;
  metrics?: ScheduleMetricsSink;
  /** Event ids. @defaultValue node:crypto randomUUID */
  newId?: () => string;
  /** Faults of the store while firing (the rule stays armed). */
  onError?: (err: unknown) => void;
  /**
   * How a wake-up runs (it stores the instants it fires for). Absent, it runs at once. On a
   * cluster node it is one write of the registry's log; a wake-up that could not be written
   * (Redis away) is reported and tried again a second later.
   */
  write?: SharedWrite;
}

/** How long a wake-up whose write failed waits before it is tried again. */
const RETRY_MS = 1000;

/** An enabled rule with a schedule, as the runner holds it. */
export function armable(rule: RuleRecord): boolean {
  return rule.scheduleExpression !== undefined && rule.state !== 'DISABLED';
}

export class ScheduleRunner {
  private readonly armed = new Map<string, ArmedSchedule>();
  /** What each rule the runner knows was armed from (or left unarmed for), to tell a changed rule (`sync`). */
  private readonly armedFrom = new Map<string, string>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: { handle: TimerHandle; at: number } | undefined;
  private stopped = true;

  constructor(private readonly o: RunnerOptions) {}

  /** Arms every enabled scheduled rule from now: what came while the server was down is not replayed. */
  start(): void {
    this.stopped = false;
    const now = this.o.clock.now();
    for (const rule of this.o.store.listRules()) this.arm(rule, now);
    this.wakePass();
  }

  /**
   * Catches up with rules changed elsewhere (another node of the cluster wrote them): a rule
   * that is new, changed its schedule or state, or is gone is armed afresh from now or dropped,
   * as `changed` does; the others keep their place.
   */
  sync(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const rules = this.o.store.listRules();
    const names = new Set(rules.map((r) => r.name));
    let touched = false;
    for (const name of [...this.armedFrom.keys()]) {
      if (names.has(name)) continue;
      this.armed.delete(name);
      this.armedFrom.delete(name);
      touched = true;
    }
    for (const rule of rules) {
      if (this.armedFrom.get(rule.name) === signature(rule)) continue;
      this.armed.delete(rule.name);
      this.arm(rule, now);
      touched = true;
    }
    if (touched) this.wakePass();
  }

  /** The rule was put, enabled, disabled or deleted: its schedule is armed afresh from now (or dropped). */
  changed(name: string): void {
    if (this.stopped) return;
    this.armed.delete(name);
    this.armedFrom.delete(name);
    const rule = this.o.store.getRule(name);
    if (rule) this.arm(rule, this.o.clock.now());
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.handle.cancel();
    this.timer = undefined;
    this.armed.clear();
    this.armedFrom.clear();
  }

  /** Stops, then waits for the targets being handed over (before the event queue closes). */
  async close(): Promise<void> {
    this.stop();
    await this.settled();
  }

  /** Resolves once every target invoked so far has been handed over (tests wait on it). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The instant the runner wakes next, if any rule is armed (for tests and /health). */
  get nextWakeAt(): number | undefined {
    return this.timer?.at;
  }

  private arm(rule: RuleRecord, now: number): void {
    this.armedFrom.set(rule.name, signature(rule));
    if (!armable(rule)) return;
    const parsed = parseScheduleExpression(rule.scheduleExpression as string, { kinds: ['rate', 'cron'] });
    // Stored rules were checked when put; one that no longer parses is left unarmed, never fired.
    if (!parsed.ok) return;
    this.armed.set(rule.name, { schedule: parsed.schedule, anchorMs: rule.anchorMs, cursorMs: cursorAt(now, rule.lastFiredMs) });
  }

  /** Runs a wake-up as one pass (see `RunnerOptions.write`). */
  private wakePass(): void {
    const write = this.o.write;
    if (!write) return this.wake();
    write(() => this.wake()).catch((err: unknown) => {
      this.o.onError?.(err);
      if (this.stopped) return;
      const now = this.o.clock.now();
      this.armAt(now + RETRY_MS, now);
    });
  }

  /** Fires what is due and sets the one timer for the earliest next instant. */
  private wake(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    let earliest: number | undefined;
    for (const [name, s] of this.armed) {
      const d = decideRun(s, now);
      if (d.fireAt !== undefined) {
        try {
          this.fire(name, s, d.fireAt);
        } catch (err) {
          this.o.onError?.(err);
        }
      }
      if (d.nextAt !== undefined && (earliest === undefined || d.nextAt < earliest)) earliest = d.nextAt;
    }
    this.armAt(earliest, now);
  }

  private armAt(at: number | undefined, now: number): void {
    if (this.timer?.at === at) return;
    this.timer?.handle.cancel();
    this.timer = undefined;
    if (at === undefined) return;
    const handle = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.wakePass();
    }, Math.min(Math.max(0, at - now), MAX_TIMER_MS));
    this.timer = { handle, at };
  }

  private fire(name: string, s: ArmedSchedule, atMs: number): void {
    const rule = this.o.store.getRule(name);
    if (!rule || !armable(rule)) return;
    // Stored first: whatever happens to the targets, this instant never fires again.
    this.o.store.putRule({ ...rule, lastFiredMs: atMs });
    s.cursorMs = atMs;
    this.o.metrics?.triggered(name);
    const targets = this.o.store.listTargets(name);
    if (targets.length === 0) return;
    // One event per firing: every target without Input gets the same one, as in EventBridge.
    const event = Buffer.from(JSON.stringify(scheduledEvent(this.o.partition, name, (this.o.newId ?? randomUUID)(), atMs)));
    for (const t of targets) this.track(this.invoke(name, t, t.input !== undefined ? Buffer.from(t.input) : event));
  }

  private async invoke(rule: string, t: TargetRecord, payload: Buffer): Promise<void> {
    try {
      const target = t.qualifier === undefined ? { functionName: t.functionName } : { functionName: t.functionName, qualifier: t.qualifier };
      await this.o.port.invoke(target, payload, randomUUID());
      this.o.metrics?.invoked(rule);
    } catch (err) {
      this.o.metrics?.failed(rule, err instanceof ResourceNotFoundException ? 'FunctionNotFound' : 'InternalError');
      if (!(err instanceof ResourceNotFoundException)) this.o.onError?.(err);
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}

/** What arming a rule depends on: a change of any of it re-arms the rule from now. */
function signature(rule: RuleRecord): string {
  return JSON.stringify([rule.scheduleExpression ?? null, rule.state, rule.anchorMs]);
}
