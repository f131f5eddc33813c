/** Load runs repeated and reduced to figures: each number is the median of the runs, with its spread. */
import type { LoadRun, Percentiles, TimelinePoint } from './load.js';
import { statOf, type Stat } from './stats.js';

export interface LoadFigure {
  connections: number;
  reps: number;
  /** 2xx per second. */
  rps: Stat;
  /** 429 per second. */
  throttleRps: Stat;
  /** Latency of 2xx responses, ms. */
  p50: Stat;
  p90: Stat;
  p99: Stat;
  max: Stat;
  /** Latency of 429 responses, ms (NaN when there were none). */
  throttleP50: Stat;
  throttleP99: Stat;
  /** Totals over all runs. */
  ok: number;
  throttled: number;
  other: number;
  errors: number;
  timeouts: number;
  /** The timeline of the run whose rps is the median one (a representative run, not an average). */
  timeline: TimelinePoint[];
}

const pct = (pick: (p: Percentiles) => number) => (run: LoadRun) => pick(run.latency);
const tpct = (pick: (p: Percentiles) => number) => (run: LoadRun) => pick(run.throttleLatency);

export function loadFigure(runs: readonly LoadRun[]): LoadFigure {
  const rps = statOf(runs, (r) => r.rps);
  const representative = runs.find((r) => r.rps === rps.median) ?? runs[Math.floor(runs.length / 2)] ?? runs[0];
  const sum = (pick: (r: LoadRun) => number) => runs.reduce((n, r) => n + pick(r), 0);
  return {
    connections: runs[0]?.connections ?? 0,
    reps: runs.length,
    rps,
    throttleRps: statOf(runs, (r) => r.throttleRps),
    p50: statOf(runs, pct((p) => p.p50)),
    p90: statOf(runs, pct((p) => p.p90)),
    p99: statOf(runs, pct((p) => p.p99)),
    max: statOf(runs, pct((p) => p.max)),
    throttleP50: statOf(runs, tpct((p) => p.p50)),
    throttleP99: statOf(runs, tpct((p) => p.p99)),
    ok: sum((r) => r.ok),
    throttled: sum((r) => r.throttled),
    other: sum((r) => r.other),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    timeline: representative?.timeline ?? [],
  };
}
