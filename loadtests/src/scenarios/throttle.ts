/**
 * throttle: a function with reserved concurrency R whose invocations take a known time D, under
 * an offered load far above R. Two things must hold: the admitted rate is R / D (reserved
 * concurrency neither leaks nor wastes slots), and a throttle is cheap (a 429 costs about what a
 * bare HTTP answer costs, so a flood of rejected requests cannot starve the admitted ones).
 * Measured with the admitted invocations in thread environments, then in sandboxed processes
 * (the default kind); the throttle itself is decided before any environment.
 */
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { measurePaired, pairedRatio } from '../harness/measure.js';
import { parseProm, promValue, startSampler } from '../harness/prom.js';
import type { ScenarioResult } from '../harness/result.js';
import { stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const FUNCTION = 'throttled-sleep';
/** Reserved concurrency. */
export const RESERVED = 4;
/** Duration of one invocation (the sleep fixture's SLEEP_MS). */
export const SLEEP_MS = 50;
const CONNECTIONS = 100;

/** The kinds of environment the admitted invocations run in; a 429 is decided before either. */
const KINDS = [
  { key: '', label: 'thread environments', fn: FUNCTION, tags: { 'laminar:isolation': 'thread' } },
  { key: '_sandboxed', label: 'sandboxed process environments', fn: `${FUNCTION}-process`, tags: { 'laminar:isolation': 'process' } },
] as const;

type Kind = (typeof KINDS)[number];

async function measureKind(ctx: ScenarioContext, result: ScenarioResult, server: LaminarServer, kind: Kind, connections: number): Promise<void> {
  const fn = kind.fn;
  // The thread kind keeps the scenario's original names and charts, so baselines still compare.
  const first = kind === KINDS[0];
  await server.deploy(fn, 'sleep', { env: { SLEEP_MS: String(SLEEP_MS) }, tags: { ...kind.tags } });
  await server.reserveConcurrency(fn, RESERVED);
  ctx.settings.log(`  throttle at ${connections} connections, ${kind.label} (with the echo floor)`);
  const label = first ? `@${connections}` : `@${connections}, ${kind.label}`;

  const path = LaminarServer.invokePath(fn);
  let before = { sum: 0, count: 0 };
  const read = async () => {
    const s = parseProm(await server.scrape());
    return { sum: promValue(s, 'laminar_duration_seconds_sum', { function: fn }) ?? 0, count: promValue(s, 'laminar_duration_seconds_count', { function: fn }) ?? 0 };
  };
  const sampler = startSampler(
    () => server.scrape(),
    { inFlight: (s) => promValue(s, 'laminar_concurrent_executions', { function: fn }) ?? 0 },
    { paused: true },
  );
  const measured = await measurePaired({ url: server.url, path, body: '{}', connections }, ['echo'], ctx.floors, ctx.settings, {
    afterWarmup: async () => {
      before = await read();
    },
    beforeRun: () => sampler.resume(),
    afterRun: () => sampler.pause(),
  });
  const series = await sampler.stop();
  const after = await read();

  const { figure } = measured;
  const echoRuns = measured.floors.echo?.runs ?? [];
  result.loads[label] = figure;
  if (measured.floors.echo) result.floors[`Fastify echo ${label}`] = measured.floors.echo.figure;
  // A 429 is compared with the cheapest possible answer: the echo floor's 2xx, run by run.
  const throttleVsEcho = pairedRatio(measured.runs, echoRuns, (r) => r.throttleRps, (r) => r.rps);
  const p99VsEcho = pairedRatio(measured.runs, echoRuns, (r) => r.throttleLatency.p99, (r) => r.latency.p99);
  if (throttleVsEcho) {
    result.ratios[`throttle_rps_vs_echo${kind.key}`] = throttleVsEcho.median;
    result.ratioSpread[`throttle_rps_vs_echo${kind.key}`] = throttleVsEcho;
  }
  if (p99VsEcho) {
    result.ratios[`throttle_p99_vs_echo${kind.key}`] = p99VsEcho.median;
    result.ratioSpread[`throttle_p99_vs_echo${kind.key}`] = p99VsEcho;
  }

  const expected = RESERVED / (SLEEP_MS / 1000);
  const meanDurationMs = after.count > before.count ? ((after.sum - before.sum) / (after.count - before.count)) * 1000 : Number.NaN;
  const expectedMeasured = RESERVED / (meanDurationMs / 1000);
  const peak = Math.max(0, ...(series.inFlight ?? []).map((p) => p.value));
  const of = first ? '' : ` (${kind.label})`;
  result.values[`expected${kind.key}`] = { label: `expected admitted rate R / D = ${RESERVED} / ${SLEEP_MS} ms${of}`, unit: 'req/s', stat: stat([expected]) };
  const admitted = stat(figure.rps.runs.map((r) => r / expected));
  result.values[`admittedRatio${kind.key}`] = { label: `admitted / expected${of}`, unit: '×', stat: admitted };
  result.values[`meanDuration${kind.key}`] = { label: `mean handler duration (laminar_duration_seconds)${of}`, unit: 'ms', stat: stat([meanDurationMs]) };
  result.values[`admittedVsMeasured${kind.key}`] = {
    label: `admitted / (R / measured handler duration)${of}`,
    unit: '×',
    stat: stat(figure.rps.runs.map((r) => r / expectedMeasured)),
  };
  result.values[`peak${kind.key}`] = { label: `peak in-flight (sampled)${of}`, unit: '', stat: stat([peak]) };
  result.ratios[`admitted_vs_expected${kind.key}`] = figure.rps.median / expected;
  result.ratioSpread[`admitted_vs_expected${kind.key}`] = admitted;
  if (peak > RESERVED) result.notes.push(`${kind.label}: in-flight reached ${peak} > reserved ${RESERVED}: reserved concurrency leaked.`);
  if (!first) return;

  result.series['admitted req/s'] = figure.timeline.map((p) => ({ t: p.t, value: p.ok }));
  result.series['429/s'] = figure.timeline.map((p) => ({ t: p.t, value: p.throttled }));
  result.series['in flight'] = series.inFlight ?? [];
  result.series['expected admitted req/s'] = figure.timeline.map((p) => ({ t: p.t, value: expected }));
  result.charts.push(
    {
      title: 'Admitted vs throttled over time (representative run, thread environments)',
      kind: 'line',
      yLabel: 'req/s',
      logScale: true,
      keys: [
        { key: 'admitted req/s', label: 'admitted (2xx)' },
        { key: 'expected admitted req/s', label: 'expected R / D' },
        { key: '429/s', label: 'throttled (429)' },
      ],
    },
    { title: "In-flight invocations (Laminar's measured runs back to back, from /metrics)", kind: 'line', yLabel: 'count', keys: [{ key: 'in flight', label: `in flight (reserved ${RESERVED})` }] },
  );
}

export const throttle: Scenario = {
  name: 'throttle',
  title: 'Throttling (reserved concurrency)',
  description: `reserved concurrency ${RESERVED}, ${SLEEP_MS} ms invocations, ${CONNECTIONS} connections, in thread and in sandboxed process environments: admitted rate and 429 cost`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const connections = ctx.settings.connections ?? CONNECTIONS;
    await withLaminar({}, async (server) => {
      for (const kind of KINDS) await measureKind(ctx, result, server, kind, connections);
    });
  },
};
