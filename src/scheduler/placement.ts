/**
 * Host capacity: which idle environments to evict so a new one fits the memory budget. Pure: the
 * caller passes what exists and commits the plan.
 */

export interface CapacityCandidate {
  id: string;
  memoryMb: number;
  /** Only idle on-demand environments may be evicted. */
  evictable: boolean;
  lastUsedAt: number;
}

export type CapacityPlan = { ok: true; evict: string[] } | { ok: false };

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
