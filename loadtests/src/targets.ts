/**
 * The performance goals of the issue, stated against ratios so they hold on any machine. A goal
 * whose ratio was not measured (scenario skipped, other connection count) says so.
 */

export interface Target {
  id: string;
  description: string;
  /** The ratio key in results.ratios. */
  ratio: string;
  /** The ratio must be at least (`min`) or at most (`max`) the goal. */
  bound: 'min' | 'max';
  goal: number;
}

export interface TargetVerdict extends Target {
  value?: number;
  status: 'met' | 'missed' | 'not measured';
  /** How far from the goal, as a fraction of the goal (negative = short of it). */
  margin?: number;
}

export const TARGETS: readonly Target[] = [
  { id: 'warm-rps', description: 'warm @100: req/s ≥ 85% of Fastify + piscina', ratio: 'warm.c100.rps_vs_piscina', bound: 'min', goal: 0.85 },
  { id: 'warm-p99', description: 'warm @100: p99 ≤ 1.5× Fastify + piscina', ratio: 'warm.c100.p99_vs_piscina', bound: 'max', goal: 1.5 },
  { id: 'cluster-redis1-rps', description: "cluster: one node on Redis keeps ≥ 0.7× the embedded node's req/s", ratio: 'cluster.redis1_rps_vs_embedded', bound: 'min', goal: 0.7 },
  { id: 'throttle-rate', description: 'throttle @100: 429/s ≥ 80% of Fastify echo req/s', ratio: 'throttle.throttle_rps_vs_echo', bound: 'min', goal: 0.8 },
  {
    id: 'throttle-rate-sandboxed',
    description: 'throttle @100, admitted invocations in sandboxed processes: 429/s ≥ 80% of Fastify echo req/s',
    ratio: 'throttle.throttle_rps_vs_echo_sandboxed',
    bound: 'min',
    goal: 0.8,
  },
  { id: 'cold-start', description: 'cold start ≤ 1.5× raw new Worker + import + first call', ratio: 'cold.latency_vs_raw', bound: 'max', goal: 1.5 },
  {
    id: 'sandbox-cold-start',
    description: 'sandboxed process: cold start ≤ 1.3× raw bwrap + node (same heap flag) answering one Runtime API request',
    ratio: 'kinds.sandboxed.cold_vs_floor',
    bound: 'max',
    goal: 1.3,
  },
  {
    id: 'sandbox-warm',
    description: 'sandboxed process: warm req/s ≥ 0.9× unsandboxed process, run by run',
    ratio: 'kinds.sandboxed.c10.rps_vs_unsandboxed',
    bound: 'min',
    goal: 0.9,
  },
  // P12: each kind of environment against the floor of its kind (one backend per request in
  // flight, as Lambda runs one invocation per environment), at 100 connections.
  { id: 'thread-c100-rps', description: 'thread @100: req/s ≥ 0.85× a piscina pool per request in flight', ratio: 'kinds.thread.c100.rps_vs_piscina-each', bound: 'min', goal: 0.85 },
  { id: 'thread-c100-p99', description: 'thread @100: p99 ≤ 1.5× a piscina pool per request in flight', ratio: 'kinds.thread.c100.p99_vs_piscina-each', bound: 'max', goal: 1.5 },
  { id: 'thread-c100-echo', description: 'thread @100: req/s ≥ 0.28× the Fastify echo', ratio: 'kinds.thread.c100.rps_vs_echo', bound: 'min', goal: 0.28 },
  { id: 'sandboxed-c100-rps', description: 'sandboxed process @100: req/s ≥ 0.85× a sandboxed child process per request', ratio: 'kinds.sandboxed.c100.rps_vs_sandboxed-processes', bound: 'min', goal: 0.85 },
  { id: 'sandboxed-c100-p99', description: 'sandboxed process @100: p99 ≤ 1.5× a sandboxed child process per request', ratio: 'kinds.sandboxed.c100.p99_vs_sandboxed-processes', bound: 'max', goal: 1.5 },
  { id: 'sandboxed-c100-echo', description: 'sandboxed process @100: req/s ≥ 0.25× the Fastify echo', ratio: 'kinds.sandboxed.c100.rps_vs_echo', bound: 'min', goal: 0.25 },
  { id: 'custom-c100-rps', description: 'custom runtime @100: req/s ≥ 0.85× the same bootstrap on a bare Runtime API', ratio: 'kinds.custom.c100.rps_vs_runtime-api', bound: 'min', goal: 0.85 },
  { id: 'custom-c100-p99', description: 'custom runtime @100: p99 ≤ 1.5× the same bootstrap on a bare Runtime API', ratio: 'kinds.custom.c100.p99_vs_runtime-api', bound: 'max', goal: 1.5 },
  { id: 'thread-c100-cpu-main', description: "thread @100: main-thread CPU per invoke ≤ 2× the echo's", ratio: 'kinds.thread.c100.cpu_main_vs_echo', bound: 'max', goal: 2 },
];

export function evaluateTargets(ratios: Readonly<Record<string, number>>, targets: readonly Target[] = TARGETS): TargetVerdict[] {
  return targets.map((t) => {
    const value = ratios[t.ratio];
    if (value === undefined) return { ...t, status: 'not measured' };
    const met = t.bound === 'min' ? value >= t.goal : value <= t.goal;
    // For a floor (min) a shortfall is negative; for a ceiling (max) an excess is negative too.
    const margin = t.bound === 'min' ? value / t.goal - 1 : 1 - value / t.goal;
    return { ...t, value, status: met ? 'met' : 'missed', margin };
  });
}
