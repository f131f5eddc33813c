import { ThrottleReason } from './admission/reasons.js';

/**
 * Placement: where an admitted invocation runs. Pure: the caller passes the candidates and a view
 * of the host, and commits the decision (takes the environment, or takes a scaling-rate token,
 * evicts and creates).
 */

export interface CapacityCandidate {
  id: string;
  memoryMb: number;
  /** Only idle on-demand environments may be evicted. */
  evictable: boolean;
  lastUsedAt: number;
}

export type CapacityPlan = { ok: true; evict: string[] } | { ok: false };

/** Every environment on the host, the memory budget, and what a new environment needs. */
export interface HostView {
  environments: readonly CapacityCandidate[];
  budgetMb: number;
  needMb: number;
}

/** The one throttle placement itself decides; admission decides the others first. */
export type PlacementThrottle = typeof ThrottleReason.HostCapacity;

export type Placement<M> =
  | { kind: 'reuse'; member: M }
  /** Create an environment after evicting `evict`; take a scaling-rate token first when `needsToken`. */
  | { kind: 'create'; evict: string[]; needsToken: boolean }
  | { kind: 'throttle'; reason: PlacementThrottle };

/** What the pool offers: its most recently used idle environment of each kind. */
export interface IdleCandidates<M> {
  provisioned?: M | undefined;
  onDemand?: M | undefined;
}

/** The fields placement reads from an environment of a pool. */
export interface IdleCandidate {
  readonly kind: 'on-demand' | 'provisioned';
  readonly state: string;
  readonly lastUsedAt: number;
  readonly retiring?: boolean | undefined;
}

/**
 * Plans room for an environment of `needMb`: nothing to do when it fits; otherwise evict idle
 * environments of any function, least recently used first, until it fits; refuse when even
 * evicting every idle one would not make room.
 */
export function planCapacity(environments: readonly CapacityCandidate[], budgetMb: number, needMb: number): CapacityPlan {
  let used = 0;
  for (const e of environments) used += e.memoryMb;
  if (used + needMb <= budgetMb) return { ok: true, evict: [] };
  const victims = environments.filter((e) => e.evictable).sort((a, b) => a.lastUsedAt - b.lastUsedAt || a.id.localeCompare(b.id));
  const evict: string[] = [];
  for (const v of victims) {
    evict.push(v.id);
    used -= v.memoryMb;
    if (used + needMb <= budgetMb) return { ok: true, evict };
  }
  return { ok: false };
}

/**
 * A new environment: room is planned first, so a host-capacity throttle spends no scaling-rate
 * token. On-demand creation is paced by the scaling rate (`needsToken`); a provisioned
 * allocation is not.
 */
export function planCreate<M>(host: HostView, needsToken: boolean): Placement<M> {
  const plan = planCapacity(host.environments, host.budgetMb, host.needMb);
  if (!plan.ok) return { kind: 'throttle', reason: ThrottleReason.HostCapacity };
  return { kind: 'create', evict: plan.evict, needsToken };
}

/**
 * An idle provisioned environment first (its capacity was claimed when it was allocated), then
 * the most recently used idle on-demand one, else a new on-demand environment. The host view is
 * read only when a new environment is needed: building it walks every environment.
 */
export function place<M>(idle: IdleCandidates<M>, host: () => HostView): Placement<M> {
  if (idle.provisioned !== undefined) return { kind: 'reuse', member: idle.provisioned };
  if (idle.onDemand !== undefined) return { kind: 'reuse', member: idle.onDemand };
  return planCreate(host(), true);
}

/**
 * The most recently used idle environment of `kind` that is not retiring, so older on-demand
 * ones age out under keep-alive. Among equals the first in `members` wins.
 */
export function mostRecentlyUsed<M extends IdleCandidate>(members: Iterable<M>, kind: M['kind']): M | undefined {
  let best: M | undefined;
  for (const m of members) {
    if (m.kind === kind && m.state === 'idle' && !m.retiring && (!best || m.lastUsedAt > best.lastUsedAt)) best = m;
  }
  return best;
}
