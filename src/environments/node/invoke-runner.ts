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
 * handler runs, `end` settles its outcome with `fatal` instead, once, as any other completion.
 */
export interface FatalHook {
  end: ((fatal: FunctionErrorPayload) => void) | undefined;
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
  const pollMs = options.pollMs ?? 2;
  const activeResources = options.activeResources ?? (() => process.getActiveResourcesInfo());
  // The resources alive before the handler runs matter only to a handler that may end with an
  // empty event loop (callbacks, or no result at all); an async function's promise is its outcome.
  const baseline = isAsyncFunction(handler) ? undefined : countResources(activeResources());
  return new Promise<HandlerOutcome | FatalOutcome>((resolve) => {
    let settled = false;
    let called = false;
    const flags: InvocationFlags = { waitForEmptyEventLoop: true };
    let afterDrain: (() => void) | undefined;
    let watching = false;

    const settle = (outcome: HandlerOutcome | FatalOutcome): void => {
      if (settled) return;
      settled = true;
      if (options.fatal) options.fatal.end = undefined;
      resolve(outcome);
    };
    if (options.fatal) options.fatal.end = (fatal) => settle({ ok: false, fatal });
    // The poller's timer is unref'd: ref'd timers count as live resources (the one running its
    // callback included), so a ref'd poller would always see itself.
    const poll = (): void => {
      if (settled) return;
      // Without a baseline (an async function that also called its callback) there is nothing to wait for.
      if (baseline === undefined || isDrained(baseline, countResources(activeResources()))) {
        if (afterDrain) return afterDrain();
        if (!called) {
          called = true;
          return settle({ ok: true, result: null });
        }
      }
      setTimeout(poll, pollMs).unref();
    };
    const watchDrain = (): void => {
      if (watching) return;
      watching = true;
      setTimeout(poll, 0).unref();
    };
    const firstCallOnly =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (called) return;
        called = true;
        fn(...args);
      };

    const fail = (error: unknown): void => settle({ ok: false, error });
    const callback = firstCallOnly((err?: unknown, result?: unknown) => {
      if (err !== undefined && err !== null) return fail(err);
      if (!flags.waitForEmptyEventLoop) return settle({ ok: true, result });
      afterDrain = () => settle({ ok: true, result });
      watchDrain();
    });
    const done = firstCallOnly((err?: unknown, result?: unknown) => {
      if (err !== undefined && err !== null) fail(err);
      else settle({ ok: true, result });
    });
    const succeed = (result?: unknown): void => done(null, result);
    // `fail()` with nothing reports the string 'handled', as the RIC does.
    const failLegacy = (err?: unknown): void => done(err === undefined || err === null ? 'handled' : err, null);

    let result: unknown;
    try {
      const event = JSON.parse(task.payload) as unknown;
      const getRemainingTimeInMillis = (): number => task.deadlineMs - Date.now();
      const context = buildContext(task, config, flags, { succeed, fail: failLegacy, done, getRemainingTimeInMillis });
      result = handler(event, context, callback);
    } catch (err) {
      callback(err);
      return;
    }
    if (isThenable(result)) {
      result.then(succeed, failLegacy);
      return;
    }
    if (handler.length < 3 && result !== undefined) {
      succeed(result);
      return;
    }
    watchDrain();
  });
}
