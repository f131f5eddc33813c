/**
 * Which nodes of a cluster count as live. Pure: the heartbeat times and `now` come from Redis's
 * own clock (see membership.ts), so nodes whose clocks disagree still agree on who is live.
 */

/** A node's last heartbeat, in milliseconds since the epoch (its score in the members set). */
export interface Heartbeat {
  id: string;
  lastSeenMs: number;
}

/**
 * The nodes whose last heartbeat is at most `leaseMs` old at `nowMs`, sorted by id. A heartbeat
 * stamped after `nowMs` (read in the same instant by another connection) is live: its age is zero.
 */
export function liveNodes(heartbeats: readonly Heartbeat[], nowMs: number, leaseMs: number): Heartbeat[] {
  return heartbeats.filter((h) => Number.isFinite(h.lastSeenMs) && nowMs - h.lastSeenMs <= leaseMs).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Heartbeats older than this are removed from Redis: long dead, and no longer worth listing. */
export function retentionMs(leaseMs: number): number {
  return 10 * leaseMs;
}

/** How often a node renews its heartbeat: three beats per lease, so one lost beat never drops it. */
export function heartbeatIntervalMs(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / 3));
}
