/**
 * The life of an execution environment, whatever runs it (a thread, a process): Init once, then
 * one invocation at a time, then destruction. The transitions are a pure function so every kind
 * follows the same rules and a test can walk them without starting anything.
 *
 *   new ─init─► initializing ─ok─► ready ◄─done─┐
 *                    │                 └─invoke─► busy
 *                    └─failed─► failed      died: ready|busy|initializing ─► dead (─failed─► failed during Init)
 *   destroy: any ─► destroyed (final)
 */
import type { EnvironmentSpec } from './environment.js';

export type EnvironmentState = 'new' | 'initializing' | 'ready' | 'busy' | 'failed' | 'dead' | 'destroyed';

export type LifecycleEvent = 'init' | 'init-ok' | 'init-failed' | 'invoke' | 'invoke-done' | 'died' | 'destroy';

/**
 * The state after `event`, or undefined when the event is not allowed in `state` (the caller
 * answers it as "not ready" and changes nothing). A destroyed environment stays destroyed; a
 * dead or failed one never comes back, because Lambda never re-initialises an environment.
 */
export function nextState(state: EnvironmentState, event: LifecycleEvent): EnvironmentState | undefined {
  if (event === 'destroy') return 'destroyed';
  if (state === 'destroyed') return undefined;
  switch (event) {
    case 'init':
      return state === 'new' ? 'initializing' : undefined;
    case 'init-ok':
      return state === 'initializing' ? 'ready' : undefined;
    case 'init-failed':
      // A runtime that died during Init (killed at the Init bound, say) ends failed all the same.
      return state === 'initializing' || state === 'new' || state === 'dead' ? 'failed' : undefined;
    case 'invoke':
      return state === 'ready' ? 'busy' : undefined;
    case 'invoke-done':
      return state === 'busy' ? 'ready' : undefined;
    case 'died':
      return state === 'failed' ? 'failed' : 'dead';
  }
}

/** One environment's current state, changed only through `nextState`: every kind holds one. */
export class Lifecycle {
  private current: EnvironmentState = 'new';

  get state(): EnvironmentState {
    return this.current;
  }

  /** Applies `event`; false (and no change) when the state does not allow it. */
  move(event: LifecycleEvent): boolean {
    const next = nextState(this.current, event);
    if (next === undefined) return false;
    this.current = next;
    return true;
  }
}

/** Lambda bounds Init at 10 s on demand and 130 s for provisioned concurrency, never below the timeout. */
export function initTimeoutMs(spec: Pick<EnvironmentSpec, 'initializationType' | 'timeoutSeconds'>): number {
  const floorSeconds = spec.initializationType === 'provisioned-concurrency' ? 130 : 10;
  return Math.max(floorSeconds, spec.timeoutSeconds) * 1000;
}

/**
 * How long an invocation may run, in real milliseconds. The deadline is computed once, by the
 * caller, as an absolute time; a caller on a test clock passes one outside (0, timeout], which
 * cannot be real time, and then the function's timeout applies in full.
 */
export function invocationBudgetMs(deadlineMs: number, timeoutSeconds: number, now: number = Date.now()): number {
  const budgetMs = timeoutSeconds * 1000;
  const untilDeadline = deadlineMs - now;
  return untilDeadline > 0 && untilDeadline <= budgetMs ? untilDeadline : budgetMs;
}
