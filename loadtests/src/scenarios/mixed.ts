/**
 * mixed: many functions at once, with different memory sizes and durations and a skewed
 * popularity, on a host memory budget too small to keep them all warm. Idle environments are
 * evicted to make room, so some invocations start cold; the figures are the cold-start fraction
 * (from X-Laminar-Cold-Start), throughput, throttles for host capacity and evictions.
 */
import { compareToFloors } from '../harness/compare.js';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { measurePaired } from '../harness/measure.js';
import { counterRate, parseProm, promValue, startSampler } from '../harness/prom.js';
import type { ScenarioResult } from '../harness/result.js';
import { median, stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const CONNECTIONS = 10;
export const HOST_MEMORY_MB = 6144;
/** memory (MB) × handler duration (ms) per function; popularity falls as 1/(i+1) (Zipf). */
export const MIX = Array.from({ length: 12 }, (_, i) => ({
  name: `mixed-${i}`,
  memoryMb: [128, 256, 512][i % 3] as number,
  sleepMs: [0, 2, 10, 25][i % 4] as number,
  weight: 1 / (i + 1),
}));

/** A deterministic weighted picker (seeded LCG) so every run offers the same mix. */
export function weightedPicker(items: readonly { weight: number }[], seed = 42): () => number {
  const total = items.reduce((n, it) => n + it.weight, 0);
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    let r = (state / 2 ** 32) * total;
    for (let i = 0; i < items.length; i++) {
      r -= (items[i] as { weight: number }).weight;
      if (r < 0) return i;
    }
    return items.length - 1;
  };
}

export const mixed: Scenario = {
  name: 'mixed',
  title: 'Mixed functions under a tight memory budget',
  description: `${MIX.length} functions (128–512 MB, 0–25 ms, Zipf popularity), --host-memory-mb ${HOST_MEMORY_MB}: cold-start ratio, evictions`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const connections = ctx.settings.connections ?? CONNECTIONS;
    const label = `@${connections}`;
    await withLaminar({ flags: { 'host-memory-mb': HOST_MEMORY_MB } }, async (server) => {
      for (const f of MIX) await server.deploy(f.name, 'mixed', { memoryMb: f.memoryMb, env: { SLEEP_MS: String(f.sleepMs) } });
      ctx.settings.log(`  mixed at ${connections} connections (with the piscina floor)`);

      const pick = weightedPicker(MIX);
      const paths = MIX.map((f) => LaminarServer.invokePath(f.name));
      let counting = false;
      let cold = 0;
      let warmCount = 0;
      const perRep = { coldFraction: [] as number[], throttleFraction: [] as number[], evictions: [] as number[], evictionsPer1k: [] as number[] };
      let evictionsBefore = 0;
      const evictions = async () => promValue(parseProm(await server.scrape()), 'laminar_environment_evictions_total', { reason: 'capacity' }) ?? 0;
      const sampler = startSampler(
        () => server.scrape(),
        {
          environments: (s) => promValue(s, 'laminar_environments') ?? 0,
          inFlight: (s) => promValue(s, 'laminar_account_concurrent_executions') ?? 0,
          coldStarts: (s) => promValue(s, 'laminar_cold_starts_total') ?? 0,
          evictions: (s) => promValue(s, 'laminar_environment_evictions_total', { reason: 'capacity' }) ?? 0,
        },
        { paused: true },
      );
      const measured = await measurePaired(
        {
          url: server.url,
          path: paths[0] as string,
          body: '{}',
          connections,
          pickPath: () => paths[pick()] as string,
          onHeaders: (status, headers) => {
            if (!counting || status !== 200) return;
            if (headers['x-laminar-cold-start'] === 'true') cold++;
            else warmCount++;
          },
        },
        ['piscina'],
        ctx.floors,
        ctx.settings,
        {
          beforeRun: async () => {
            cold = 0;
            warmCount = 0;
            counting = true;
            evictionsBefore = await evictions();
            sampler.resume();
          },
          afterRun: async (_rep, run) => {
            counting = false;
            sampler.pause();
            const evicted = (await evictions()) - evictionsBefore;
            perRep.coldFraction.push(cold / Math.max(1, cold + warmCount));
            perRep.throttleFraction.push(run.throttled / Math.max(1, run.ok + run.throttled + run.other));
            perRep.evictions.push(evicted);
            perRep.evictionsPer1k.push((evicted / Math.max(1, run.ok)) * 1000);
          },
        },
      );
      const series = await sampler.stop();

      compareToFloors(result, label, `c${connections}`, measured);
      const { figure } = measured;
      result.values.coldFraction = { label: 'cold-start fraction of 2xx (X-Laminar-Cold-Start)', unit: '', stat: stat(perRep.coldFraction) };
      result.values.throttleFraction = { label: 'throttled fraction (429, host capacity)', unit: '', stat: stat(perRep.throttleFraction) };
      result.values.evictions = { label: 'capacity evictions per run', unit: '', stat: stat(perRep.evictions) };
      result.values.evictionsPer1k = { label: 'capacity evictions per 1,000 invocations', unit: '', stat: stat(perRep.evictionsPer1k) };
      result.ratios.cold_start_fraction = median(perRep.coldFraction);
      result.ratios.throttle_fraction = median(perRep.throttleFraction);
      result.ratioSpread.cold_start_fraction = result.values.coldFraction.stat;
      result.ratioSpread.throttle_fraction = result.values.throttleFraction.stat;
      if (median(perRep.evictions) === 0) result.notes.push(`no capacity evictions: --host-memory-mb ${HOST_MEMORY_MB} was not tight enough for this mix.`);

      result.series.environments = series.environments ?? [];
      result.series['in flight'] = series.inFlight ?? [];
      result.series['cold starts/s'] = counterRate(series.coldStarts ?? []);
      result.series['evictions/s'] = counterRate(series.evictions ?? []);
      result.series['req/s (representative run)'] = figure.timeline.map((p) => ({ t: p.t, value: p.ok }));
      result.charts.push(
        {
          title: "Cold starts and evictions over time (Laminar's measured runs back to back, from /metrics)",
          kind: 'line',
          yLabel: 'per second',
          keys: [
            { key: 'cold starts/s', label: 'cold starts/s' },
            { key: 'evictions/s', label: 'capacity evictions/s' },
          ],
        },
        {
          title: "Environments and concurrency (Laminar's measured runs back to back)",
          kind: 'line',
          yLabel: 'count',
          keys: [
            { key: 'environments', label: 'environments' },
            { key: 'in flight', label: 'in flight' },
          ],
        },
        { title: 'Throughput (representative run)', kind: 'line', yLabel: 'req/s', keys: [{ key: 'req/s (representative run)', label: 'Laminar, mixed' }] },
      );
    });
  },
};
