/**
 * Runs one invocation of a user handler with the Node.js programming model (RIC `Runtime.js`,
 * `CallbackContext.js`, `InvokeContext.js`): promises, callbacks with
 * callbackWaitsForEmptyEventLoop, legacy context.succeed/fail/done, and sync return values.
 * It never throws: the outcome is data. Serializing and logging the outcome is the caller's job.
 */
import type { UserHandler } from './handler-loader.js';
import type { BootstrapConfig, InvokeTask } from './protocol.js';

export type HandlerOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

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
}

function parseJsonField(text: string | undefined, name: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${String(err)}`);
  }
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
export function runHandler(handler: UserHandler, task: InvokeTask, config: BootstrapConfig, options: RunOptions = {}): Promise<HandlerOutcome> {
  const pollMs = options.pollMs ?? 2;
  const activeResources = options.activeResources ?? (() => process.getActiveResourcesInfo());
  // The resources alive before the handler runs matter only to a handler that may end with an
  // empty event loop (callbacks, or no result at all); an async function's promise is its outcome.
  const baseline = isAsyncFunction(handler) ? undefined : countResources(activeResources());
  return new Promise((resolve) => {
    let settled = false;
    let called = false;
    let waitForEmptyEventLoop = true;
    let afterDrain: (() => void) | undefined;
    let watching = false;

    const settle = (outcome: HandlerOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
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
      if (!waitForEmptyEventLoop) return settle({ ok: true, result });
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
      // An object of own properties, methods included, as the RIC builds it: wrappers that copy
      // the context ({ ...context }) keep working methods.
      const context = {
        get callbackWaitsForEmptyEventLoop(): boolean {
          return waitForEmptyEventLoop;
        },
        set callbackWaitsForEmptyEventLoop(value: boolean) {
          waitForEmptyEventLoop = value;
        },
        succeed,
        fail: failLegacy,
        done,
        functionVersion: config.functionVersion,
        functionName: config.functionName,
        memoryLimitInMB: config.memoryLimitInMB,
        logGroupName: config.logGroupName,
        logStreamName: config.logStreamName,
        clientContext: parseJsonField(task.clientContext, 'ClientContext'),
        identity: parseJsonField(task.identity, 'CognitoIdentity'),
        invokedFunctionArn: task.invokedFunctionArn,
        awsRequestId: task.requestId,
        getRemainingTimeInMillis: (): number => task.deadlineMs - Date.now(),
      };
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
