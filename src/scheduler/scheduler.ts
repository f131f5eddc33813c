import { join } from 'node:path';
import { stopwatch, wallClock, type Clock } from '../core/clock.js';
import { requestId as newRequestId, streamSuffix } from '../core/ids.js';
import type { Partition } from '../core/arn.js';
import type {
  EnvironmentFactory,
  EnvironmentSpec,
  FunctionErrorPayload,
  Isolation,
  InvokeOutcome,
} from '../environments/environment.js';
import type { LogStore } from '../logs/log-store.js';
import { billedDurationMs, endLine, reportLine, startLine, timeoutLine } from '../logs/report-line.js';
import type { Metrics, SchedulerSnapshot } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import { TooManyRequestsException } from '../core/errors.js';
import { claimedAccountConcurrency, unreservedInFlight, type Ledger } from './admission/ledger.js';
import { throttleMessage, ThrottleReason } from './admission/reasons.js';
import { FunctionPool, type EnvironmentKind, type PooledEnvironment } from './function-pool.js';
import { planCapacity } from './placement.js';

/** Lambda's response limit: 6 MiB plus 100 bytes (what the runtime API really accepts). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;


/** The event of an invoke without a body: `{}`. */
const EMPTY_EVENT = Buffer.from('{}');
export interface SchedulerOptions {
  clock: Clock;
  factory: EnvironmentFactory;
  metrics: Metrics;
  logs: LogStore;
  partition: Partition;
  /** Parent of every environment's /tmp folder. */
  tmpRoot: string;
  environmentIdleTimeoutSeconds: number;
  ledger: Ledger;
  /** Memory budget for all environments; each is charged its MemorySize. */
  hostMemoryMb: number;
  /** Isolation of Node.js functions without a `laminar:isolation` tag (default thread). */
  isolation?: Isolation;
  /** Bytes of a function's output each environment keeps per Init and per invocation (default 1 MiB). */
  logBytesPerInvocation?: number;
}

/** What the scheduler tells provisioned concurrency (set after construction: the two refer to each other). */
export interface ProvisionedHooks {
  /** Counts ProvisionedConcurrencyInvocations / SpilloverInvocations for the invoked qualifier. */
  recordInvocation(target: ResolvedTarget, kind: EnvironmentKind): void;
  /** A provisioned environment died: allocate a replacement. */
  replace(member: PooledEnvironment): void;
}

/** Why an environment was destroyed (the `reason` label of laminar_environment_evictions_total). */
export type EvictionReason = 'idle-timeout' | 'capacity' | 'retired' | 'failed' | 'shutdown';

export interface InvokeOptions {
  requestId?: string;
  /** Decoded client context JSON (sync invokes only). */
  clientContext?: string;
}

export interface InvocationResult {
  requestId: string;
  executedVersion: string;
  /** Result JSON, or the function error object's JSON, as bytes. */
  payload: Buffer;
  /** Set when the function failed: the errorType. */
  functionError?: string;
  /** The invocation's whole log: START, app lines, END, REPORT (Init lines on a cold start). */
  log: string;
  coldStart: boolean;
  /** Why a new environment was created, when it was. */
  coldStartReason?: string;
  durationMs: number;
  initDurationMs?: number;
}

/**
 * Runs invocations on execution environments: reuses an idle environment of the version (most
 * recently used first), or creates one (a cold start); destroys environments that died or sat
 * idle past the keep-alive; writes START/END/REPORT and records metrics.
 */
export class Scheduler {
  private readonly pools = new Map<string, FunctionPool>();
  /** Functions invoked since start (bounded by the number of deployed functions). */
  private readonly knownFunctions = new Set<string>();
  /** Set once provisioned concurrency is wired. */
  provisioned?: ProvisionedHooks;
  private readonly retiredPools = new Set<FunctionPool>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private envSeq = 0;
  private closing = false;

  constructor(private readonly o: SchedulerOptions) {
    o.metrics.bindScheduler(() => this.snapshot());
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

  private poolFor(target: ResolvedTarget): FunctionPool {
    const key = `${target.functionName}\u0000${target.version}`;
    const stamp = configStamp(target);
    let pool = this.pools.get(key);
    if (pool && pool.stamp !== stamp) {
      this.retire(pool);
      pool = undefined;
    }
    if (!pool) {
      pool = new FunctionPool(target.functionName, target.version, stamp);
      this.pools.set(key, pool);
    }
    return pool;
  }

  private throttle(functionName: string, reason: ThrottleReason, retryAfterSeconds = 1): never {
    this.o.metrics.throttles.inc({ function: functionName, reason });
    throw retryAfterSeconds === 1 ? sharedThrottle(reason) : new TooManyRequestsException(throttleMessage(reason), reason, retryAfterSeconds);
  }

  private async run(target: ResolvedTarget, options: InvokeOptions, payload: Buffer): Promise<InvocationResult> {
    if (this.closing) throw new TooManyRequestsException('Laminar is shutting down.', ThrottleReason.Account);
    const elapsed = stopwatch();
    this.knownFunctions.add(target.functionName);
    const pool = this.poolFor(target);
    // An idle provisioned environment serves first; its capacity was claimed when it was allocated.
    const provisioned = pool.takeIdle('provisioned');
    const permit = this.o.ledger.acquire(target.functionName, provisioned ? 'provisioned' : 'on-demand');
    if (!('release' in permit)) this.throttle(target.functionName, permit.reason);
    try {
      const result = await this.runAdmitted(target, options, payload, pool, provisioned);
      const overheadMs = elapsed() - result.durationMs - (result.initDurationMs ?? 0);
      this.o.metrics.schedulerOverhead.observe({ function: target.functionName }, Math.max(0, overheadMs) / 1000);
      return result;
    } finally {
      permit.release();
    }
  }

  /** Takes a scaling-rate token for a new on-demand environment of `functionName`, or throttles. */
  private takeScalingToken(functionName: string): void {
    const token = this.o.ledger.takeScalingToken(functionName, this.o.clock.now());
    if (!token.ok) this.throttle(functionName, ThrottleReason.ScalingRate, token.retryAfterSeconds);
  }

  /**
   * Makes room in the host memory budget for an environment of `memoryMb`, evicting idle
   * on-demand environments least recently used first. False when that cannot make room.
   */
  makeRoom(memoryMb: number, beforeEvicting?: () => void): boolean {
    const members = this.allMembers();
    const byId = new Map(members.map((m) => [m.env.id, m]));
    const plan = planCapacity(
      members.map((m) => ({
        id: m.env.id,
        memoryMb: m.env.spec.memoryMb,
        evictable: m.state === 'idle' && m.kind === 'on-demand',
        lastUsedAt: m.lastUsedAt,
      })),
      this.o.hostMemoryMb,
      memoryMb,
    );
    if (!plan.ok) return false;
    // A check that may still refuse (the scaling rate) runs before anything is evicted.
    beforeEvicting?.();
    for (const id of plan.evict) {
      const victim = byId.get(id);
      if (victim) this.destroy(victim, 'capacity');
    }
    return true;
  }

  private async runAdmitted(
    target: ResolvedTarget,
    options: InvokeOptions,
    payload: Buffer,
    pool: FunctionPool,
    provisioned: PooledEnvironment | undefined,
  ): Promise<InvocationResult> {
    const cfg = target.configuration;
    const requestId = options.requestId ?? newRequestId();
    const qualifier = target.qualifier ?? '$LATEST';
    const labels = { function: target.functionName, qualifier };

    let member = provisioned ?? pool.takeIdle('on-demand');
    let coldStart = false;
    let coldStartReason: string | undefined;
    let initDurationMs: number | undefined;
    let log = '';

    if (!member) {
      coldStart = true;
      coldStartReason = pool.count() === 0 ? 'no-environment' : 'all-environments-busy';
      // Capacity is planned first so a host-capacity throttle spends no scaling-rate token, and the
      // token is taken before evicting so a rate throttle evicts nothing.
      if (!this.makeRoom(cfg.MemorySize, () => this.takeScalingToken(target.functionName))) {
        this.throttle(target.functionName, ThrottleReason.HostCapacity);
      }
      member = this.createEnvironment(pool, target, 'on-demand');
      const init = await member.env.init();
      initDurationMs = init.initDurationMs;
      log += init.logs;
      this.o.metrics.coldStarts.inc(labels);
      this.o.metrics.initDuration.observe(labels, init.initDurationMs / 1000);
      if (!init.ok) {
        const error = init.error as FunctionErrorPayload;
        log += `INIT_REPORT Init Duration: ${init.initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${error.errorType}\n`;
        log += startLine(requestId, target.version) + endLine(requestId);
        log += reportLine({
          requestId,
          durationMs: 0,
          billedDurationMs: billedDurationMs(init.initDurationMs),
          memorySizeMb: cfg.MemorySize,
          maxMemoryUsedMb: 0,
          initDurationMs: init.initDurationMs,
          status: 'error',
          errorType: error.errorType,
          coldStartReason,
        });
        this.finish(member, 'failed', log);
        this.o.metrics.invocations.inc(labels);
        this.o.metrics.errors.inc({ ...labels, type: error.errorType });
        return {
          requestId,
          executedVersion: target.version,
          payload: Buffer.from(JSON.stringify(error)),
          functionError: error.errorType,
          log,
          coldStart,
          coldStartReason,
          durationMs: 0,
          initDurationMs,
        };
      }
      member.state = 'busy';
    }

    this.provisioned?.recordInvocation(target, member.kind);
    const request = {
      requestId,
      payload,
      invokedFunctionArn: target.invokedFunctionArn,
      deadlineMs: wallClock.now() + cfg.Timeout * 1000,
      ...(options.clientContext !== undefined ? { clientContext: options.clientContext } : {}),
    };
    let outcome: InvokeOutcome;
    try {
      outcome = await member.env.invoke(request);
    } catch (err) {
      // Environments report failures as outcomes; a rejection is a platform fault, contained here.
      outcome = {
        status: 'crash',
        payload: Buffer.from(
          JSON.stringify({ errorType: 'Runtime.Unknown', errorMessage: `RequestId: ${requestId} Error: ${(err as Error).message}` }),
        ),
        errorType: 'Runtime.Unknown',
        durationMs: 0,
        maxMemoryUsedMb: 0,
        logs: '',
        environmentDead: true,
      };
    }
    member.invocations++;

    if (outcome.status === 'success' && outcome.payload.length > MAX_RESPONSE_BYTES) {
      outcome = {
        ...outcome,
        status: 'error',
        errorType: 'Function.ResponseSizeTooLarge',
        payload: Buffer.from(
          JSON.stringify({
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
          }),
        ),
      };
    }

    log += startLine(requestId, target.version) + outcome.logs;
    if (outcome.status === 'timeout') log += timeoutLine(new Date(this.o.clock.now()), requestId, cfg.Timeout);
    const billed = billedDurationMs(outcome.durationMs);
    log += endLine(requestId);
    log += reportLine({
      requestId,
      durationMs: outcome.durationMs,
      billedDurationMs: billed,
      memorySizeMb: cfg.MemorySize,
      maxMemoryUsedMb: outcome.maxMemoryUsedMb,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      ...(outcome.status === 'timeout' ? { status: 'timeout' as const } : {}),
      ...(outcome.status === 'crash' ? { status: 'error' as const, errorType: outcome.errorType } : {}),
      ...(coldStartReason ? { coldStartReason } : {}),
    });
    this.finish(member, outcome.environmentDead ? 'failed' : undefined, log);

    this.o.metrics.invocations.inc(labels);
    this.o.metrics.observeDuration(labels, outcome.durationMs / 1000, requestId);
    this.o.metrics.billedDuration.inc({ function: target.functionName }, billed / 1000);
    this.o.metrics.billedGigabyteSeconds.inc({ function: target.functionName }, (cfg.MemorySize / 1024) * (billed / 1000));
    if (outcome.status !== 'success') this.o.metrics.errors.inc({ ...labels, type: outcome.errorType ?? 'Unhandled' });

    return {
      requestId,
      executedVersion: target.version,
      payload: outcome.payload,
      ...(outcome.status !== 'success' ? { functionError: outcome.errorType ?? 'Unhandled' } : {}),
      log,
      coldStart,
      ...(coldStartReason ? { coldStartReason } : {}),
      durationMs: outcome.durationMs,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
    };
  }

  /** The function's reserved concurrency, if any. */
  reservation(functionName: string): number | undefined {
    return this.o.ledger.reserved.get(functionName);
  }

  /** Writes a provisioned environment's Init output to its log stream. */
  appendInitLog(member: PooledEnvironment, logs: string, initDurationMs: number): void {
    const spec = member.env.spec;
    this.o.logs.append(
      spec.functionName,
      spec.logStreamName,
      `INIT_START Runtime Version: ${spec.runtime}\tInitialization Type: provisioned-concurrency\n${logs}INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\n`,
    );
  }

  /** The pool of `target`'s version with its current configuration. */
  pool(target: ResolvedTarget): FunctionPool {
    return this.poolFor(target);
  }

  /** Creates (not yet initialised) an environment of `kind` in `pool`. */
  createEnvironment(pool: FunctionPool, target: ResolvedTarget, kind: EnvironmentKind): PooledEnvironment {
    const cfg = target.configuration;
    const id = `env-${++this.envSeq}-${streamSuffix().slice(0, 8)}`;
    const day = new Date(this.o.clock.now()).toISOString().slice(0, 10).replace(/-/g, '/');
    const spec: EnvironmentSpec = {
      functionName: target.functionName,
      version: target.version,
      runtime: cfg.Runtime,
      handler: cfg.Handler,
      codeDir: target.codeDir,
      memoryMb: cfg.MemorySize,
      timeoutSeconds: cfg.Timeout,
      variables: { ...(cfg.Environment?.Variables ?? {}) },
      initializationType: kind === 'provisioned' ? 'provisioned-concurrency' : 'on-demand',
      region: this.o.partition.region,
      accountId: this.o.partition.accountId,
      logGroupName: cfg.LoggingConfig.LogGroup,
      logStreamName: `${day}/[${target.version}]${streamSuffix()}`,
      tmpDir: join(this.o.tmpRoot, id),
      layerDirs: target.layerDirs,
      ephemeralStorageMb: cfg.EphemeralStorage.Size,
      isolation: target.isolation ?? this.o.isolation ?? 'thread',
      ...(this.o.logBytesPerInvocation !== undefined ? { logBytesPerInvocation: this.o.logBytesPerInvocation } : {}),
    };
    return pool.add(this.o.factory(id, spec), kind, this.o.clock.now());
  }

  /** Writes the log, then returns the environment to its pool or destroys it (`failed` when it died). */
  private finish(member: PooledEnvironment, failed: 'failed' | undefined, log: string): void {
    const spec = member.env.spec;
    this.o.logs.append(spec.functionName, spec.logStreamName, log);
    if (failed || member.pool.retired || member.retiring || this.closing) {
      this.destroy(member, failed ?? (this.closing ? 'shutdown' : 'retired'));
      // A provisioned environment that died, or whose pool was retired (its isolation changed),
      // is replaced; one its config let go (`retiring`) is no longer counted and is not.
      if (member.kind === 'provisioned' && !this.closing) this.provisioned?.replace(member);
      return;
    }
    member.state = 'idle';
    member.lastUsedAt = this.o.clock.now();
    // Provisioned environments are pinned: never reaped for idleness, never evicted.
    if (member.kind === 'provisioned') return;
    member.idleTimer = this.o.clock.setTimeout(
      () => this.destroy(member, 'idle-timeout'),
      this.o.environmentIdleTimeoutSeconds * 1000,
    );
  }

  allMembers(): PooledEnvironment[] {
    return [...this.pools.values(), ...this.retiredPools].flatMap((p) => [...p.members]);
  }

  destroy(member: PooledEnvironment, reason: EvictionReason): void {
    const pool = member.pool;
    if (!pool.members.has(member)) return;
    this.o.metrics.evictions.inc({ function: pool.functionName, reason });
    pool.remove(member);
    this.o.logs.closeStream(member.env.spec.functionName, member.env.spec.logStreamName);
    if (pool.retired && pool.count() === 0) this.retiredPools.delete(pool);
    void member.env.destroy();
  }

  private retire(pool: FunctionPool): void {
    pool.retired = true;
    this.pools.delete(`${pool.functionName}\u0000${pool.version}`);
    for (const m of [...pool.members]) {
      if (m.state !== 'idle') continue;
      this.destroy(m, 'retired');
      // Provisioned environments are re-created in the version's new pool (none remain once
      // the function or version is deleted: provisioned concurrency forgets those first). Later,
      // not now: retire runs inside poolFor, which is about to install the new pool itself.
      if (m.kind === 'provisioned' && !this.closing) queueMicrotask(() => this.provisioned?.replace(m));
    }
    if (pool.count() > 0) this.retiredPools.add(pool);
  }

  /** Retires every environment of a function (all versions), e.g. after DeleteFunction. */
  retireFunction(functionName: string, version?: string): void {
    if (version === undefined || version === '$LATEST') this.knownFunctions.delete(functionName);
    for (const pool of [...this.pools.values()]) {
      if (pool.functionName === functionName && (version === undefined || pool.version === version)) this.retire(pool);
    }
  }

  /** What the gauges show at scrape time: concurrency from the ledger, environments from the pools. */
  snapshot(): SchedulerSnapshot {
    const ledger = this.o.ledger;
    const counts = new Map<string, { functionName: string; state: string; kind: string; count: number }>();
    for (const m of this.allMembers()) {
      const key = `${m.pool.functionName}\u0000${m.state}\u0000${m.kind}`;
      const entry = counts.get(key) ?? { functionName: m.pool.functionName, state: m.state, kind: m.kind, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
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
      environments: [...counts.values()],
    };
  }

  /**
   * Stops taking work, lets in-flight invocations finish for up to `graceMs`, then destroys
   * every environment.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    const drained = Promise.allSettled([...this.inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    const all = this.allMembers();
    this.pools.clear();
    this.retiredPools.clear();
    await Promise.allSettled(all.map((m) => m.env.destroy()));
  }
}

const stamps = new WeakMap<ResolvedTarget, string>();

/** The fields that, when changed, make existing environments stale (memoized: targets are cached by the registry). */
function configStamp(t: ResolvedTarget): string {
  let stamp = stamps.get(t);
  if (stamp === undefined) {
    const c = t.configuration;
    // The isolation tag too: environments of the old kind must not keep serving after it changes.
    stamp = JSON.stringify([c.CodeSha256, c.Handler, c.Runtime, c.MemorySize, c.Timeout, c.Environment?.Variables ?? {}, t.codeDir, t.isolation ?? null]);
    stamps.set(t, stamp);
  }
  return stamp;
}

const throttles = new Map<ThrottleReason, TooManyRequestsException>();

/**
 * One immutable exception per reason for the common Retry-After of 1 s: a throttle must cost far
 * less than an invocation, and capturing a stack per 429 was the largest part of its cost.
 */
function sharedThrottle(reason: ThrottleReason): TooManyRequestsException {
  let err = throttles.get(reason);
  if (!err) {
    err = Object.freeze(new TooManyRequestsException(throttleMessage(reason), reason, 1));
    throttles.set(reason, err);
  }
  return err;
}
