/**
 * perf:check's comparison logic on synthetic results: no server, no timing. A deliberate slowdown
 * injected into otherwise baseline-identical ratios must fail the check; noise within the
 * tolerances must not.
 */
import { describe, expect, it } from 'vitest';
import { compareToBaseline, judge, resolveTolerance, type Baseline, type Tolerance } from '../../loadtests/src/check/compare.js';
import { formatCheck } from '../../loadtests/src/check/format.js';
import { DEFAULT_TOLERANCES, FALLBACK_TOLERANCE } from '../../loadtests/src/check/tolerances.js';
import { KINDS } from '../../loadtests/src/scenarios/kinds.js';

const BASELINE: Baseline = {
  schema: 1,
  ratios: {
    'warm.c10.rps_vs_piscina': 0.4,
    'warm.c100.rps_vs_piscina': 0.3,
    'warm.c100.p99_vs_piscina': 3,
    'throttle.throttle_rps_vs_echo': 0.5,
    'throttle.admitted_vs_expected': 0.95,
    'cold.latency_vs_raw': 1.4,
    'mixed.cold_start_fraction': 0.1,
    'provisioned.cold_start_fraction': 0,
  },
};

const check = (ratios: Record<string, number>, skippedScenarios: string[] = [], baseline = BASELINE) =>
  compareToBaseline({ ratios, skippedScenarios }, baseline, DEFAULT_TOLERANCES, FALLBACK_TOLERANCE);

/** The baseline with one ratio changed: a synthetic run. */
const withRatio = (metric: string, value: number) => ({ ...BASELINE.ratios, [metric]: value });

describe('perf:check comparison', () => {
  it('passes a run identical to the baseline', () => {
    const report = check({ ...BASELINE.ratios });
    expect(report.ok).toBe(true);
    expect(report.verdicts.every((v) => v.status === 'ok')).toBe(true);
  });

  it('passes noise within the tolerances', () => {
    const noisy = {
      ...BASELINE.ratios,
      'warm.c100.rps_vs_piscina': 0.3 * 0.85, // -15% throughput
      'warm.c100.p99_vs_piscina': 3 * 1.8, // +80% p99
      'cold.latency_vs_raw': 1.4 * 1.2,
      'mixed.cold_start_fraction': 0.15,
    };
    expect(check(noisy).ok).toBe(true);
  });

  it('fails when a deliberate slowdown halves warm throughput', () => {
    const report = check(withRatio('warm.c100.rps_vs_piscina', 0.15));
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => f.metric)).toEqual(['warm.c100.rps_vs_piscina']);
    expect(report.failures[0]?.status).toBe('regressed');
    expect(report.failures[0]?.change).toBeCloseTo(-0.5);
  });

  it('fails when tail latency triples', () => {
    const report = check(withRatio('warm.c100.p99_vs_piscina', 9));
    expect(report.failures.map((f) => f.metric)).toEqual(['warm.c100.p99_vs_piscina']);
  });

  it('fails when throttles get expensive or cold starts slow', () => {
    expect(check(withRatio('throttle.throttle_rps_vs_echo', 0.2)).ok).toBe(false);
    expect(check(withRatio('cold.latency_vs_raw', 3)).ok).toBe(false);
  });

  it('holds the admitted rate to its distance from 1: too many admitted is a bug too', () => {
    expect(check(withRatio('throttle.admitted_vs_expected', 1.3)).ok).toBe(false);
    expect(check(withRatio('throttle.admitted_vs_expected', 0.6)).ok).toBe(false);
    const better = check(withRatio('throttle.admitted_vs_expected', 1.0));
    expect(better.ok).toBe(true);
    expect(better.verdicts.find((v) => v.metric === 'throttle.admitted_vs_expected')?.status).toBe('ok');
    // From a worse baseline, reaching 1 is an improvement, not a move to flag.
    const fromWorse = check(withRatio('throttle.admitted_vs_expected', 1.0), [], { ...BASELINE, ratios: withRatio('throttle.admitted_vs_expected', 0.55) });
    expect(fromWorse.verdicts.find((v) => v.metric === 'throttle.admitted_vs_expected')?.status).toBe('improved');
  });

  it('uses absolute slack for fractions whose baseline is zero', () => {
    expect(check(withRatio('provisioned.cold_start_fraction', 0.01)).ok).toBe(true);
    expect(check(withRatio('provisioned.cold_start_fraction', 0.2)).ok).toBe(false);
  });

  it('reports improvements without failing', () => {
    const report = check(withRatio('warm.c100.rps_vs_piscina', 0.6));
    expect(report.ok).toBe(true);
    expect(report.verdicts.find((v) => v.metric === 'warm.c100.rps_vs_piscina')?.status).toBe('improved');
  });

  it('fails on a metric that disappeared, unless its scenario was skipped', () => {
    const { ['cold.latency_vs_raw']: _gone, ...rest } = BASELINE.ratios;
    expect(check(rest).failures.map((f) => [f.metric, f.status])).toEqual([['cold.latency_vs_raw', 'missing']]);
    const skipped = check(rest, ['cold']);
    expect(skipped.ok).toBe(true);
    expect(skipped.verdicts.find((v) => v.metric === 'cold.latency_vs_raw')?.status).toBe('skipped');
  });

  it('lists new metrics without failing', () => {
    const report = check({ ...BASELINE.ratios, 'autoscale.capacity_vs_expected': 1 });
    expect(report.ok).toBe(true);
    expect(report.verdicts.find((v) => v.metric === 'autoscale.capacity_vs_expected')?.status).toBe('new');
  });

  it('treats a non-finite ratio as missing', () => {
    expect(check(withRatio('warm.c10.rps_vs_piscina', Number.NaN)).ok).toBe(false);
  });

  it('lets the baseline override a default tolerance', () => {
    const strict: Baseline = { ...BASELINE, tolerances: { 'warm.c100.rps_vs_piscina': { better: 'higher', relative: 0.05, absolute: 0 } } };
    expect(check(withRatio('warm.c100.rps_vs_piscina', 0.27), [], strict).ok).toBe(false);
    expect(check(withRatio('warm.c100.rps_vs_piscina', 0.27)).ok).toBe(true);
  });

  it('prints what moved and why the check failed', () => {
    const text = formatCheck(check(withRatio('warm.c100.rps_vs_piscina', 0.15)), 'baseline.json');
    expect(text).toContain('REGRESSED');
    expect(text).toMatch(/moved:\n\s+regressed\s+warm\.c100\.rps_vs_piscina: 0\.30× → 0\.15× \(-50\.0%; limit ≥ 0\.19\)/);
    expect(text).toContain('perf:check FAILED: 1 of 8 metrics (warm.c100.rps_vs_piscina)');
    expect(formatCheck(check({ ...BASELINE.ratios }), 'baseline.json')).toContain('perf:check passed (8 metrics)');
  });
});

describe('tolerance rules', () => {
  const higher: Tolerance = { better: 'higher', relative: 0.25, absolute: 0 };

  it('judges each direction against relative plus absolute slack', () => {
    expect(judge('m', 1, 0.76, higher).status).toBe('ok');
    expect(judge('m', 1, 0.74, higher).status).toBe('regressed');
    expect(judge('m', 1, 1.3, higher).status).toBe('improved');
    const lower: Tolerance = { better: 'lower', relative: 0.5, absolute: 0.1 };
    expect(judge('m', 2, 3.1, lower).status).toBe('ok');
    expect(judge('m', 2, 3.2, lower).status).toBe('regressed');
    expect(judge('m', 2, 0.8, lower).status).toBe('improved');
  });

  it('resolves exact names before globs, and specific globs before general ones', () => {
    const table: Record<string, Tolerance> = {
      '*.*.rps_vs_*': higher,
      'warm.*.rps_vs_*': { ...higher, relative: 0.1 },
      'warm.c10.rps_vs_piscina': { ...higher, relative: 0.05 },
    };
    expect(resolveTolerance('warm.c10.rps_vs_piscina', undefined, table, FALLBACK_TOLERANCE).relative).toBe(0.05);
    expect(resolveTolerance('warm.c100.rps_vs_piscina', undefined, table, FALLBACK_TOLERANCE).relative).toBe(0.1);
    expect(resolveTolerance('mixed.c10.rps_vs_piscina', undefined, table, FALLBACK_TOLERANCE).relative).toBe(0.25);
    expect(resolveTolerance('something.else', undefined, table, FALLBACK_TOLERANCE)).toBe(FALLBACK_TOLERANCE);
  });

  it('has a default for every ratio the suite produces', () => {
    const produced = [
      'warm.c10.rps_vs_piscina', 'warm.c10.p99_vs_piscina', 'warm.c10.rps_vs_echo', 'warm.c10.p99_vs_echo',
      'warm.c100.rps_vs_piscina', 'warm.c100.p99_vs_piscina', 'warm.c100.rps_vs_echo', 'warm.c100.p99_vs_echo',
      'cold.latency_vs_raw', 'cold.init_vs_raw', 'throttle.throttle_rps_vs_echo', 'throttle.throttle_p99_vs_echo',
      'throttle.admitted_vs_expected', 'mixed.c10.rps_vs_piscina', 'mixed.c10.p99_vs_piscina', 'mixed.cold_start_fraction',
      'mixed.throttle_fraction', 'provisioned.cold_start_fraction', 'provisioned.max_latency_vs_ondemand',
      'async.drain_rps_vs_piscina', 'async.accept_rps_vs_echo', 'autoscale.capacity_vs_expected',
      'kinds.sandboxed.c10.rps_vs_unsandboxed', 'kinds.sandboxed.c10.p99_vs_unsandboxed', 'kinds.sandboxed.cold_vs_unsandboxed',
      ...KINDS.flatMap((k) => ['cold_vs_floor', 'init_vs_floor', 'rss_vs_floor', 'c10.rps_vs_echo', 'c10.p99_vs_echo'].map((r) => `kinds.${k.key}.${r}`)),
      ...KINDS.flatMap((k) =>
        ['c10', ...(k.at100 ? ['c100'] : [])].flatMap((c) =>
          [...k.warmFloors.flatMap((f) => [`rps_vs_${f}`, `p99_vs_${f}`]), 'cpu_main_vs_echo', 'cpu_env_vs_floor'].map((r) => `kinds.${k.key}.${c}.${r}`),
        ),
      ),
    ];
    for (const metric of produced) expect(resolveTolerance(metric, undefined, DEFAULT_TOLERANCES, FALLBACK_TOLERANCE), metric).not.toBe(FALLBACK_TOLERANCE);
  });
});
