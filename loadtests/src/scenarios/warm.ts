/**
 * warm: a no-op function whose environments all exist before measuring, at 10 and 100
 * connections. What is left is the invoke path itself: HTTP, routing, the registry lookup,
 * admission, placement, the piscina round trip, logs and metrics.
 */
import { compareToFloors } from '../harness/compare.js';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { runLoad } from '../harness/load.js';
import { measurePaired } from '../harness/measure.js';
import { counterRate, parseProm, promValue, schedulerProbes, startSampler } from '../harness/prom.js';
import type { ScenarioResult } from '../harness/result.js';
import { stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

export const WARM_CONNECTIONS = [10, 100];
const FUNCTION = 'warm-noop';

/** How long each request of a prewarm burst holds its environment: longer than the burst takes to arrive. */
const HOLD_MS = 300;

/**
 * Creates one environment per connection before anything is timed, as the floors start one backend
 * per connection: bursts of `connections` requests at once, each holding its environment for
 * HOLD_MS (the no-op fixtures read `holdMs`), so each needs an environment of its own. It ends with
 * a burst that starts none, which shows every connection has one (or after four bursts: a host
 * short of memory may never keep that many, and the run then reports its cold starts). Bursts of the measured no-op
 * would not do: its requests overlap only as far as the server's main thread lets them, so new
 * environments would keep starting, one race at a time, while measuring.
 */
export async function prewarm(server: LaminarServer, path: string, connections: number): Promise<void> {
  const coldStarts = async () => promValue(parseProm(await server.scrape()), 'laminar_cold_starts_total') ?? 0;
  const body = JSON.stringify({ holdMs: HOLD_MS });
  for (let i = 0, before = await coldStarts(); i < 4; i++) {
    await runLoad({ url: server.url, path, body, connections, amount: connections });
    const after = await coldStarts();
    if (after === before) return;
    before = after;
  }
}

export const warm: Scenario = {
  name: 'warm',
  title: 'Warm invokes',
  description: 'no-op function, pre-warmed, at 10 and 100 connections: req/s and latency vs the floors',
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const connectionCounts = ctx.settings.connections ? [ctx.settings.connections] : WARM_CONNECTIONS;
    await withLaminar({}, async (server) => {
      await server.deploy(FUNCTION, 'noop');
      const path = LaminarServer.invokePath(FUNCTION);
      for (const connections of connectionCounts) {
        const label = `@${connections}`;
        ctx.settings.log(`  warm at ${connections} connections (with both floors)`);
        await prewarm(server, path, connections);
        let coldBefore = 0;
        // Sampled only while Laminar's own runs go on (the floors run in between).
        const sampler = startSampler(() => server.scrape(), schedulerProbes(FUNCTION), { paused: true });
        const measured = await measurePaired({ url: server.url, path, body: '{}', connections }, ['piscina', 'echo'], ctx.floors, ctx.settings, {
          afterWarmup: async () => {
            coldBefore = promValue(parseProm(await server.scrape()), 'laminar_cold_starts_total') ?? 0;
          },
          beforeRun: () => sampler.resume(),
          afterRun: () => sampler.pause(),
        });
        const series = await sampler.stop();
        const coldDuring = (promValue(parseProm(await server.scrape()), 'laminar_cold_starts_total') ?? 0) - coldBefore;

        compareToFloors(result, label, `c${connections}`, measured);
        const { figure } = measured;
        const piscina = measured.floors.piscina?.figure;
        const echo = measured.floors.echo?.figure;
        result.values[`${label} cold starts while measuring`] = { label: `cold starts while measuring ${label}`, unit: '', stat: stat([coldDuring]) };
        if (coldDuring > 0) result.notes.push(`${coldDuring} cold start(s) happened during the measured runs at ${label}: pre-warming fell short.`);

        result.series[`${label} invocations/s`] = counterRate(series.invocations ?? []);
        result.series[`${label} in flight`] = series.concurrency ?? [];
        result.series[`${label} environments`] = series.environments ?? [];
        result.series[`${label} req/s (representative run)`] = figure.timeline.map((p) => ({ t: p.t, value: p.ok }));
        result.series[`${label} floor piscina req/s`] = (piscina?.timeline ?? []).map((p) => ({ t: p.t, value: p.ok }));
        result.series[`${label} floor echo req/s`] = (echo?.timeline ?? []).map((p) => ({ t: p.t, value: p.ok }));
        result.charts.push(
          {
            title: `Throughput over time ${label}, one representative run each`,
            kind: 'line',
            yLabel: 'req/s',
            keys: [
              { key: `${label} req/s (representative run)`, label: 'Laminar' },
              { key: `${label} floor piscina req/s`, label: 'Fastify + piscina' },
              { key: `${label} floor echo req/s`, label: 'Fastify echo' },
            ],
          },
          {
            title: `Concurrency over time ${label} (Laminar's measured runs back to back, from /metrics)`,
            kind: 'line',
            yLabel: 'count',
            keys: [
              { key: `${label} in flight`, label: 'in-flight invocations' },
              { key: `${label} environments`, label: 'environments' },
            ],
          },
        );
      }
    });
  },
};
