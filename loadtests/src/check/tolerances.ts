/**
 * How far each ratio may move before perf:check calls it a regression. The machines are shared
 * and noisy (2 cores, other jobs), so the slack is wide: perf:check is there to catch a change
 * that makes the invoke path clearly slower, not a 10% drift. A baseline file may override any
 * entry (same keys) after someone has watched the noise on their own CI machine.
 *
 * Keys are exact metric names or globs where `*` matches within one dot-separated segment.
 */
import type { Tolerance } from './compare.js';

export const DEFAULT_TOLERANCES: Readonly<Record<string, Tolerance>> = {
  // Throughput relative to a floor: a drop of more than 30% (plus 0.02) is a regression.
  '*.*.rps_vs_*': { better: 'higher', relative: 0.3, absolute: 0.02 },
  // Tail latency relative to a floor: p99 is the noisiest figure on a shared machine, so only a
  // doubling (plus 0.5) fails.
  '*.*.p99_vs_*': { better: 'lower', relative: 1, absolute: 0.5 },
  // The mixed workload's throughput is a few % of the floor: slack relative to that.
  'mixed.*.rps_vs_*': { better: 'higher', relative: 0.4, absolute: 0.002 },
  // Throttles must stay cheap, beside thread and sandboxed process environments alike.
  'throttle.throttle_rps_vs_echo*': { better: 'higher', relative: 0.3, absolute: 0.02 },
  'throttle.throttle_p99_vs_echo*': { better: 'lower', relative: 1, absolute: 0.5 },
  // Reserved concurrency admits R / duration per second: 1 is right; drifting away from 1 either
  // way is a regression (more than 1 would mean the reservation leaks).
  'throttle.admitted_vs_expected*': { better: 'closer', target: 1, relative: 0, absolute: 0.15 },
  // Cold starts relative to a raw worker + import measured in the same run.
  'cold.latency_vs_raw': { better: 'lower', relative: 0.5, absolute: 0.25 },
  'cold.init_vs_raw': { better: 'lower', relative: 0.5, absolute: 0.25 },
  // Each kind of environment against its own floor; warm figures as the other scenarios'.
  'kinds.*.cold_vs_floor': { better: 'lower', relative: 0.5, absolute: 0.25 },
  'kinds.*.init_vs_floor': { better: 'lower', relative: 0.5, absolute: 0.25 },
  'kinds.*.rss_vs_floor': { better: 'lower', relative: 0.5, absolute: 0.25 },
  'kinds.sandboxed.cold_vs_unsandboxed': { better: 'lower', relative: 0.5, absolute: 0.25 },
  'kinds.*.*.rps_vs_*': { better: 'higher', relative: 0.3, absolute: 0.02 },
  'kinds.*.*.p99_vs_*': { better: 'lower', relative: 1, absolute: 0.5 },
  // CPU per request against a floor's: the budget of the invoke path on each side.
  'kinds.*.*.cpu_main_vs_echo': { better: 'lower', relative: 0.5, absolute: 0.25 },
  'kinds.*.*.cpu_env_vs_floor': { better: 'lower', relative: 0.5, absolute: 0.25 },
  // Fractions (0..1): absolute slack.
  'mixed.cold_start_fraction': { better: 'lower', relative: 0, absolute: 0.1 },
  'mixed.throttle_fraction': { better: 'lower', relative: 0, absolute: 0.1 },
  'provisioned.cold_start_fraction': { better: 'lower', relative: 0, absolute: 0.02 },
  // Worst latency on the provisioned alias over the on-demand one's (which includes cold starts).
  'provisioned.max_latency_vs_ondemand': { better: 'lower', relative: 0.75, absolute: 0.25 },
  'async.drain_rps_vs_piscina': { better: 'higher', relative: 0.4, absolute: 0.002 },
  // 202s per second against the echo: each accept is a queue commit, batched per event-loop turn.
  'async.accept_rps_vs_echo': { better: 'higher', relative: 0.4, absolute: 0.02 },
  'autoscale.capacity_vs_expected': { better: 'closer', target: 1, relative: 0, absolute: 0.35 },
};

/** For a ratio nobody listed: two-sided and wide, so it is reported but rarely fails. */
export const FALLBACK_TOLERANCE: Tolerance = { better: 'closer', relative: 0.5, absolute: 0.1 };
