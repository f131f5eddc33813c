/**
 * The invoke path as a pipeline: the caller resolves the target; then admission (the ledger),
 * placement (pure: reuse, create or throttle), run, finish (keep-alive, pure) and record (one
 * builder for the log and the metrics). The Scheduler is the thin driver that commits each
 * decision through the environment owner, the reaper and the ledger.
 */
import { stopwatch } from '../core/clock.js';
import { TooManyRequestsException } from '../core/errors.js';
import { requestId as newRequestId } from '../core/ids.js';
import type { FunctionErrorPayload, InvokeOutcome } from '../environments/environment.js';
import type { SchedulerSnapshot } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import { claimedAccountConcurrency, decideConcurrency, unreservedInFlight } from './admission/ledger.js';
import { isGrant, type Grant } from './admission/port.js';
import { ThrottleReason } from './admission/reasons.js';
import { throttleException } from './admission/throttle.js';
import type { FunctionPool, PooledEnvironment } from './function-pool.js';
import { keepAlive } from './keep-alive.js';
import { place, type Placement } from './placement.js';
import { invocationLog, recordMetrics, type InitRecord, type InvocationRecord } from './record.js';
import { runInvocation } from './run.js';

import type { InvocationResult, InvokeOptions, SchedulerOptions, Throttle } from './types.js';

export { MAX_RESPONSE_BYTES } from './run.js';
export type { InvocationResult, InvokeOptions, ProvisionedPort, SchedulerOptions, Throttle } from './types.js';
export type { EvictionReason } from './function-pool.js';

/** The event of an invoke without a body: `{}`. */
const EMPTY_EVENT = Buffer.from('{}');

/** An environment placed for one invocation, and the Init it waited for when it is new. */
interface Placed {
  member: PooledEnvironment;
  init?: InitRecord;
  /** The function's error when Init failed. */
  initError?: FunctionErrorPayload;
  coldStartReason?: string;
}

/**
 * Runs invocations on execution environments: reuses an idle environment of the version
 * (provisioned first, then the most recently used), or creates one (a cold start); destroys
 * environments that died; writes START/END/REPORT and records metrics.
 */
export class Scheduler {
  /** Functions invoked since start (bounded by the number of deployed functions). */
  private readonly knownFunctions = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly o: SchedulerOptions) {
    o.metrics.bindScheduler(() => this.snapshot());
  }

  /**
   * The throttle an invocation of `target` would meet now, or undefined; counts it and changes
   * nothing else. It needs no event, so the API can answer a 429 before reading the body; the
   * invocation itself still decides, so a request this lets through may yet be throttled.
   * Host capacity is left to the invocation: it needs a walk over every environment.
   */
  precheck(target: ResolvedTarget): Throttle | undefined {
    const throttle = this.wouldThrottle(target);
    if (throttle) this.o.metrics.throttles.inc({ function: target.functionName, reason: throttle.reason });
    return throttle;
  }

  private wouldThrottle(target: ResolvedTarget): Throttle | undefined {
    if (this.o.environments.closing) return { reason: ThrottleReason.Account, retryAfterSeconds: 1 };
    // A view that cannot be refreshed says nothing: the ledger itself answers (or fails) instead.
    if (this.o.view.stale) return undefined;
    const pool = this.o.environments.existingPool(target);
    if (pool?.idle('provisioned')) return undefined;
    const admitted = decideConcurrency(this.o.view, target.functionName);
    if (!admitted.ok) return { reason: admitted.reason, retryAfterSeconds: 1 };
    if (pool?.idle('on-demand')) return undefined;
    const token = this.o.view.peekScalingToken?.(target.functionName, this.o.clock.now());
    return token === undefined || token.ok ? undefined : { reason: ThrottleReason.ScalingRate, retryAfterSeconds: token.retryAfterSeconds };
  }

  async invoke(target: ResolvedTarget, options: InvokeOptions = {}, payload: Buffer = EMPTY_EVENT): Promise<InvocationResult> {
    const p = this.run(target, options, payload);
    this.inFlight.add(p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(p);
    }
  }

  private async run(target: ResolvedTarget, options: InvokeOptions, payload: Buffer): Promise<InvocationResult> {
    if (this.o.environments.closing) throw new TooManyRequestsException('Laminar is shutting down.', ThrottleReason.Account);
    const elapsed = stopwatch();
    this.knownFunctions.add(target.functionName);
    const pool = this.poolFor(target);
    // Admission: an invocation on an idle provisioned environment runs on capacity its config
    // claimed when it was allocated; any other counts against the function and the account. The
    // provisioned environment is claimed before the ledger answers, so no other invocation takes
    // it meanwhile; it goes back if the answer is no.
    const provisioned = pool.idle('provisioned');
    if (provisioned) this.o.environments.take(provisioned);
    let grant: Grant;
    try {
      const admitted = await this.o.ledger.acquire(target.functionName, { kind: provisioned ? 'provisioned' : 'on-demand', now: this.o.clock.now() });
      if (!isGrant(admitted)) this.throttle(target.functionName, admitted.reason, admitted.retryAfterSeconds ?? 1);
      grant = admitted;
    } catch (err) {
      if (provisioned) this.o.reaper.keepAlive(provisioned);
      throw err;
    }
    try {
      const requestId = options.requestId ?? newRequestId();
      const placed = provisioned ? { member: provisioned } : await this.place(target, pool);
      const result = placed.initError ? this.initFailed(target, requestId, placed.initError, placed) : await this.execute(target, requestId, options, payload, placed);
      const overheadMs = elapsed() - result.durationMs - (result.initDurationMs ?? 0);
      this.o.metrics.schedulerOverhead.observe({ function: target.functionName }, Math.max(0, overheadMs) / 1000);
      return result;
    } finally {
      void grant.release();
    }
  }

  /** Placement, committed: takes an idle environment, or takes a token, evicts, creates and inits one. */
  private async place(target: ResolvedTarget, pool: FunctionPool): Promise<Placed> {
    let placement = this.placeNow(target, pool);
    if (placement.kind === 'create' && placement.needsToken) {
      // The token is taken before evicting, so a scaling-rate throttle evicts nothing.
      const token = await this.o.ledger.takeScalingToken(target.functionName, this.o.clock.now());
      if (!token.ok) this.throttle(target.functionName, ThrottleReason.ScalingRate, token.retryAfterSeconds);
      // Other invocations ran while the ledger answered: the plan is made again on what is there now.
      placement = this.placeNow(target, pool);
    }
    if (placement.kind === 'throttle') this.throttle(target.functionName, placement.reason);
    if (placement.kind === 'reuse') {
      this.o.environments.take(placement.member);
      return { member: placement.member };
    }
    const coldStartReason = pool.count() === 0 ? 'no-environment' : 'all-environments-busy';
    this.o.reaper.evict(placement.evict);
    const member = this.o.environments.create(pool, target, 'on-demand');
    const init = await member.env.init();
    if (!init.ok) {
      const initError = init.error as FunctionErrorPayload;
      return { member, init: { durationMs: init.initDurationMs, logs: init.logs, errorType: initError.errorType }, initError, coldStartReason };
    }
    this.o.environments.initialised(member);
    return { member, init: { durationMs: init.initDurationMs, logs: init.logs }, coldStartReason };
  }

  /** The pure placement of an on-demand invocation on the pool and host as they are now. */
  private placeNow(target: ResolvedTarget, pool: FunctionPool): Placement<PooledEnvironment> {
    return place({ onDemand: pool.idle('on-demand') }, () => this.o.reaper.hostView(target.configuration.MemorySize));
  }

  /** Run: the invocation on its environment. */
  private async execute(target: ResolvedTarget, requestId: string, options: InvokeOptions, payload: Buffer, placed: Placed): Promise<InvocationResult> {
    this.o.provisioned?.recordInvocation(target, placed.member.kind);
    const outcome = await runInvocation(placed.member.env, target, requestId, payload, options.clientContext);
    this.o.environments.countInvocation(placed.member);
    return this.finish(target, requestId, outcome, placed);
  }

  /** A failed Init ends the invocation with the Init's error; the environment is destroyed. */
  private initFailed(target: ResolvedTarget, requestId: string, error: FunctionErrorPayload, placed: Placed): InvocationResult {
    const outcome: InvokeOutcome = {
      status: 'error',
      payload: Buffer.from(JSON.stringify(error)),
      errorType: error.errorType,
      durationMs: 0,
      maxMemoryUsedMb: 0,
      logs: '',
      environmentDead: true,
    };
    return this.finish(target, requestId, outcome, placed);
  }

  /** Finish and record: writes the log, applies the keep-alive decision, counts the metrics. */
  private finish(target: ResolvedTarget, requestId: string, outcome: InvokeOutcome, placed: Placed): InvocationResult {
    const { member, init, coldStartReason } = placed;
    const cfg = target.configuration;
    // Built by assignment rather than spreads: a spread in a literal is a slow path, and these
    // run on every invocation.
    const record: InvocationRecord = {
      requestId,
      functionName: target.functionName,
      qualifier: target.qualifier ?? '$LATEST',
      version: target.version,
      memoryMb: cfg.MemorySize,
      timeoutSeconds: cfg.Timeout,
      outcome,
      endedAt: this.o.clock.now(),
    };
    if (init) record.init = init;
    if (coldStartReason) record.coldStartReason = coldStartReason;
    const log = invocationLog(record);
    this.o.environments.appendLog(member, log);
    this.afterInvocation(member, outcome.environmentDead);
    recordMetrics(this.o.metrics, record);
    const result: InvocationResult = {
      requestId,
      executedVersion: target.version,
      payload: outcome.payload,
      log,
      coldStart: init !== undefined,
      durationMs: outcome.durationMs,
    };
    if (outcome.status !== 'success') result.functionError = outcome.errorType ?? 'Unhandled';
    if (coldStartReason) result.coldStartReason = coldStartReason;
    if (init) result.initDurationMs = init.durationMs;
    return result;
  }

  /** Applies the keep-alive decision: back to idle, or destroyed (and a provisioned one replaced). */
  private afterInvocation(member: PooledEnvironment, died: boolean): void {
    const decision = keepAlive({
      kind: member.kind,
      died,
      poolRetired: member.pool.retired,
      retiring: member.retiring === true,
      closing: this.o.environments.closing,
      now: this.o.clock.now(),
      idleTimeoutMs: this.o.reaper.idleTimeoutMs,
    });
    if (decision.kind === 'idle') {
      this.o.reaper.keepAlive(member, decision.expiresAt);
      return;
    }
    this.o.environments.destroy(member, decision.reason);
    if (decision.replaceProvisioned) this.o.provisioned?.replace(member);
  }

  private throttle(functionName: string, reason: ThrottleReason, retryAfterSeconds = 1): never {
    this.o.metrics.throttles.inc({ function: functionName, reason });
    throw throttleException(reason, retryAfterSeconds);
  }

  private poolFor(target: ResolvedTarget): FunctionPool {
    const { pool, displaced } = this.o.environments.poolFor(target);
    // Provisioned environments of a retired pool are re-created in the new one. Later, not now:
    // this invocation is about to be placed in the new pool first.
    for (const m of displaced) queueMicrotask(() => this.o.provisioned?.replace(m));
    return pool;
  }

  /** The function's reserved concurrency, if any. */
  reservation(functionName: string): number | undefined {
    return this.o.view.reserved.get(functionName);
  }

  /** Retires every environment of a function (all versions, or one), e.g. after DeleteFunction. */
  retireFunction(functionName: string, version?: string): void {
    if (version === undefined || version === '$LATEST') this.knownFunctions.delete(functionName);
    // None remain once the function or version is deleted: provisioned concurrency forgets those first.
    for (const m of this.o.environments.retireFunction(functionName, version)) queueMicrotask(() => this.o.provisioned?.replace(m));
  }

  /** Every environment, busy or idle, in current and retired pools. */
  allMembers(): PooledEnvironment[] {
    return this.o.environments.allMembers();
  }

  /** What the gauges show at scrape time: concurrency from the ledger, environments from their owner. */
  snapshot(): SchedulerSnapshot {
    const ledger = this.o.view;
    // Every function the scheduler knows gets a series, 0 when idle, so dashboards show a line at 0
    // instead of a gap (Prometheus marks a series that disappears from the scrape as stale).
    const known = new Set([...ledger.inFlight.keys(), ...ledger.provisionedInFlight.keys(), ...ledger.reserved.keys(), ...this.knownFunctions]);
    const concurrency = new Map<string, number>();
    for (const fn of known) concurrency.set(fn, ledger.concurrency(fn));
    return {
      concurrency,
      unreservedConcurrency: unreservedInFlight(ledger),
      claimedAccountConcurrency: claimedAccountConcurrency(ledger),
      reserved: new Map(ledger.reserved),
      accountLimit: ledger.limits.regionalLimit,
      environments: this.o.environments.counts(),
    };
  }

  /**
   * Stops taking work, lets in-flight invocations finish for up to `graceMs`, then destroys
   * every environment.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.o.environments.beginShutdown();
    const drained = Promise.allSettled([...this.inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    await this.o.environments.destroyAll();
  }
}
