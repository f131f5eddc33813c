/** Reading Laminar's /metrics: one-off samples and a sampler that records series over time. */
import { performance } from 'node:perf_hooks';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of every series of `name` whose labels include `labels`; undefined when the metric is absent. */
export function promValue(samples: readonly PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  let found = false;
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    found = true;
    total += s.value;
  }
  return found ? total : undefined;
}

/** Whether the exposition declares a metric at all (it may have no series yet). */
export function hasMetric(text: string, name: string): boolean {
  return text.includes(`# TYPE ${name} `);
}

/**
 * The q-quantile of a Prometheus histogram, interpolated inside its bucket the way
 * histogram_quantile() does; undefined when it has no observations.
 */
export function histogramQuantile(samples: readonly PromSample[], name: string, q: number, labels: Record<string, string> = {}): number | undefined {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export interface SeriesPoint {
  t: number;
  value: number;
}

export type Probe = (samples: readonly PromSample[], text: string) => number | undefined;

export interface Sampler {
  /**
   * Stops sampling until resume(). The clock stops too, so a series covers only the sampled spans
   * (e.g. Laminar's runs, not the floor runs in between).
   */
  pause(): void;
  resume(): void;
  /** Stops sampling; resolves with one series per probe (seconds of sampled time). */
  stop(): Promise<Record<string, SeriesPoint[]>>;
}

/**
 * Scrapes every `intervalMs` and applies each probe. Scrapes are few (a handful per second) so
 * they do not disturb the load; a failed scrape is skipped, not fatal.
 */
export function startSampler(scrape: () => Promise<string>, probes: Record<string, Probe>, options: { intervalMs?: number; paused?: boolean } = {}): Sampler {
  const intervalMs = options.intervalMs ?? 250;
  let elapsedBefore = 0;
  let activeSince: number | undefined = options.paused ? undefined : performance.now();
  const clock = () => (elapsedBefore + (activeSince === undefined ? 0 : performance.now() - activeSince)) / 1000;
  const series: Record<string, SeriesPoint[]> = Object.fromEntries(Object.keys(probes).map((k) => [k, []]));
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (activeSince === undefined) return;
    try {
      const text = await scrape();
      if (activeSince === undefined) return;
      const samples = parseProm(text);
      const t = clock();
      for (const [key, probe] of Object.entries(probes)) {
        const value = probe(samples, text);
        if (value !== undefined) series[key]?.push({ t, value });
      }
    } catch {
      // The server may be saturated; a missing point is better than a failed scenario.
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const next = performance.now() + intervalMs;
      await tick();
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();
  return {
    pause() {
      if (activeSince === undefined) return;
      elapsedBefore += performance.now() - activeSince;
      activeSince = undefined;
    },
    resume() {
      activeSince ??= performance.now();
    },
    async stop() {
      stopped = true;
      await loop;
      return series;
    },
  };
}

/** A counter's samples turned into a per-second rate between consecutive points. */
export function counterRate(points: readonly SeriesPoint[]): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as SeriesPoint;
    const b = points[i] as SeriesPoint;
    if (b.t > a.t) out.push({ t: b.t, value: Math.max(0, (b.value - a.value) / (b.t - a.t)) });
  }
  return out;
}

/** Probes shared by the scenarios that watch the scheduler while load runs. */
export const schedulerProbes = (functionName?: string): Record<string, Probe> => {
  const fn: Record<string, string> = functionName ? { function: functionName } : {};
  return {
    concurrency: (s) => (functionName ? promValue(s, 'laminar_concurrent_executions', fn) ?? 0 : promValue(s, 'laminar_account_concurrent_executions')),
    environments: (s) => promValue(s, 'laminar_environments', fn) ?? 0,
    invocations: (s) => promValue(s, 'laminar_invocations_total', fn) ?? 0,
  };
};
