/**
 * provisioned: the same function on an alias with provisioned concurrency and on demand, under
 * the same ramp of connections. Provisioned environments are initialised before traffic, so the
 * alias should see no cold starts up to its provisioned count, while on demand pays one per new
 * level of concurrency.
 */
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { startSampler, type SeriesPoint } from '../harness/prom.js';
import { provisionAndWait, provisionedProbes } from '../harness/provisioned.js';
import { runRamp, type RampStep } from '../harness/ramp.js';
import type { ScenarioResult } from '../harness/result.js';
import { median, stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

export const PROVISIONED = 8;
const SLEEP_MS = 20;
const ALIAS = 'live';

interface RampOutcome {
  cold: number;
  ok: number;
  /** p99 and max per step, ms. */
  p99: number[];
  max: number[];
}

async function ramp(server: LaminarServer, path: string, steps: RampStep[]): Promise<RampOutcome> {
  let cold = 0;
  let ok = 0;
  const r = await runRamp(
    {
      url: server.url,
      path,
      body: '{}',
      onHeaders: (status, headers) => {
        if (status !== 200) return;
        ok++;
        if (headers['x-laminar-cold-start'] === 'true') cold++;
      },
    },
    steps,
  );
  return { cold, ok, p99: r.steps.map((s) => s.run.latency.p99), max: r.steps.map((s) => s.run.latency.max) };
}

export const provisioned: Scenario = {
  name: 'provisioned',
  title: 'Provisioned concurrency vs on demand',
  description: `alias with ${PROVISIONED} provisioned environments vs on demand, ramp 1→${PROVISIONED} connections`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const stepSeconds = Math.max(1, ctx.settings.durationSeconds / 2);
    const steps: RampStep[] = [1, 2, 4, PROVISIONED].map((connections) => ({ connections, seconds: stepSeconds }));
    await withLaminar({}, async (server) => {
      const pc = { cold: [] as number[], fraction: [] as number[], ready: [] as number[], p99: [] as number[][], max: [] as number[][] };
      const od = { cold: [] as number[], p99: [] as number[][], max: [] as number[][] };
      let capacity: Record<string, SeriesPoint[]> = {};
      for (let rep = 0; rep < ctx.settings.reps; rep++) {
        const [pcFn, odFn] = [`pc-${rep}`, `ondemand-${rep}`];
        await server.deploy(pcFn, 'sleep', { env: { SLEEP_MS: String(SLEEP_MS) } });
        await server.publishAlias(pcFn, ALIAS);
        pc.ready.push(await provisionAndWait(server, pcFn, ALIAS, PROVISIONED));
        await server.deploy(odFn, 'sleep', { env: { SLEEP_MS: String(SLEEP_MS) } });

        ctx.settings.log(`  ramp ${rep + 1}/${ctx.settings.reps}: provisioned alias, then on demand`);
        const sampler = startSampler(() => server.scrape(), provisionedProbes(pcFn, ALIAS));
        const onPc = await ramp(server, LaminarServer.invokePath(pcFn, ALIAS), steps);
        const series = await sampler.stop();
        const onOd = await ramp(server, LaminarServer.invokePath(odFn), steps);
        if (rep === 0) capacity = series;
        pc.cold.push(onPc.cold);
        pc.fraction.push(onPc.cold / Math.max(1, onPc.ok));
        pc.p99.push(onPc.p99);
        pc.max.push(onPc.max);
        od.cold.push(onOd.cold);
        od.p99.push(onOd.p99);
        od.max.push(onOd.max);
      }

      result.values.ready = { label: `PutProvisionedConcurrencyConfig(${PROVISIONED}) → READY`, unit: 's', stat: stat(pc.ready) };
      result.values.pcCold = { label: 'cold starts during the ramp, provisioned alias', unit: '', stat: stat(pc.cold) };
      result.values.odCold = { label: 'cold starts during the ramp, on demand', unit: '', stat: stat(od.cold) };
      const perStep = (runs: number[][], i: number) => stat(runs.map((r) => r[i] ?? Number.NaN));
      steps.forEach((s, i) => {
        result.values[`pcP99-${i}`] = { label: `p99 @${s.connections}, provisioned`, unit: 'ms', stat: perStep(pc.p99, i) };
        result.values[`odP99-${i}`] = { label: `p99 @${s.connections}, on demand`, unit: 'ms', stat: perStep(od.p99, i) };
      });
      result.ratios.cold_start_fraction = median(pc.fraction);
      const worst = (runs: number[][]) => median(runs.map((r) => Math.max(...r)));
      result.ratios.max_latency_vs_ondemand = worst(pc.max) / worst(od.max);

      const stepSeries = (runs: number[][]) => steps.map((s, i) => ({ t: s.connections, value: median(runs.map((r) => r[i] ?? Number.NaN)) }));
      result.series['p99 provisioned'] = stepSeries(pc.p99);
      result.series['p99 on demand'] = stepSeries(od.p99);
      result.series['max provisioned'] = stepSeries(pc.max);
      result.series['max on demand'] = stepSeries(od.max);
      for (const [k, v] of Object.entries(capacity)) result.series[`provisioned ${k}`] = v;
      result.charts.push(
        {
          title: 'Latency by ramp step (median over repetitions)',
          kind: 'line',
          xLabel: 'connections',
          yLabel: 'ms',
          keys: [
            { key: 'p99 provisioned', label: 'p99, provisioned alias' },
            { key: 'p99 on demand', label: 'p99, on demand' },
            { key: 'max provisioned', label: 'max, provisioned alias' },
            { key: 'max on demand', label: 'max, on demand' },
          ],
        },
        {
          title: 'Provisioned capacity vs use during the first ramp (from /metrics)',
          kind: 'line',
          yLabel: 'environments',
          keys: [
            { key: 'provisioned allocated', label: 'allocated' },
            { key: 'provisioned executions', label: 'in use' },
          ],
        },
      );
    });
  },
};
