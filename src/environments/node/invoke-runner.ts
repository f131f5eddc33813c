/**
 * Runs one invocation of a user handler with the Node.js programming model (RIC `Runtime.js`,
 * `CallbackContext.js`, `InvokeContext.js`): promises, callbacks with
 * callbackWaitsForEmptyEventLoop, legacy context.succeed/fail/done, and sync return values.
 * It never throws: the outcome is data. Serializing and logging the outcome is the caller's job.
 */
import type { FunctionErrorPayload } from '../environment.js';
import type { UserHandler } from './handler-loader.js';
import { buildContext, type InvocationFlags } from './invoke-context.js';
import type { BootstrapConfig, InvokeTask } from './protocol.js';

export type HandlerOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/**
 * Where the runtime's fatal-error handlers (installed once) end the invocation in flight: while a
 * handler runs, `run` is its run, and `endFatal` settles its outcome with `fatal` instead, once,
 * as any other completion.
 */
export interface FatalHook {
  run: { endFatal(fatal: FunctionErrorPayload): void } | undefined;
}

/** An outcome ended by an uncaught exception or unhandled rejection, already in Lambda's error shape. */
export interface FatalOutcome {
  ok: false;
  fatal: FunctionErrorPayload;
}

/** Counts of the resources keeping the event loop alive, by type (`Timeout`, `TCPWrap`, …). */
export type ResourceCounts = Map<string, number>;

export function countResources(names: string[] = process.getActiveResourcesInfo()): ResourceCounts {
  const counts: ResourceCounts = new Map();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** True when nothing beyond what was alive before the handler started keeps the loop busy. */
export function isDrained(baseline: ResourceCounts, now: ResourceCounts = countResources()): boolean {
  for (const [name, count] of now) if (count > (baseline.get(name) ?? 0)) return false;
  return true;
}

export interface RunOptions {
  /** How often to look at the event loop while waiting for it to empty. */
  pollMs?: number;
  /** Source of live resource names; injectable because a test host has timers of its own. */
  activeResources?: () => string[];
  /** Set to end this invocation with a fatal error while it runs (see FatalHook). */
  fatal?: FatalHook;
}

/** `async function` handlers always return a promise: their outcome never depends on the event loop. */
const AsyncFunction = Object.getPrototypeOf(async () => undefined) as { constructor: unknown };

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && Object.getPrototypeOf(fn) === AsyncFunction;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const liveResources = (): string[] => process.getActiveResourcesInfo();

/**
 * Resolves with the first completion: callback, succeed/fail/done, the returned promise, a sync
 * return value (handlers with fewer than 3 parameters, as Node 24's runtime does), or, when
 * nothing reports, `null` once the event loop has emptied (the old runtime's beforeExit default).
 * A callback success with callbackWaitsForEmptyEventLoop waits for the loop to empty first; the
 * environment's deadline bounds that wait. "Empty" is approximated by resource counts per type
 * against those alive when the handler started, so a timer frozen by an earlier invocation that
 * fires during this one can hide a new timer of the same type and end the wait early.
 */
export function runHandler(handler: UserHandler, task: InvokeTask, config: BootstrapConfig, options: RunOptions & { fatal: FatalHook }): Promise<HandlerOutcome | FatalOutcome>;
export function runHandler(handler: UserHandler, task: InvokeTask, config: BootstrapConfig, options?: RunOptions): Promise<HandlerOutcome>;
export function runHandler(handler: UserHandler, task: InvokeTask, config: BootstrapConfig, options: RunOptions = {}): Promise<HandlerOutcome | FatalOutcome> {
  const activeResources = options.activeResources ?? liveResources;
  // The resources alive before the handler runs matter only to a handler that may end with an
  // empty event loop (callbacks, or no result at all); an async function's promise is its outcome.
  const baseline = isAsyncFunction(handler) ? undefined : countResources(activeResources());
  const run = new HandlerRun(task.deadlineMs, options.pollMs ?? 2, activeResources, baseline, options.fatal);
  run.start(handler, task, config);
  return run.promise;
}

/** The poller, a plain function with the run as its argument: no closure per invocation. */
function pollRun(run: HandlerRun): void {
  run.poll();
}

/**
 * One invocation's completion. A class rather than closures in a promise executor: the runtime
 * runs in an isolate of its own per environment, which at ~30 invocations a second per
 * environment V8 does not optimise, and there every closure is an allocation on a slow path.
 * What the handler can hold (the callback and the context's methods) are the only closures.
 */
class HandlerRun {
  readonly promise: Promise<HandlerOutcome | FatalOutcome>;
  readonly flags: InvocationFlags = { waitForEmptyEventLoop: true };
  // Set by the promise's executor, which runs before the constructor returns.
  private resolvePromise!: (outcome: HandlerOutcome | FatalOutcome) => void;
  private settled = false;
  /** The callback or succeed/fail/done has been called (only the first call counts). */
  private called = false;
  /** A callback's success, waiting for the event loop to empty. */
  private afterDrain: HandlerOutcome | undefined;
  private watching = false;

  constructor(
    private readonly deadlineMs: number,
    private readonly pollMs: number,
    private readonly activeResources: () => string[],
    private readonly baseline: ResourceCounts | undefined,
    private readonly fatal: FatalHook | undefined,
  ) {
    this.promise = new Promise((resolve) => {
      this.resolvePromise = resolve;
    });
    if (fatal) fatal.run = this;
  }

  endFatal(payload: FunctionErrorPayload): void {
    this.settle({ ok: false, fatal: payload });
  }

  readonly callback = (err?: unknown, result?: unknown): void => {
    if (this.called) return;
    this.called = true;
    if (err !== undefined && err !== null) return this.settle({ ok: false, error: err });
    if (!this.flags.waitForEmptyEventLoop) return this.settle({ ok: true, result });
    this.afterDrain = { ok: true, result };
    this.watchDrain();
  };

  readonly done = (err?: unknown, result?: unknown): void => {
    if (this.called) return;
    this.called = true;
    this.settle(err !== undefined && err !== null ? { ok: false, error: err } : { ok: true, result });
  };

  readonly succeed = (result?: unknown): void => this.done(null, result);

  /** `fail()` with nothing reports the string 'handled', as the RIC does. */
  readonly fail = (err?: unknown): void => this.done(err === undefined || err === null ? 'handled' : err, null);

  readonly getRemainingTimeInMillis = (): number => this.deadlineMs - Date.now();

  start(handler: UserHandler, task: InvokeTask, config: BootstrapConfig): void {
    let result: unknown;
    try {
      const event = JSON.parse(task.payload) as unknown;
      // The run carries the context's methods itself: no object of methods per invocation.
      const context = buildContext(task, config, this.flags, this);
      result = handler(event, context, this.callback);
    } catch (err) {
      this.callback(err);
      return;
    }
    if (isThenable(result)) {
      result.then(this.succeed, this.fail);
      return;
    }
    if (handler.length < 3 && result !== undefined) {
      this.succeed(result);
      return;
    }
    this.watchDrain();
  }

  /**
   * Looks at the event loop while waiting for it to empty. The poller's timer is unref'd: ref'd
   * timers count as live resources (the one running its callback included), so a ref'd poller
   * would always see itself.
   */
  poll(): void {
    if (this.settled) return;
    // Without a baseline (an async function that also called its callback) there is nothing to wait for.
    if (this.baseline === undefined || isDrained(this.baseline, countResources(this.activeResources()))) {
      if (this.afterDrain) return this.settle(this.afterDrain);
      if (!this.called) {
        this.called = true;
        return this.settle({ ok: true, result: null });
      }
    }
    setTimeout(pollRun, this.pollMs, this).unref();
  }

  private watchDrain(): void {
    if (this.watching) return;
    this.watching = true;
    setTimeout(pollRun, 0, this).unref();
  }

  private settle(outcome: HandlerOutcome | FatalOutcome): void {
    if (this.settled) return;
    this.settled = true;
    if (this.fatal?.run === this) this.fatal.run = undefined;
    this.resolvePromise(outcome);
  }
}
