/**
 * The regression check as a pure function: a run's ratios + a baseline + tolerances in, one
 * verdict per metric out. No I/O, no clock, so it is unit-tested on synthetic results.
 */

export type Better = 'higher' | 'lower' | 'closer';

export interface Tolerance {
  /**
   * Which way is good. `closer`: nearer to `target` is better (a ratio that should be 1, e.g.
   * admitted / expected); without a target, any move beyond the slack is a regression.
   */
  better: Better;
  target?: number;
  /** Allowed move as a fraction of the baseline value... */
  relative: number;
  /** ...plus this much, in the ratio's own unit (keeps near-zero baselines from failing on noise). */
  absolute: number;
}

export interface Baseline {
  schema: number;
  createdAt?: string;
  /** Where the baseline was measured, for a human reading it. */
  machine?: unknown;
  ratios: Record<string, number>;
  /** Overrides of the default tolerances, by exact metric name or glob. */
  tolerances?: Record<string, Tolerance>;
}

export interface CheckInput {
  ratios: Readonly<Record<string, number>>;
  /** Scenarios that were skipped (feature not available): their metrics are not "missing". */
  skippedScenarios: readonly string[];
}

export type VerdictStatus = 'ok' | 'improved' | 'regressed' | 'missing' | 'skipped' | 'new';

export interface Verdict {
  metric: string;
  status: VerdictStatus;
  baseline?: number;
  current?: number;
  /** current / baseline - 1. */
  change?: number;
  /** The bound the current value was held to (the worst acceptable value). */
  limit?: number;
  tolerance?: Tolerance;
}

export interface CheckReport {
  ok: boolean;
  verdicts: Verdict[];
  /** Verdicts that fail the check. */
  failures: Verdict[];
}

const FAILING: ReadonlySet<VerdictStatus> = new Set(['regressed', 'missing']);

/** `*` matches any run of characters except a dot. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*');
  return new RegExp(`^${escaped}$`);
}

/**
 * The tolerance of `metric`: an exact key wins, then the most specific matching glob (fewest
 * wildcards, then longest), the baseline's overrides before the defaults.
 */
export function resolveTolerance(
  metric: string,
  overrides: Readonly<Record<string, Tolerance>> | undefined,
  defaults: Readonly<Record<string, Tolerance>>,
  fallback: Tolerance,
): Tolerance {
  for (const table of [overrides ?? {}, defaults]) {
    if (table[metric]) return table[metric];
    const globs = Object.keys(table)
      .filter((k) => k.includes('*') && globToRegExp(k).test(metric))
      .sort((a, b) => a.split('*').length - b.split('*').length || b.length - a.length);
    const best = globs[0];
    if (best !== undefined && table[best]) return table[best];
  }
  return fallback;
}

/** One metric against its baseline. */
export function judge(metric: string, baseline: number, current: number, tolerance: Tolerance): Verdict {
  const slack = tolerance.relative * Math.abs(baseline) + tolerance.absolute;
  const change = baseline === 0 ? undefined : current / baseline - 1;
  const base = { metric, baseline, current, tolerance, ...(change !== undefined ? { change } : {}) };
  switch (tolerance.better) {
    case 'higher':
      if (current < baseline - slack) return { ...base, status: 'regressed', limit: baseline - slack };
      return { ...base, status: current > baseline + slack ? 'improved' : 'ok', limit: baseline - slack };
    case 'lower':
      if (current > baseline + slack) return { ...base, status: 'regressed', limit: baseline + slack };
      return { ...base, status: current < baseline - slack ? 'improved' : 'ok', limit: baseline + slack };
    case 'closer': {
      if (tolerance.target === undefined) return { ...base, status: Math.abs(current - baseline) > slack ? 'regressed' : 'ok', limit: slack };
      // Held to the baseline's distance from the target, plus the slack.
      const was = Math.abs(baseline - tolerance.target);
      const now = Math.abs(current - tolerance.target);
      const status = now > was + slack ? 'regressed' : now < was - slack ? 'improved' : 'ok';
      return { ...base, status, limit: was + slack };
    }
  }
}

export function compareToBaseline(
  run: CheckInput,
  baseline: Baseline,
  defaults: Readonly<Record<string, Tolerance>>,
  fallback: Tolerance,
): CheckReport {
  const verdicts: Verdict[] = [];
  const skipped = new Set(run.skippedScenarios);
  for (const [metric, base] of Object.entries(baseline.ratios)) {
    const current = run.ratios[metric];
    if (current === undefined || !Number.isFinite(current)) {
      const scenario = metric.split('.')[0] ?? '';
      verdicts.push({ metric, baseline: base, status: skipped.has(scenario) ? 'skipped' : 'missing' });
      continue;
    }
    verdicts.push(judge(metric, base, current, resolveTolerance(metric, baseline.tolerances, defaults, fallback)));
  }
  for (const [metric, current] of Object.entries(run.ratios)) {
    if (!(metric in baseline.ratios)) verdicts.push({ metric, current, status: 'new' });
  }
  const failures = verdicts.filter((v) => FAILING.has(v.status));
  return { ok: failures.length === 0, verdicts, failures };
}
