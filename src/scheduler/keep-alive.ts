/**
 * What happens to an environment when its invocation ends. Pure: the scheduler passes what it
 * knows and applies the decision (returns the environment to idle, arming its keep-alive, or
 * destroys it and has a provisioned one replaced).
 */
import type { EnvironmentKind, EvictionReason } from './function-pool.js';

export interface AfterInvocation {
  kind: EnvironmentKind;
  /** The environment cannot be reused: it crashed, timed out, ran out of memory or failed Init. */
  died: boolean;
  /** Its pool was retired: the function's code or configuration changed, or it was deleted. */
  poolRetired: boolean;
  /** Its provisioned concurrency config let it go while it was busy. */
  retiring: boolean;
  /** The server is shutting down. */
  closing: boolean;
  now: number;
  idleTimeoutMs: number;
}

export type KeepAlive =
  /** Back to idle; an on-demand environment is destroyed at `expiresAt` unless reused first. */
  | { kind: 'idle'; expiresAt?: number }
  | { kind: 'destroy'; reason: EvictionReason; replaceProvisioned: boolean };

export function keepAlive(a: AfterInvocation): KeepAlive {
  if (a.died || a.poolRetired || a.retiring || a.closing) {
    return {
      kind: 'destroy',
      reason: a.died ? 'failed' : a.closing ? 'shutdown' : 'retired',
      // A provisioned environment that died, or whose pool was retired (its isolation changed),
      // is replaced; one its config let go (`retiring`) is no longer counted and is not; nothing
      // is replaced during shutdown.
      replaceProvisioned: a.kind === 'provisioned' && !a.closing && !a.retiring,
    };
  }
  // Provisioned environments are pinned: never reaped for idleness, never evicted.
  if (a.kind === 'provisioned') return { kind: 'idle' };
  return { kind: 'idle', expiresAt: a.now + a.idleTimeoutMs };
}
